/**
 * What the transcript shows for a stretch of the log: events folded into items a person reads —
 * messages, thinking, tool calls paired with their results, errors, notices and a usage line
 * per turn. Bookkeeping events (request spans, status changes) fold into those. Pure: no I/O.
 */
import type { ContentBlock, StoredEvent, Usage } from '#shared/events';
import { TOOL_NAME_SEPARATOR } from '#shared/hands';
import { describeHand } from './format.ts';

export interface ToolResultView {
  seq: number;
  text: string;
  images: number;
  isError: boolean;
  status: 'completed' | 'interrupted' | 'timed_out';
  durationMs: number | undefined;
}

export type TranscriptItem =
  | { kind: 'user'; key: string; seq: number; text: string; images: number }
  | { kind: 'agent'; key: string; seq: number; text: string }
  | { kind: 'thinking'; key: string; seq: number; text: string; redacted: boolean }
  | {
      kind: 'tool';
      key: string;
      seq: number;
      toolUseId: string;
      /** The hand (or MCP server) it ran on, when known. */
      on: string | null;
      name: string;
      /** A one-line summary of the input: the command, the file… */
      summary: string;
      input: Record<string, unknown>;
      /** Undefined while it runs (or when the cursor is before its result). */
      result: ToolResultView | undefined;
    }
  | { kind: 'notice'; key: string; seq: number; tone: 'info' | 'warn' | 'error'; text: string }
  | {
      kind: 'turn-end';
      key: string;
      seq: number;
      requests: number;
      usage: Usage;
      durationMs: number;
      stopReason: string;
    }
  | { kind: 'branch'; key: string; seq: number; parentSessionId: string; atSeq: number };

export type ItemKind = TranscriptItem['kind'];

const ZERO_USAGE: Usage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** Items for `events` (ascending, up to the cursor); results later than the cursor are not there. */
export function transcriptItems(events: readonly StoredEvent[], titleOf: (sessionId: string) => string | undefined): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  const tools = new Map<string, Extract<TranscriptItem, { kind: 'tool' }>>();
  let turn = { requests: 0, usage: { ...ZERO_USAGE }, durationMs: 0 };

  for (const event of events) {
    const key = `e${event.seq}`;
    const seq = event.seq;
    switch (event.type) {
      case 'user.message':
        items.push({ kind: 'user', key, seq, text: textOf(event.payload.content), images: imagesIn(event.payload.content) });
        turn = { requests: 0, usage: { ...ZERO_USAGE }, durationMs: 0 };
        break;
      case 'user.interrupt':
        items.push({ kind: 'notice', key, seq, tone: 'warn', text: `You stopped Claude${event.payload.reason ? `: ${event.payload.reason}` : '.'}` });
        break;
      case 'user.define_outcome':
        items.push({ kind: 'notice', key, seq, tone: 'info', text: `Outcome to reach: ${event.payload.description} (at most ${event.payload.max_iterations} iterations)` });
        break;
      case 'agent.message': {
        const text = textOf(event.payload.content);
        if (text.trim() !== '') items.push({ kind: 'agent', key, seq, text });
        break;
      }
      case 'agent.thinking':
        items.push(
          'thinking' in event.payload
            ? { kind: 'thinking', key, seq, text: event.payload.thinking, redacted: false }
            : { kind: 'thinking', key, seq, text: '', redacted: true },
        );
        break;
      case 'agent.tool_use': {
        const { name, hand } = splitToolName(event.payload.name, event.payload.hand_id);
        const item = { kind: 'tool' as const, key, seq, toolUseId: event.payload.tool_use_id, on: hand, name, summary: inputSummary(name, event.payload.input), input: event.payload.input, result: undefined };
        tools.set(item.toolUseId, item);
        items.push(item);
        break;
      }
      case 'agent.mcp_tool_use': {
        const item = { kind: 'tool' as const, key, seq, toolUseId: event.payload.tool_use_id, on: event.payload.server_name, name: event.payload.name, summary: inputSummary(event.payload.name, event.payload.input), input: event.payload.input, result: undefined };
        tools.set(item.toolUseId, item);
        items.push(item);
        break;
      }
      case 'agent.tool_result':
      case 'agent.mcp_tool_result': {
        const payload = event.payload;
        const result: ToolResultView = {
          seq,
          text: textOf(payload.content, '\n\n'),
          images: imagesIn(payload.content),
          isError: payload.is_error,
          status: 'status' in payload ? payload.status : 'completed',
          durationMs: 'duration_ms' in payload ? payload.duration_ms : undefined,
        };
        const use = tools.get(payload.tool_use_id);
        if (use !== undefined) use.result = result;
        else items.push({ kind: 'notice', key, seq, tone: result.isError ? 'error' : 'info', text: `Result of an earlier tool call: ${firstLine(result.text)}` });
        break;
      }
      case 'agent.thread_context_compacted':
        items.push({ kind: 'notice', key, seq, tone: 'info', text: `Earlier context was summarised to fit the model's window (through event #${event.payload.through_seq}).` });
        break;
      case 'span.model_request_end':
        if (event.payload.purpose === 'turn') {
          turn.requests++;
          turn.durationMs += event.payload.duration_ms;
          for (const field of Object.keys(ZERO_USAGE) as (keyof Usage)[]) turn.usage[field] += event.payload.usage[field];
        }
        break;
      case 'session.status_idle': {
        const { type, message } = event.payload.stop_reason;
        if (type !== 'end_turn') items.push({ kind: 'notice', key: `${key}n`, seq, tone: type === 'interrupted' ? 'warn' : 'error', text: idleText(type, message) });
        if (turn.requests > 0) items.push({ kind: 'turn-end', key, seq, requests: turn.requests, usage: turn.usage, durationMs: turn.durationMs, stopReason: type });
        turn = { requests: 0, usage: { ...ZERO_USAGE }, durationMs: 0 };
        break;
      }
      case 'session.status_terminated':
        items.push({ kind: 'notice', key, seq, tone: 'error', text: `The session ended: ${event.payload.reason}` });
        break;
      case 'session.error': {
        const { error, retry_status: retry } = event.payload;
        const next = retry.type === 'retrying' ? ` Retrying (attempt ${retry.attempt})…` : retry.type === 'exhausted' ? ' Gave up after retrying.' : '';
        items.push({ kind: 'notice', key, seq, tone: retry.type === 'retrying' ? 'warn' : 'error', text: `${error.message}${error.status === undefined ? '' : ` (${error.status})`}.${next}` });
        break;
      }
      case 'span.outcome_evaluation_end':
        items.push({ kind: 'notice', key, seq, tone: event.payload.result === 'satisfied' ? 'info' : 'warn', text: `Outcome check ${event.payload.iteration}: ${event.payload.result.replaceAll('_', ' ')} — ${event.payload.explanation}` });
        break;
      case 'session.forked':
        items.push({ kind: 'branch', key, seq, parentSessionId: event.payload.parent_session_id, atSeq: event.payload.at_seq });
        break;
      case 'hand.ready':
        if (event.payload.restored_from !== undefined) {
          const from = event.payload.restored_from;
          const title = titleOf(from.session_id);
          items.push({ kind: 'notice', key, seq, tone: 'info', text: `${event.payload.hand_id} started with its files restored from the snapshot at event #${from.at_seq}${title === undefined ? '' : ` of “${title}”`}.` });
        }
        break;
      case 'hand.lost':
        items.push({ kind: 'notice', key, seq, tone: 'warn', text: `${event.payload.hand_id} was lost: ${event.payload.reason}. The next command starts a fresh one.` });
        break;
      case 'hand.failed':
        items.push({ kind: 'notice', key, seq, tone: 'error', text: `${event.payload.hand_id} could not start: ${event.payload.message}` });
        break;
      case 'hand.attached':
        items.push({ kind: 'notice', key, seq, tone: 'info', text: `Hand ${event.payload.hand_id} attached (${describeHand(event.payload.config)}).` });
        break;
      case 'hand.detached':
        items.push({ kind: 'notice', key, seq, tone: 'info', text: `Hand ${event.payload.hand_id} detached.` });
        break;
      default:
        break;
    }
  }
  return items;
}

/** `box__bash` on hand `box` reads as bash on box. */
function splitToolName(qualified: string, handId: string | undefined): { name: string; hand: string | null } {
  const at = qualified.indexOf(TOOL_NAME_SEPARATOR);
  if (at > 0) return { hand: handId ?? qualified.slice(0, at), name: qualified.slice(at + TOOL_NAME_SEPARATOR.length) };
  return { hand: handId ?? null, name: qualified };
}

/** The part of a tool's input worth a glance: a command, a path, else compact JSON. */
export function inputSummary(name: string, input: Record<string, unknown>): string {
  const command = input['command'];
  const path = input['path'];
  if (name === 'bash' && typeof command === 'string') return command;
  if (input['restart'] === true) return 'restart the shell';
  if (typeof command === 'string' && typeof path === 'string') return `${command} ${path}`;
  if (typeof path === 'string') return path;
  const json = JSON.stringify(input);
  return json.length > 300 ? `${json.slice(0, 299)}…` : json;
}

function textOf(blocks: readonly ContentBlock[], separator = '\n\n'): string {
  return blocks
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join(separator);
}

function imagesIn(blocks: readonly ContentBlock[]): number {
  return blocks.filter((block) => block.type === 'image').length;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function idleText(type: string, message: string | undefined): string {
  const reasons: Record<string, string> = {
    max_tokens: 'Claude stopped at the output limit (max tokens). Send “continue” or raise the limit in the session settings.',
    interrupted: 'Stopped.',
    refusal: 'Claude declined to continue.',
    retries_exhausted: 'The API kept failing; Drover gave up retrying.',
    authentication_failed: 'The API refused the key. Check ANTHROPIC_API_KEY or the key in Settings.',
    model_context_window_exceeded: 'The conversation no longer fits the model’s context window.',
    error: 'The turn failed.',
    pause_turn: 'Claude paused the turn.',
    stop_sequence: 'Claude hit a stop sequence.',
  };
  const base = reasons[type] ?? `Stopped (${type.replaceAll('_', ' ')}).`;
  return message === undefined || message === '' ? base : `${base} ${message}`;
}

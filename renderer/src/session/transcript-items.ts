/**
 * What the transcript shows for a stretch of the log: events folded into items a person reads —
 * messages, thinking, tool calls paired with their results, errors, notices and a usage line
 * per turn. Bookkeeping events (request spans, status changes) fold into those. Pure: no I/O.
 */
import type { ContentBlock, OutcomeResult, StoredEvent, Usage } from '#shared/events';
import { TOOL_NAME_SEPARATOR, type HandConfig } from '#shared/hands';
import { describeHand } from '#renderer/ui/format.ts';
import type { ThreadItem } from './thread-items.ts';

export interface ToolResultView {
  seq: number;
  text: string;
  images: number;
  isError: boolean;
  status: 'completed' | 'interrupted' | 'timed_out';
  durationMs: number | undefined;
  /** An MCP tool's structured result (`structured_content`), when it gave one. */
  structured?: Record<string, unknown> | undefined;
  /** The hand's checkpoint after this call (issue 20): how many paths it changed (the Changes tab lists them). */
  files?: { hand: string; changed: number };
}

export type TranscriptItem =
  | ThreadItem
  | {
      kind: 'user';
      key: string;
      seq: number;
      text: string;
      images: number;
      /** Sent while a response was being written: the model reads it after that response, so it is shown there. */
      queued?: boolean;
    }
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
      /** The session's policy asked the user before running it (it waits for an answer while it has no result). */
      asked: boolean;
      /** A custom tool: the program driving the session runs it (it waits for that program's result while it has none). */
      custom?: boolean;
    }
  | {
      kind: 'notice';
      key: string;
      seq: number;
      tone: 'info' | 'warn' | 'error';
      text: string;
      /** 'api-key': no key was set, so nothing was sent; the view adds how to give one here. */
      help?: 'api-key';
    }
  | {
      kind: 'turn-end';
      key: string;
      seq: number;
      requests: number;
      usage: Usage;
      durationMs: number;
      stopReason: string;
    }
  | { kind: 'branch'; key: string; seq: number; parentSessionId: string; atSeq: number }
  | {
      /** The user defined (or replaced) the outcome the next turns are checked against. */
      kind: 'outcome-defined';
      key: string;
      seq: number;
      description: string;
      rubric: string;
      maxIterations: number;
      verification: { handId: string; command: string } | null;
      /** The grader's own model, or null for the session's. */
      graderModel: string | null;
    }
  | {
      /** A grader's check under way: its start is at the cursor, its end not (yet). */
      kind: 'outcome-checking';
      key: string;
      seq: number;
      iteration: number;
      /** The outcome's limit, when its definition is in the events shown. */
      maxIterations: number | null;
    }
  | {
      /** A grader's verdict on the work against the outcome. */
      kind: 'outcome-check';
      key: string;
      seq: number;
      iteration: number;
      maxIterations: number | null;
      result: OutcomeResult;
      /** Markdown. */
      explanation: string;
      criteria: { criterion: string; met: boolean; note: string }[];
      verification: OutcomeVerificationView | null;
    };

export interface OutcomeVerificationView {
  handId: string;
  command: string;
  output: string;
  isError: boolean;
}

export type ItemKind = TranscriptItem['kind'];

const ZERO_USAGE: Usage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** Items for `events` (ascending, up to the cursor); results later than the cursor are not there. `other`: an item for an event this has none for (threads). */
export function transcriptItems(
  events: readonly StoredEvent[],
  titleOf: (sessionId: string) => string | undefined,
  other?: (event: StoredEvent) => TranscriptItem | null,
): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  const tools = new Map<string, Extract<TranscriptItem, { kind: 'tool' }>>();
  /** Tool results by their event, for the checkpoint that follows each (`hand.checkpoint` names it by `at_seq`). */
  const results = new Map<number, ToolResultView>();
  /** Each hand's configuration as last attached, and the detach just before (a change is recorded as detach + attach). */
  const handConfigs = new Map<string, HandConfig>();
  let justDetached: { hand: string; seq: number; index: number } | null = null;
  let turn = { requests: 0, usage: { ...ZERO_USAGE }, durationMs: 0 };
  let maxIterations: number | null = null;
  /** Checks started and not ended yet, by iteration: their item is replaced by the verdict. */
  const checking = new Map<number, number>();
  /** User messages logged while a request was in flight: the model reads them after its response (as `harness/context.ts` does). */
  let inFlight = false;
  let deferred: Extract<TranscriptItem, { kind: 'user' }>[] = [];
  /** The notice of a terminal error just before: the idle that ends the turn says it once, in full. */
  let terminalError: { index: number; noKey: boolean } | null = null;
  /** The user pressed Stop: the turn's end needs no second note. */
  let interrupted = false;

  for (const event of events) {
    const key = `e${event.seq}`;
    const seq = event.seq;
    switch (event.type) {
      case 'user.message': {
        const item = { kind: 'user' as const, key, seq, text: textOf(event.payload.content), images: imagesIn(event.payload.content) };
        if (inFlight) {
          deferred.push(item);
          break;
        }
        items.push(item);
        turn = { requests: 0, usage: { ...ZERO_USAGE }, durationMs: 0 };
        interrupted = false;
        break;
      }
      case 'user.interrupt':
        items.push({
          kind: 'notice',
          key,
          seq,
          tone: 'warn',
          text: `You stopped Claude${event.payload.reason ? `: ${event.payload.reason}` : '.'}`,
        });
        interrupted = true;
        break;
      case 'user.define_outcome': {
        const { description, rubric, max_iterations: max, verification, grader_model: graderModel } = event.payload;
        maxIterations = max;
        checking.clear();
        items.push({
          kind: 'outcome-defined',
          key,
          seq,
          description,
          rubric,
          maxIterations: max,
          verification: verification === undefined ? null : { handId: verification.hand_id, command: verification.command },
          graderModel,
        });
        break;
      }
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
        const item = {
          kind: 'tool' as const,
          key,
          seq,
          toolUseId: event.payload.tool_use_id,
          on: hand,
          name,
          summary: inputSummary(name, event.payload.input),
          input: event.payload.input,
          result: undefined,
          asked: event.payload.evaluated_permission === 'ask',
        };
        tools.set(item.toolUseId, item);
        items.push(item);
        break;
      }
      case 'agent.mcp_tool_use': {
        // The log may hold the name the model saw (`server__tool`): the server's name is already shown.
        const prefix = `${event.payload.server_name}${TOOL_NAME_SEPARATOR}`;
        const name = event.payload.name.startsWith(prefix) ? event.payload.name.slice(prefix.length) : event.payload.name;
        const item = {
          kind: 'tool' as const,
          key,
          seq,
          toolUseId: event.payload.tool_use_id,
          on: event.payload.server_name,
          name,
          summary: inputSummary(name, event.payload.input),
          input: event.payload.input,
          result: undefined,
          asked: event.payload.evaluated_permission === 'ask',
        };
        tools.set(item.toolUseId, item);
        items.push(item);
        break;
      }
      case 'agent.custom_tool_use': {
        const item = {
          kind: 'tool' as const,
          key,
          seq,
          toolUseId: event.payload.tool_use_id,
          on: null,
          name: event.payload.name,
          summary: inputSummary(event.payload.name, event.payload.input),
          input: event.payload.input,
          result: undefined,
          asked: false,
          custom: true,
        };
        // Its answer names the event, not the tool use.
        tools.set(event.id, item);
        items.push(item);
        break;
      }
      case 'user.custom_tool_result': {
        const use = tools.get(event.payload.custom_tool_use_id);
        if (use !== undefined)
          use.result = {
            seq,
            text: textOf(event.payload.content, '\n\n'),
            images: imagesIn(event.payload.content),
            isError: event.payload.is_error,
            status: 'completed',
            durationMs: undefined,
          };
        break;
      }
      case 'system.message':
        items.push({ kind: 'notice', key, seq, tone: 'info', text: `System message for Claude: ${textOf(event.payload.content)}` });
        break;
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
          structured: 'structured_content' in payload ? payload.structured_content : undefined,
        };
        const use = tools.get(payload.tool_use_id);
        results.set(seq, result);
        if (use !== undefined) use.result = result;
        else
          items.push({
            kind: 'notice',
            key,
            seq,
            tone: result.isError ? 'error' : 'info',
            text: `Result of an earlier tool call: ${firstLine(result.text)}`,
          });
        break;
      }
      case 'hand.checkpoint': {
        const result = results.get(event.payload.at_seq);
        if (result !== undefined) result.files = { hand: event.payload.hand_id, changed: event.payload.changed_paths };
        break;
      }
      case 'agent.thread_context_compacted':
        items.push({
          kind: 'notice',
          key,
          seq,
          tone: 'info',
          text: `Earlier context was summarised to fit the model's window (through event #${event.payload.through_seq}).`,
        });
        break;
      case 'span.model_request_start':
        if (event.payload.purpose === 'turn') inFlight = true;
        break;
      case 'span.model_request_end':
        if (event.payload.purpose === 'turn') {
          inFlight = false;
          if (deferred.length > 0) {
            items.push(...deferred);
            deferred = [];
          }
          turn.requests++;
          turn.durationMs += event.payload.duration_ms;
          for (const field of Object.keys(ZERO_USAGE) as (keyof Usage)[]) turn.usage[field] += event.payload.usage[field];
        }
        break;
      case 'session.status_idle': {
        const { type, message } = event.payload.stop_reason;
        if (type === 'authentication_failed' && terminalError?.noKey === true) {
          // No key was set, so none was sent, and none was refused.
          items.splice(terminalError.index, 1, {
            kind: 'notice',
            key: `${key}n`,
            seq,
            tone: 'error',
            text: 'No Anthropic API key is set, so nothing was sent to Claude.',
            help: 'api-key',
          });
        } else if (type === 'interrupted' && interrupted) {
          // “You stopped Claude” already says it.
        } else if (type !== 'end_turn') {
          const notice = {
            kind: 'notice' as const,
            key: `${key}n`,
            seq,
            tone: WAITING_STOPS.has(type) ? ('warn' as const) : ('error' as const),
            text: idleText(type, message),
          };
          if (terminalError !== null && message !== undefined && message !== '') items.splice(terminalError.index, 1, notice);
          else items.push(notice);
        }
        terminalError = null;
        interrupted = false;
        if (turn.requests > 0)
          items.push({
            kind: 'turn-end',
            key,
            seq,
            requests: turn.requests,
            usage: turn.usage,
            durationMs: turn.durationMs,
            stopReason: type,
          });
        turn = { requests: 0, usage: { ...ZERO_USAGE }, durationMs: 0 };
        break;
      }
      case 'session.status_terminated':
        items.push({ kind: 'notice', key, seq, tone: 'error', text: `The session ended: ${event.payload.reason}` });
        break;
      case 'session.error': {
        const { error, retry_status: retry } = event.payload;
        const next =
          retry.type === 'retrying'
            ? ` Retrying (attempt ${retry.attempt})…`
            : retry.type === 'exhausted'
              ? ' Gave up after retrying.'
              : '';
        if (retry.type === 'terminal')
          terminalError = { index: items.length, noKey: error.type === 'authentication_error' && error.status === undefined };
        items.push({
          kind: 'notice',
          key,
          seq,
          tone: retry.type === 'retrying' ? 'warn' : 'error',
          text: `${error.message.replace(/\.$/, '')}${error.status === undefined ? '' : ` (${error.status})`}.${next}`,
        });
        break;
      }
      case 'span.outcome_evaluation_start':
        checking.set(event.payload.iteration, items.length);
        items.push({ kind: 'outcome-checking', key, seq, iteration: event.payload.iteration, maxIterations });
        break;
      case 'span.outcome_evaluation_end': {
        const { iteration, result, explanation, criteria, verification } = event.payload;
        const at = checking.get(iteration);
        checking.delete(iteration);
        const started = at === undefined ? undefined : items[at];
        const item: TranscriptItem = {
          kind: 'outcome-check',
          // The start's key: the card keeps its place and its open/closed parts when the verdict lands.
          key: started?.kind === 'outcome-checking' ? started.key : key,
          seq,
          iteration,
          maxIterations,
          result,
          explanation,
          criteria: criteria ?? [],
          verification:
            verification === undefined
              ? null
              : {
                  handId: verification.hand_id,
                  command: verification.command,
                  output: verification.output,
                  isError: verification.is_error,
                },
        };
        if (at !== undefined && started?.kind === 'outcome-checking') items[at] = item;
        else items.push(item);
        break;
      }
      case 'session.forked':
        items.push({ kind: 'branch', key, seq, parentSessionId: event.payload.parent_session_id, atSeq: event.payload.at_seq });
        break;
      case 'hand.ready':
        if (event.payload.restored_from !== undefined) {
          const from = event.payload.restored_from;
          const title = titleOf(from.session_id);
          const notice = {
            kind: 'notice' as const,
            key,
            seq,
            tone: 'info' as const,
            text: `${event.payload.hand_id} started with its files restored from the snapshot at event #${from.at_seq}${title === undefined ? '' : ` of “${title}”`}.`,
          };
          // A hand starts for the tool call waiting for it: the note goes before that call, whose output it explains.
          const waiting = items.findIndex((item) => item.kind === 'tool' && item.on === event.payload.hand_id && item.result === undefined);
          if (waiting === -1) items.push(notice);
          else {
            items.splice(waiting, 0, notice);
            for (const [iteration, at] of checking) if (at >= waiting) checking.set(iteration, at + 1);
          }
        }
        break;
      case 'hand.lost':
        items.push({
          kind: 'notice',
          key,
          seq,
          tone: 'warn',
          text: `${event.payload.hand_id} was lost: ${event.payload.reason}. The next command starts a fresh one.`,
        });
        break;
      case 'hand.failed':
        items.push({ kind: 'notice', key, seq, tone: 'error', text: `${event.payload.hand_id} could not start: ${event.payload.message}` });
        break;
      case 'hand.attached': {
        const { hand_id: hand, config } = event.payload;
        const before = handConfigs.get(hand);
        handConfigs.set(hand, config);
        if (justDetached !== null && justDetached.hand === hand && justDetached.seq === seq - 1 && before !== undefined) {
          // 'hands-update': the hand's settings changed in place; one notice says what.
          items.splice(justDetached.index, 1, { kind: 'notice', key, seq, tone: 'info', text: handChangeText(hand, before, config) });
        } else {
          items.push({ kind: 'notice', key, seq, tone: 'info', text: `Hand ${hand} attached (${describeHand(config)}).` });
        }
        justDetached = null;
        break;
      }
      case 'hand.detached':
        justDetached = { hand: event.payload.hand_id, seq, index: items.length };
        items.push({ kind: 'notice', key, seq, tone: 'info', text: `Hand ${event.payload.hand_id} detached.` });
        break;
      default: {
        const item = other?.(event) ?? null;
        if (item !== null) items.push(item);
        break;
      }
    }
  }
  // Still waiting for the response in flight (or the cursor is before its end).
  for (const item of deferred) items.push({ ...item, queued: true });
  return items;
}

/** What changed when a hand was reconfigured: an MCP server or some of its tools turned on or off. */
export function handChangeText(hand: string, before: HandConfig, after: HandConfig): string {
  if (before.kind === 'mcp' && after.kind === 'mcp') {
    if (before.enabled !== after.enabled)
      return after.enabled
        ? `MCP server ${hand} turned on: its tools are offered again.`
        : `MCP server ${hand} turned off: its tools are no longer offered.`;
    const off = after.disabled_tools.filter((tool) => !before.disabled_tools.includes(tool));
    const on = before.disabled_tools.filter((tool) => !after.disabled_tools.includes(tool));
    const marked = (after.writing_tools ?? []).filter((tool) => !(before.writing_tools ?? []).includes(tool));
    const unmarked = (before.writing_tools ?? []).filter((tool) => !(after.writing_tools ?? []).includes(tool));
    const parts = [
      off.length > 0 ? `${off.join(', ')} turned off` : null,
      on.length > 0 ? `${on.join(', ')} turned back on` : null,
      marked.length > 0 ? `${marked.join(', ')} marked as changing files (Drover checkpoints the session's files after each call)` : null,
      unmarked.length > 0 ? `${unmarked.join(', ')} no longer marked as changing files` : null,
    ].filter((part) => part !== null);
    if (parts.length > 0) return `Tools of ${hand}: ${parts.join('; ')}.`;
  }
  return `Hand ${hand} changed (${describeHand(after)}).`;
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

/** Stops that wait for the user rather than fail: a stop, an approval, a budget (guardrails). */
const WAITING_STOPS: ReadonlySet<string> = new Set(['interrupted', 'requires_action', 'budget_reached']);

function idleText(type: string, message: string | undefined): string {
  const reasons: Record<string, string> = {
    max_tokens: 'Claude stopped at the output limit (max tokens). Send “continue” or raise the limit in the session settings.',
    interrupted: 'Stopped.',
    refusal: 'Claude declined to continue.',
    retries_exhausted: 'The API kept failing; Drover gave up retrying.',
    authentication_failed: 'The API refused the key.',
    model_context_window_exceeded: 'The conversation no longer fits the model’s context window.',
    error: 'The turn failed.',
    pause_turn: 'Claude paused the turn.',
    stop_sequence: 'Claude hit a stop sequence.',
    requires_action: 'Waiting for you.',
    budget_reached: 'Stopped at the budget.',
  };
  const base = reasons[type] ?? `Stopped (${type.replaceAll('_', ' ')}).`;
  // The harness's message says what happened and what to do, in full.
  if (type === 'authentication_failed')
    return message === undefined || message === '' ? `${base} Check ANTHROPIC_API_KEY or the key in Settings.` : message;
  return message === undefined || message === '' ? base : `${base} ${message}`;
}

/** A message longer than this (characters or lines) is folded in the transcript until "Show all". */
export const FOLD_CHARS = 3000;
export const FOLD_LINES = 40;

/** The head of a long message, cut at a line end where one is near; null when it is short enough to show whole. */
export function foldedText(text: string): string | null {
  let lines = 0;
  let at = -1;
  while (lines < FOLD_LINES) {
    at = text.indexOf('\n', at + 1);
    if (at === -1) break;
    lines++;
  }
  const byLines = at === -1 ? text.length : at;
  if (text.length <= FOLD_CHARS && byLines === text.length) return null;
  let cut = Math.min(byLines, FOLD_CHARS);
  const lineEnd = text.lastIndexOf('\n', cut);
  if (lineEnd > cut * 0.7) cut = lineEnd;
  return text.slice(0, cut).trimEnd();
}

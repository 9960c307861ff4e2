/**
 * Text the UI shows for stored data: one-line event summaries and local times.
 * Pure functions: no I/O, and never more than the data itself says.
 */
import type { ContentBlock, OutcomeResult, StoredEvent } from '#shared/events';
import type { HandConfig, McpTransport } from '#shared/hands';
import type { OutcomeSummary, SessionStatus } from '#shared/sessions';
import { withoutTerminalCodes } from './ansi.ts';

const MAX_SUMMARY_CHARS = 240;

/** A one-line summary of the event's payload; `titleOf` names a session id when it can. */
export function summarizeEvent(event: StoredEvent, titleOf: (sessionId: string) => string | undefined): string {
  return oneLine(describe(event, titleOf));
}

function describe(event: StoredEvent, titleOf: (sessionId: string) => string | undefined): string {
  switch (event.type) {
    case 'user.message':
      return blocksText(event.payload.content);
    case 'user.interrupt':
      return event.payload.reason ?? 'Interrupted by the user';
    case 'user.define_outcome':
      return `Outcome: ${event.payload.description} (at most ${plural(event.payload.max_iterations, 'iteration')})`;
    case 'agent.message':
      return blocksText(event.payload.content);
    case 'agent.thinking':
      return 'thinking' in event.payload ? event.payload.thinking : '(redacted thinking)';
    case 'agent.tool_use':
      return `${event.payload.name} ${JSON.stringify(event.payload.input)}${event.payload.hand_id ? ` on ${event.payload.hand_id}` : ''}`;
    case 'agent.tool_result':
      return `${resultLabel(event.payload.is_error, event.payload.status)}${duration(event.payload.duration_ms)}: ${blocksText(event.payload.content)}`;
    case 'agent.mcp_tool_use':
      return `${event.payload.name} ${JSON.stringify(event.payload.input)} on ${event.payload.server_name}`;
    case 'agent.mcp_tool_result':
      return `${event.payload.is_error ? 'Error' : 'OK'}: ${blocksText(event.payload.content)}`;
    case 'agent.thread_context_compacted':
      return `Context compacted through #${event.payload.through_seq}: ${event.payload.summary}`;
    case 'session.status_running':
      return 'Running';
    case 'session.status_idle': {
      const { type, message } = event.payload.stop_reason;
      return `Idle (${type.replaceAll('_', ' ')})${message ? `: ${message}` : ''}`;
    }
    case 'session.status_terminated':
      return `Terminated: ${event.payload.reason}`;
    case 'session.error': {
      const { error, retry_status: retry } = event.payload;
      const retryText =
        retry.type === 'retrying'
          ? `retrying (attempt ${retry.attempt}, in ${formatDuration(retry.delay_ms)})`
          : retry.type === 'exhausted'
            ? 'retries exhausted'
            : 'not retried';
      return `${error.type}${error.status === undefined ? '' : ` ${error.status}`}: ${error.message} — ${retryText}`;
    }
    case 'span.model_request_start':
      return `Request to ${event.payload.model}`;
    case 'span.model_request_end': {
      const { model, usage, stop_reason: stop, is_error: isError, duration_ms: ms } = event.payload;
      const cached = usage.cache_read_input_tokens > 0 ? `, ${usage.cache_read_input_tokens} cached` : '';
      return `${model}${isError ? ' failed' : ''} in ${formatDuration(ms)}: ${usage.input_tokens} in${cached}, ${usage.output_tokens} out${stop ? ` (${stop.replaceAll('_', ' ')})` : ''}`;
    }
    case 'span.outcome_evaluation_start':
      return `Evaluating outcome, iteration ${event.payload.iteration}`;
    case 'span.outcome_evaluation_end':
      return `Iteration ${event.payload.iteration}: ${event.payload.result.replaceAll('_', ' ')} — ${event.payload.explanation}`;
    case 'hand.provisioning': {
      const { hand_id: hand, phase, message, progress } = event.payload;
      const percent = progress && progress.total > 0 ? ` ${Math.round((progress.current / progress.total) * 100)}%` : '';
      return `${hand}: ${phase}${percent}${message ? ` — ${message}` : ''}`;
    }
    case 'hand.ready': {
      const { hand_id: hand, detail, restored_from: restored } = event.payload;
      const from = restored ? ` — files from event #${restored.at_seq} of ${quoted(titleOf(restored.session_id))}` : '';
      return `${hand} ready${detail ? ` — ${detail}` : ''}${from}`;
    }
    case 'hand.lost':
      return `${event.payload.hand_id} lost: ${event.payload.reason}`;
    case 'hand.failed':
      return `${event.payload.hand_id} could not start: ${event.payload.message}`;
    case 'hand.attached': {
      const { hand_id: hand, config } = event.payload;
      if (config.kind !== 'docker') return `Hand ${hand} attached: ${describeHand(config)}`;
      return `Hand ${hand} attached: Docker ${config.image}, network ${config.network}${config.mounts.length > 0 ? `, ${config.mounts.length} mount${config.mounts.length === 1 ? '' : 's'}` : ''}`;
    }
    case 'hand.detached':
      return `Hand ${event.payload.hand_id} detached`;
    case 'hand.checkpoint': {
      const { hand_id: hand, at_seq: at, changed_paths: paths, bytes_stored: bytes } = event.payload;
      return `${hand}: files after event #${at} (${paths} ${paths === 1 ? 'path' : 'paths'} changed, ${formatBytes(bytes)} stored)`;
    }
    case 'hand.checkpoints_pruned': {
      const { hand_id: hand, at_seqs: seqs, reason } = event.payload;
      return `${hand}: ${seqs.length} older ${seqs.length === 1 ? 'checkpoint' : 'checkpoints'} thinned (${reason}); a fork there restores the nearest kept one`;
    }
    case 'hand.snapshot': {
      const { hand_id: hand, at_seq: at, bytes, duration_ms: ms } = event.payload;
      return `${hand}: files kept at event #${at} (${formatBytes(bytes)} in ${formatDuration(ms)})`;
    }
    case 'hand.terminal_opened':
      return `${event.payload.hand_id}: a terminal opened — what is typed there is not in this log; its close records the files`;
    case 'hand.terminal_closed': {
      const { hand_id: hand, opened_seq: opened, ended } = event.payload;
      const how =
        ended === 'exited'
          ? 'its shell exited'
          : ended === 'lost'
            ? 'its machine went'
            : ended === 'disconnected'
              ? 'its window went'
              : 'closed';
      return `${hand}: the terminal open since event #${opened} ended (${how}); the files as it left them are checkpointed`;
    }
    case 'session.configured': {
      const { model, max_tokens: maxTokens, thinking_budget: thinking } = event.payload;
      return `Settings: ${model}, up to ${maxTokens} output tokens${thinking === null ? '' : `, thinking ${thinking}`}`;
    }
    case 'session.forked': {
      const parent = titleOf(event.payload.parent_session_id);
      return `Forked from ${quoted(parent)} after event #${event.payload.at_seq}`;
    }
    // Guardrails (issue 18): plain one-liners until the approval card and cost meter show them.
    case 'user.tool_confirmation': {
      const { tool_use_id: id, result, deny_message: why } = event.payload;
      return `${result === 'allow' ? 'Allowed' : 'Denied'} ${id}${why ? `: ${why}` : ''}`;
    }
    case 'span.tool_run_start':
      return `Tool ${event.payload.tool_use_id} started`;
    case 'policy.set':
      return `Policy: ${event.payload.tool === null ? `every tool of ${event.payload.hand}` : `${event.payload.hand} ${event.payload.tool}`} ${event.payload.policy.replaceAll('_', ' ')}`;
    case 'policy.rule_added': {
      const { hand, tool, rule } = event.payload;
      return `Rule for ${hand} ${tool}: ${rule.type === 'command_prefix' ? `allow commands starting “${rule.prefix}”` : 'allow read-only commands'}`;
    }
    case 'policy.rule_removed':
      return `Rule ${event.payload.rule_id} removed`;
    case 'session.budget_set':
      return event.payload.budget === null ? 'Budget removed' : `Budget: ${JSON.stringify(event.payload.budget)}`;
    case 'session.usage':
      return `Usage so far: ${event.payload.input_tokens} in, ${event.payload.output_tokens} out, ${(event.payload.list_cost_cents / 100).toFixed(4)} USD`;
    // Custom tools and system messages (issue 19).
    case 'session.custom_tools_set':
      return event.payload.tools.length === 0
        ? 'Custom tools removed'
        : `Custom tools: ${event.payload.tools.map((tool) => tool.name).join(', ')}`;
    case 'agent.custom_tool_use':
      return `${event.payload.name} ${JSON.stringify(event.payload.input)} (custom tool: waits for your program's result)`;
    case 'user.custom_tool_result':
      return `${event.payload.is_error ? 'Error' : 'OK'} from your program: ${blocksText(event.payload.content)}`;
    case 'system.message':
      return `System message: ${event.payload.content.map((block) => block.text).join('\n')}`;
    // Threads (issue 21): plain one-liners until the cockpit's lanes show them.
    case 'session.thread_created':
      return `Thread ${event.payload.session_thread_id} (${event.payload.agent_name}) started: ${event.payload.task}`;
    case 'session.thread_status_running':
      return `Thread ${event.payload.session_thread_id} running`;
    case 'session.thread_status_idle':
      return `Thread ${event.payload.session_thread_id} idle (${event.payload.stop_reason.type.replaceAll('_', ' ')})`;
    case 'session.thread_status_terminated':
      return `Thread ${event.payload.session_thread_id} ended${event.payload.reason ? `: ${event.payload.reason}` : ''}`;
    case 'agent.thread_message_sent':
      return `To ${event.payload.to_thread_id ?? 'the coordinator'}: ${blocksText(event.payload.content)}`;
    case 'agent.thread_message_received':
      return `From ${event.payload.from_thread_id ?? 'the coordinator'}: ${blocksText(event.payload.content)}`;
    case 'session.thread_archived':
      return `Thread ${event.payload.session_thread_id} archived`;
    case 'session.roster_set':
      return `Roster: ${[...event.payload.agents.map((agent) => agent.name), ...(event.payload.self_copies ? ['copies of itself'] : [])].join(', ') || 'none'}`;
    case 'hand.thread_access': {
      const { hand, session_thread_id: thread, mode, action, fresh_hand: fresh } = event.payload;
      return `${hand} ${action === 'granted' ? 'given to' : 'returned by'} ${thread} (${mode.replace('_', '-')}${fresh ? `: ${fresh}` : ''})`;
    }
    default:
      return unknownEvent(event);
  }
}

function blocksText(blocks: readonly ContentBlock[]): string {
  if (blocks.length === 0) return '(empty)';
  return blocks.map(blockText).join(' ');
}

function blockText(block: ContentBlock): string {
  return block.type === 'text' ? withoutTerminalCodes(block.text) : `[image ${block.source.media_type}]`;
}

/**
 * A tool result's full text as a person reads it: text blocks without terminal codes, one per
 * paragraph; null for any other event.
 */
export function toolOutputText(event: StoredEvent): string | null {
  if (event.type !== 'agent.tool_result' && event.type !== 'agent.mcp_tool_result') return null;
  const { content } = event.payload;
  if (content.length === 0) return '(empty)';
  return content.map(blockText).join('\n\n');
}

function quoted(title: string | undefined): string {
  return title === undefined ? 'a deleted session' : `“${title}”`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

/** Decimal megabytes, as Docker shows pull sizes: "12.3 / 45.6 MB". */
export function formatMegabytesOf(current: number, total: number): string {
  return `${(current / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`;
}

function resultLabel(isError: boolean, status: 'completed' | 'interrupted' | 'timed_out'): string {
  if (status === 'interrupted') return 'Interrupted';
  if (status === 'timed_out') return 'Timed out';
  return isError ? 'Error' : 'OK';
}

function duration(ms: number | undefined): string {
  return ms === undefined ? '' : ` in ${formatDuration(ms)}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SUMMARY_CHARS ? `${flat.slice(0, MAX_SUMMARY_CHARS - 1)}…` : flat;
}

/** Compile-time exhaustiveness; at run time an event type this UI does not know still shows. */
function unknownEvent(event: never): string {
  return JSON.stringify((event as { payload?: unknown }).payload) ?? '';
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** Fits the time column: the year is left out for this year's events. */
const monthDayTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The event's time: just the clock time when it is today, else date and time. */
export function formatEventTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  if (date.toDateString() === now.toDateString()) return timeFormat.format(date);
  return date.getFullYear() === now.getFullYear() ? monthDayTimeFormat.format(date) : dateTimeFormat.format(date);
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "just now", "5 minutes ago", "yesterday", or a date for anything older than a week. */
export function formatRelativeTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (Number.isNaN(seconds)) return iso;
  const elapsed = Math.abs(seconds);
  if (elapsed < 45) return 'just now';
  if (elapsed < 3600) return relativeFormat.format(Math.round(seconds / 60), 'minute');
  if (elapsed < 86_400) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
  if (elapsed < 7 * 86_400) return relativeFormat.format(Math.round(seconds / 86_400), 'day');
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' }).format(date);
}

/** The full local date and time, for tooltips. */
export function formatFullTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}

/** An estimated cost in US dollars: cents for most, tenths of a cent for tiny sessions. */
export function formatCost(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.001) return '<$0.001';
  if (usd < 0.01) return `$${usd.toFixed(3)}`;
  return `$${usd.toFixed(2)}`;
}

/** What a session is doing, in words: "Running", "Idle (max tokens)", "Stopped: retries exhausted"… */
export function statusText(status: SessionStatus, stopReason: string | null): string {
  // Also when no key was set (and none sent): the transcript says which.
  const reason = stopReason === 'authentication_failed' ? 'no working API key' : (stopReason?.replaceAll('_', ' ') ?? null);
  switch (status) {
    case 'running':
      return 'Running';
    case 'new':
      return 'Not started';
    case 'error':
      return `Stopped: ${reason ?? 'error'}`;
    case 'terminated':
      return 'Ended';
    default:
      return reason === null ? 'Idle' : `Idle (${reason})`;
  }
}

/** A hand in a few words: "Docker debian:bookworm", "SSH ada@build.local:2222 via bastion", "MCP server at …". */
export function describeHand(config: HandConfig): string {
  if (config.kind === 'docker') return `Docker ${config.image}`;
  if (config.kind === 'mcp')
    return config.transport.type === 'stdio'
      ? `MCP server: ${describeMcpTransport(config.transport)}`
      : `MCP server at ${config.transport.url}`;
  const port = config.port === 22 ? '' : `:${config.port}`;
  return `SSH ${config.user}@${config.host}${port}${config.jump === null ? '' : ` via ${config.jump.host}`}`;
}

/** A grader's verdict in words, as the transcript's badge says it. */
export function outcomeResultLabel(result: OutcomeResult): string {
  switch (result) {
    case 'satisfied':
      return 'Satisfied';
    case 'needs_revision':
      return 'Needs revision';
    case 'max_iterations_reached':
      return 'Out of iterations';
    case 'failed':
      return 'Check failed';
    case 'interrupted':
      return 'Interrupted';
  }
}

/** How an outcome's state reads at a glance: good, still going, bad, or neither. */
export type OutcomeTone = 'ok' | 'pending' | 'warn' | 'bad' | 'muted';

/** The verdict's tone: satisfied green, needs revision amber, out of iterations or failed red, interrupted grey. */
export function outcomeResultTone(result: OutcomeResult): OutcomeTone {
  switch (result) {
    case 'satisfied':
      return 'ok';
    case 'needs_revision':
      return 'warn';
    case 'max_iterations_reached':
    case 'failed':
      return 'bad';
    case 'interrupted':
      return 'muted';
  }
}

/**
 * Where a session's outcome stands, in a few words for its sidebar row and header: "✓ satisfied
 * after 2 iterations", "checking… (2/3)", "needs revision (1/3)", "✗ not satisfied after 3
 * iterations"; null when it has no outcome.
 */
export function outcomeStatusText(outcome: OutcomeSummary | null): { text: string; tone: OutcomeTone } | null {
  if (outcome === null) return null;
  const { iterations: done, maxIterations: max, state } = outcome;
  const times = (count: number) => `${count} ${count === 1 ? 'iteration' : 'iterations'}`;
  switch (state) {
    case null:
      return { text: 'outcome not checked yet', tone: 'muted' };
    case 'evaluating':
      return { text: `checking… (${Math.min(done + 1, max)}/${max})`, tone: 'pending' };
    case 'satisfied':
      return { text: `✓ satisfied after ${times(done)}`, tone: 'ok' };
    case 'needs_revision':
      return { text: `needs revision (${done}/${max})`, tone: 'warn' };
    case 'max_iterations_reached':
      return { text: `✗ not satisfied after ${times(done)}`, tone: 'bad' };
    case 'failed':
      return { text: `✗ check failed (${done}/${max})`, tone: 'bad' };
    case 'interrupted':
      return { text: `check interrupted (${done}/${max})`, tone: 'muted' };
  }
}

/** Where an MCP server runs: its command line (an argument with spaces in quotes), or its URL. */
export function describeMcpTransport(transport: McpTransport): string {
  if (transport.type === 'http') return transport.url;
  const quote = (part: string): string => (part === '' || /[\s"'\\]/.test(part) ? JSON.stringify(part) : part);
  return [transport.command, ...transport.args].map(quote).join(' ');
}

/** "1 event", "2 events", "1,024 events": a count with its noun in the right number (`many` for irregular plurals). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

/**
 * An error text in words: the API's errors arrive as `401 {"type":"error","error":{"type":…,"message":…}}`,
 * whose JSON is replaced by its message. Text without a JSON body stays as it is.
 */
export function readableReason(text: string): string {
  const start = text.indexOf('{');
  if (start === -1) return text;
  let body: unknown;
  try {
    body = JSON.parse(text.slice(start));
  } catch {
    return text;
  }
  const message = messageIn(body);
  if (message === null) return text;
  const before = text.slice(0, start).trimEnd();
  return `${before === '' ? '' : `${before} `}${message.replace(/\.?$/, '.')}`;
}

function messageIn(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  if (typeof record['message'] === 'string') return record['message'];
  return messageIn(record['error']);
}

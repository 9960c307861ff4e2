/**
 * A tool call in the transcript (Transcript.tsx): its header with a status, its input, and its
 * output as a terminal with colours — or, while it has no result, its live output or what the
 * missing result means. Split from Transcript.tsx.
 *
 * A call without a result must never read as done: it is running, not yet run at the cursor, or
 * cut off.
 */
import { eventName, toolCallName } from '#renderer/timeline/index.ts';
import { filesChangedLabel } from '#renderer/changes/index.ts';
import { AnsiText } from '#renderer/ui/AnsiText.tsx';
import { formatDuration } from '#renderer/ui/format.ts';
import type { ToolResultView, TranscriptItem } from './transcript-items.ts';

/** What a tool call without a result means here: still running, not yet run at the cursor, or cut off. */
export type Pending = 'running' | 'past' | 'cut';
/** A tool call's own states: also one the policy asked about, waiting for the user, and a custom tool's, waiting for the program. */
type ToolPending = Pending | 'waiting' | 'program';

export function ToolCall({
  row,
  pending,
  expanded,
  onToggle,
  liveOutput,
  onShowChanges,
}: {
  row: Extract<TranscriptItem, { kind: 'tool' }>;
  pending: Pending;
  expanded: boolean;
  onToggle: (key: string) => void;
  liveOutput: string | undefined;
  /** Opens the Changes tab on what this call changed (from its call to its result, on its hand). */
  onShowChanges?: ((range: { fromSeq: number; toSeq: number; hand: string }) => void) | undefined;
}) {
  const result = row.result;
  // A call the policy asked about, live and without a result, waits for the user: not cut off.
  // A custom tool's call, live and without a result, waits for the program that drives the session.
  const state: ToolPending =
    result === undefined && pending !== 'past' && row.custom === true
      ? 'program'
      : result === undefined && pending === 'cut' && row.asked
        ? 'waiting'
        : pending;
  const running = result === undefined;
  const open = expanded || (running && liveOutput !== undefined);
  return (
    <div className={`tool-call${result?.isError ? ' tool-error' : ''}`} data-testid="tool-call" data-seq={row.seq}>
      <button type="button" className="tool-header" aria-expanded={open} onClick={() => onToggle(row.key)}>
        <span className="disclosure-arrow" aria-hidden="true" />
        <span
          className="tool-name"
          title={`${row.custom === true ? eventName('agent.custom_tool_use') : toolCallName(row.name, row.on ?? undefined)} (${row.custom === true ? 'agent.custom_tool_use' : 'agent.tool_use'})`}
        >
          {row.on === null ? (
            row.custom === true ? (
              <span className="tool-on">custom · </span>
            ) : (
              ''
            )
          ) : (
            <span className="tool-on">{row.on} · </span>
          )}
          {row.name}
        </span>
        <code className="tool-summary">{row.summary}</code>
        <ToolStatus result={result} pending={state} />
      </button>
      {result?.files !== undefined && result.files.changed > 0 && onShowChanges !== undefined && (
        <button
          type="button"
          className="tool-changes"
          data-testid="tool-changes"
          onClick={() => result.files && onShowChanges({ fromSeq: row.seq, toSeq: result.seq, hand: result.files.hand })}
          title="Show the files this call changed, and their diffs, in the Changes tab"
        >
          {filesChangedLabel(result.files.changed)}
        </button>
      )}
      {open && (
        <div className="tool-body">
          {row.name !== 'bash' && <pre className="tool-input">{JSON.stringify(row.input, null, 2)}</pre>}
          {result !== undefined ? (
            <ToolOutput result={result} />
          ) : liveOutput !== undefined ? (
            <div className="terminal">
              <AnsiText text={liveOutput} />
            </div>
          ) : (
            <p className="tool-pending">{PENDING_TEXT[state]}</p>
          )}
        </div>
      )}
    </div>
  );
}

const PENDING_LABEL: Readonly<Record<ToolPending, string>> = {
  running: 'running…',
  past: 'not finished yet',
  cut: 'no result',
  waiting: 'waits for your approval',
  program: "waits for your program's result",
};
const PENDING_TEXT: Readonly<Record<ToolPending, string>> = {
  running: 'Running…',
  past: 'Its result comes later in the session: move the timeline forward to see it.',
  cut: 'This call never returned a result (it was cut off, or this branch was taken before it finished).',
  waiting: 'Not run: it waits for your approval (the card below the transcript).',
  program:
    "A custom tool: Drover does not run it. It waits for your program's result (sessions-custom-tool-result, or user.custom_tool_result through the API); the session continues once every waiting call is answered.",
};

function ToolStatus({ result, pending }: { result: ToolResultView | undefined; pending: ToolPending }) {
  if (result === undefined)
    return (
      <span className={`tool-status ${pending === 'running' ? 'tool-running' : 'tool-pending-status'}`}>{PENDING_LABEL[pending]}</span>
    );
  const label =
    result.status === 'interrupted' ? 'interrupted' : result.status === 'timed_out' ? 'timed out' : result.isError ? 'error' : 'done';
  return (
    <span className={`tool-status tool-${result.isError || result.status !== 'completed' ? 'bad' : 'ok'}`}>
      {label}
      {result.durationMs === undefined ? '' : ` · ${formatDuration(result.durationMs)}`}
    </span>
  );
}

function ToolOutput({ result }: { result: ToolResultView }) {
  return (
    <div className="terminal" data-testid="tool-output">
      {result.text === '' ? <span className="terminal-empty">(no output)</span> : <AnsiText text={result.text} />}
      {result.images > 0 && <p className="message-note">{result.images === 1 ? '1 image' : `${result.images} images`}</p>}
      {result.structured !== undefined && (
        <details className="tool-structured">
          <summary>Structured content</summary>
          <pre className="tool-input">{JSON.stringify(result.structured, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

/**
 * The outcome cards of the transcript (Transcript.tsx): an outcome defined, a check under way, and
 * a check's verdict with its criteria and the verification command's output. Split from
 * Transcript.tsx; styled by transcript-cards.css.
 *
 * A check that never gave a verdict must never read as passed: it says it is checking, or that it
 * was cut off.
 */
import { AnsiText } from '#renderer/ui/AnsiText.tsx';
import { outcomeResultLabel, outcomeResultTone } from '#renderer/ui/format.ts';
import { Markdown } from '#renderer/ui/Markdown.tsx';
import type { Pending } from './ToolCall.tsx';
import type { OutcomeVerificationView, TranscriptItem } from './transcript-items.ts';

/** "Check 2 of 3", or "Check 2" when the outcome's definition is not among the events shown. */
function checkCount(iteration: number, maxIterations: number | null): string {
  return maxIterations === null ? `Check ${iteration}` : `Check ${iteration} of ${maxIterations}`;
}

export function OutcomeDefined({
  row,
  expanded,
  onToggle,
  onSeek,
}: {
  row: Extract<TranscriptItem, { kind: 'outcome-defined' }>;
  expanded: boolean;
  onToggle: (key: string) => void;
  onSeek: (seq: number) => void;
}) {
  const rubric = row.rubric.trim();
  return (
    <article className="outcome-card" aria-label="Outcome" data-testid="outcome-defined" data-seq={row.seq}>
      <header className="outcome-card-header">
        <span className="outcome-card-title">Outcome</span>
        <span className="outcome-count">
          checked when Claude ends a turn, at most {row.maxIterations === 1 ? 'once' : `${row.maxIterations} times`}
          {row.graderModel !== null && `, by ${row.graderModel}`}
        </span>
        <button type="button" className="seq-link" onClick={() => onSeek(row.seq)} title="Move the timeline to this outcome">
          #{row.seq}
        </button>
      </header>
      <p className="outcome-description">{row.description}</p>
      {row.verification !== null && (
        <p className="outcome-meta">
          Before each check: <code>{row.verification.command}</code> on {row.verification.handId}
        </p>
      )}
      {rubric !== '' && (
        <div className="outcome-fold">
          <button type="button" className="disclosure" aria-expanded={expanded} onClick={() => onToggle(row.key)}>
            <span className="disclosure-arrow" aria-hidden="true" />
            Rubric
          </button>
          {expanded && (
            <div className="outcome-fold-body outcome-rubric message-body">
              <Markdown text={rubric} />
            </div>
          )}
        </div>
      )}
    </article>
  );
}

const CHECKING_TEXT: Readonly<Record<Pending, string>> = {
  running: 'Checking the work against the outcome…',
  past: 'Checking the work against the outcome: its verdict comes later in the session.',
  cut: 'This check never gave a verdict (it was cut off, or this branch was taken before it finished).',
};

export function OutcomeChecking({
  row,
  pending,
  onSeek,
}: {
  row: Extract<TranscriptItem, { kind: 'outcome-checking' }>;
  pending: Pending;
  onSeek: (seq: number) => void;
}) {
  return (
    <article
      className="outcome-card"
      aria-label="Outcome check"
      aria-busy={pending === 'running'}
      data-testid="outcome-checking"
      data-seq={row.seq}
    >
      <header className="outcome-card-header">
        <span className="outcome-card-title">Outcome check</span>
        <span className="outcome-count">{checkCount(row.iteration, row.maxIterations)}</span>
        <button type="button" className="seq-link" onClick={() => onSeek(row.seq)} title="Move the timeline to this check">
          #{row.seq}
        </button>
      </header>
      <p className="outcome-meta outcome-checking" role={pending === 'running' ? 'status' : undefined}>
        {pending === 'running' && <span className="outcome-spinner" aria-hidden="true" />}
        {CHECKING_TEXT[pending]}
      </p>
    </article>
  );
}

export function OutcomeCheck({
  row,
  expanded,
  onToggle,
  onSeek,
}: {
  row: Extract<TranscriptItem, { kind: 'outcome-check' }>;
  expanded: boolean;
  onToggle: (key: string) => void;
  onSeek: (seq: number) => void;
}) {
  const tone = outcomeResultTone(row.result);
  const unmet = row.criteria.filter((criterion) => !criterion.met).length;
  return (
    <article
      className="outcome-card"
      data-tone={tone}
      aria-label={`Outcome check ${row.iteration}: ${outcomeResultLabel(row.result)}`}
      data-testid="outcome-check"
      data-result={row.result}
      data-seq={row.seq}
    >
      <header className="outcome-card-header">
        <span className="outcome-card-title">Outcome check</span>
        <span className={`verdict verdict-${tone}`}>
          <span aria-hidden="true">{tone === 'ok' ? '✓' : tone === 'bad' ? '✗' : tone === 'warn' ? '↻' : '■'}</span>
          {outcomeResultLabel(row.result)}
        </span>
        <span className="outcome-count">
          {checkCount(row.iteration, row.maxIterations)}
          {row.criteria.length > 0 &&
            ` · ${row.criteria.length - unmet} of ${row.criteria.length} ${row.criteria.length === 1 ? 'criterion' : 'criteria'} met`}
        </span>
        <button type="button" className="seq-link" onClick={() => onSeek(row.seq)} title="Move the timeline to this verdict">
          #{row.seq}
        </button>
      </header>
      {row.explanation.trim() !== '' && (
        <div className="outcome-explanation message-body">
          <Markdown text={row.explanation} />
        </div>
      )}
      {row.criteria.length > 0 && (
        <ul className="outcome-criteria" aria-label="Criteria">
          {row.criteria.map((criterion, index) => (
            <li key={index} className="outcome-criterion" data-met={criterion.met}>
              <span className="outcome-criterion-mark" aria-label={criterion.met ? 'met' : 'not met'}>
                {criterion.met ? '✓' : '✗'}
              </span>
              <span>{criterion.criterion}</span>
              {criterion.note.trim() !== '' && <span className="outcome-criterion-note">{criterion.note}</span>}
            </li>
          ))}
        </ul>
      )}
      {row.verification !== null && (
        <OutcomeVerification verification={row.verification} expanded={expanded} onToggle={() => onToggle(row.key)} />
      )}
    </article>
  );
}

function OutcomeVerification({
  verification,
  expanded,
  onToggle,
}: {
  verification: OutcomeVerificationView;
  expanded: boolean;
  onToggle: () => void;
}) {
  return (
    <div className="outcome-fold">
      <button type="button" className="disclosure" aria-expanded={expanded} onClick={onToggle}>
        <span className="disclosure-arrow" aria-hidden="true" />
        <span className="outcome-fold-label">
          Verification: <code>{verification.command}</code> on {verification.handId}
        </span>
        <span className={`tool-status tool-${verification.isError ? 'bad' : 'ok'}`}>{verification.isError ? 'failed' : 'ok'}</span>
      </button>
      {expanded && (
        <div className="outcome-fold-body terminal" data-testid="outcome-verification-output">
          {verification.output === '' ? <span className="terminal-empty">(no output)</span> : <AnsiText text={verification.output} />}
        </div>
      )}
    </div>
  );
}

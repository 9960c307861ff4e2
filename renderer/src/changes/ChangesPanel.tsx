/**
 * The Changes tab (issue 20): the files a session's hands added, changed and deleted between two
 * events — a turn, a tool call ("3 files changed" on its card), or any two — and one file's
 * unified diff, with "Restore this file to event N" (after a confirm) on a live session.
 */
import { useEffect, useId, useState } from 'react';
import type { Changes, FileChange, FileDiff } from '#shared/changes';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import {
  describeSide,
  filesChangedLabel,
  KIND_LABEL,
  KIND_MARK,
  parsePatch,
  totalFiles,
  turnRange,
  type ChangesRange,
} from './changes-model.ts';

export interface ChangesPanelProps {
  transport: Transport;
  sessionId: string;
  /** The range to show first (a tool call's, or the cursor's turn). */
  range: ChangesRange;
  /** The timeline's cursor and the session's turns, for "This turn". */
  cursor: number;
  turnStarts: readonly number[];
  lastSeq: number;
  /** The session is live (its hands run now): one file can be restored. */
  live: boolean;
}

interface Selected {
  hand: string;
  path: string;
}

export function ChangesPanel({ transport, sessionId, range, cursor, turnStarts, lastSeq, live }: ChangesPanelProps) {
  const [shown, setShown] = useState<ChangesRange>(range);
  const [draft, setDraft] = useState({ from: String(range.fromSeq), to: String(range.toSeq) });
  const [changes, setChanges] = useState<Changes | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Selected | null>(null);
  const [reload, setReload] = useState(0);
  const formId = useId();

  useEffect(() => {
    let current = true;
    transport
      .call('sessions-changes', { sessionId, fromSeq: shown.fromSeq, toSeq: shown.toSeq, ...(shown.hand ? { hand: shown.hand } : {}) })
      .then(
        (answer) => current && (setError(null), setChanges(answer)),
        (reason: unknown) => current && (setChanges(null), setError(messageOf(reason))),
      );
    return () => {
      current = false;
    };
  }, [transport, sessionId, shown, reload]);

  const show = (next: ChangesRange): void => {
    setShown(next);
    setDraft({ from: String(next.fromSeq), to: String(next.toSeq) });
    setSelected(null);
  };
  const submit = (): void => {
    const from = Number(draft.from);
    const to = Number(draft.to);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < 0) {
      setError('Give two event numbers (0 or more), e.g. 0 and 12.');
      return;
    }
    if (to > lastSeq) {
      setError(`This session's last event is ${lastSeq}: pick events up to ${lastSeq}.`);
      return;
    }
    show(from <= to ? { fromSeq: from, toSeq: to } : { fromSeq: to, toSeq: from });
  };

  return (
    <section className="changes-panel" aria-label="Changed files">
      <form
        className="changes-range"
        aria-labelledby={`${formId}-title`}
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <span id={`${formId}-title`} className="changes-range-title">
          Files changed between events
        </span>
        <label>
          from <span className="visually-hidden">event</span>
          <input
            className="changes-seq"
            inputMode="numeric"
            value={draft.from}
            onChange={(event) => setDraft({ ...draft, from: event.target.value })}
          />
        </label>
        <label>
          to <span className="visually-hidden">event</span>
          <input
            className="changes-seq"
            inputMode="numeric"
            value={draft.to}
            onChange={(event) => setDraft({ ...draft, to: event.target.value })}
          />
        </label>
        <button type="submit" className="button">
          Show
        </button>
        <button
          type="button"
          className="button button-quiet"
          onClick={() => show(turnRange(turnStarts, cursor))}
          title="The turn at the timeline's cursor"
        >
          This turn
        </button>
        <button
          type="button"
          className="button button-quiet"
          onClick={() => show({ fromSeq: 0, toSeq: cursor })}
          title="From the session's start to the cursor"
        >
          Since the start
        </button>
      </form>
      {shown.hand !== undefined && (
        <p className="changes-note">
          Only {shown.hand}.{' '}
          <button type="button" className="button button-quiet" onClick={() => show({ fromSeq: shown.fromSeq, toSeq: shown.toSeq })}>
            Show every hand
          </button>
        </p>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {changes !== null && (
        <>
          <p className="changes-summary" aria-live="polite">
            {changes.hands.length === 0
              ? 'No hand of this session has checkpoints yet: its files are recorded after each tool call that can change them.'
              : `${filesChangedLabel(totalFiles(changes))} from event ${changes.fromSeq} to event ${changes.toSeq}.`}
          </p>
          {changes.hands.map((hand) => (
            <div key={hand.hand} className="changes-hand">
              <h3 className="changes-hand-name">
                {hand.hand} <span className="changes-count">{filesChangedLabel(hand.files.length)}</span>
              </h3>
              {hand.note !== null && <p className="changes-note">{hand.note}</p>}
              <ul className="changes-files" aria-label={`Files changed in ${hand.hand}`}>
                {hand.files.map((file) => (
                  <li key={file.path}>
                    <FileRow
                      file={file}
                      selected={selected?.hand === hand.hand && selected.path === file.path}
                      onSelect={() => setSelected({ hand: hand.hand, path: file.path })}
                    />
                  </li>
                ))}
              </ul>
            </div>
          ))}
          {selected !== null && (
            <FileDiffView
              key={`${selected.hand}:${selected.path}:${changes.fromSeq}:${changes.toSeq}`}
              transport={transport}
              sessionId={sessionId}
              hand={selected.hand}
              path={selected.path}
              fromSeq={changes.fromSeq}
              toSeq={changes.toSeq}
              live={live}
              onRestored={() => setReload((value) => value + 1)}
            />
          )}
        </>
      )}
    </section>
  );
}

function FileRow({ file, selected, onSelect }: { file: FileChange; selected: boolean; onSelect: () => void }) {
  const label = `${KIND_LABEL[file.kind]}: ${file.kind === 'renamed' ? `${file.fromPath ?? ''} to ${file.path}` : file.path}`;
  return (
    <button type="button" className={`changes-file changes-${file.kind}`} aria-pressed={selected} aria-label={label} onClick={onSelect}>
      <span className="changes-mark" aria-hidden="true">
        {KIND_MARK[file.kind]}
      </span>
      <span className="changes-path">{file.kind === 'renamed' ? `${file.fromPath ?? ''} → ${file.path}` : file.path}</span>
      <span className="changes-size" aria-hidden="true">
        {file.kind === 'deleted' ? describeSide(file.before) : describeSide(file.after)}
      </span>
    </button>
  );
}

interface FileDiffViewProps {
  transport: Transport;
  sessionId: string;
  hand: string;
  path: string;
  fromSeq: number;
  toSeq: number;
  live: boolean;
  onRestored: () => void;
}

function FileDiffView({ transport, sessionId, hand, path, fromSeq, toSeq, live, onRestored }: FileDiffViewProps) {
  const [diff, setDiff] = useState<FileDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [restoring, setRestoring] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const titleId = useId();

  useEffect(() => {
    let current = true;
    transport.call('sessions-file-diff', { sessionId, hand, path, fromSeq, toSeq }).then(
      (answer) => current && setDiff(answer),
      (reason: unknown) => current && setError(messageOf(reason)),
    );
    return () => {
      current = false;
    };
  }, [transport, sessionId, hand, path, fromSeq, toSeq]);

  const restore = async (): Promise<void> => {
    setRestoring(true);
    setError(null);
    try {
      const restored = await transport.call('hands-restore-file', { sessionId, hand, path, atSeq: fromSeq });
      setDone(restored.summary);
      setConfirming(false);
      onRestored();
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setRestoring(false);
    }
  };

  return (
    <section className="changes-diff" aria-labelledby={titleId}>
      <h3 id={titleId} className="changes-diff-title">
        {path} <span className="changes-count">in {hand}</span>
      </h3>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {diff === null && error === null && <p className="changes-note">Loading the diff…</p>}
      {diff !== null &&
        (diff.kind === 'text' && diff.patch !== null ? (
          <Patch patch={diff.patch} path={path} />
        ) : (
          <p className="changes-note">{diff.summary}</p>
        ))}
      {live && (
        <div className="changes-restore">
          {done !== null && (
            <p className="notice notice-info" role="status">
              {done}
            </p>
          )}
          {!confirming ? (
            <button type="button" className="button" onClick={() => setConfirming(true)}>
              Restore this file to event {fromSeq}
            </button>
          ) : (
            <div role="group" aria-label="Confirm the restore" className="changes-confirm">
              <p>
                {diff?.before === null
                  ? `${path} did not exist at event ${fromSeq}: remove it from ${hand}'s container?`
                  : `Put ${path} in ${hand}'s container back as it was at event ${fromSeq}? What it holds now is replaced.`}{' '}
                A checkpoint records the result, so this view can still show what it was.
              </p>
              <button type="button" className="button button-primary" onClick={() => void restore()} disabled={restoring} autoFocus>
                {restoring ? 'Restoring…' : 'Restore'}
              </button>
              <button type="button" className="button button-quiet" onClick={() => setConfirming(false)} disabled={restoring}>
                Cancel
              </button>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

function Patch({ patch, path }: { patch: string; path: string }) {
  const lines = parsePatch(patch).filter((line) => line.kind !== 'meta');
  return (
    <div className="changes-patch" role="region" aria-label={`Unified diff of ${path}`} tabIndex={0}>
      <table>
        <tbody>
          {lines.map((line, index) => (
            <tr key={index} className={`diff-${line.kind}`}>
              <td className="diff-no" aria-hidden="true">
                {line.oldNo ?? ''}
              </td>
              <td className="diff-no" aria-hidden="true">
                {line.newNo ?? ''}
              </td>
              <td className="diff-text">
                {line.kind === 'add' ? (
                  <span className="visually-hidden">added: </span>
                ) : line.kind === 'del' ? (
                  <span className="visually-hidden">removed: </span>
                ) : null}
                {line.text}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

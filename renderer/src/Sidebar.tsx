/**
 * The sidebar: the list of sessions, "New session" (title and, optionally, the Docker image of a
 * hand named "box", asked inline) and "Import".
 */
import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent, type KeyboardEvent } from 'react';
import type { AppInfo } from '#shared/rpc';
import type { SessionSummary } from '#shared/sessions';
import { formatFullTime, formatRelativeTime } from './format.ts';
import type { Transport } from './transport.ts';

const MAX_TITLE_CHARS = 200;

export interface SidebarProps {
  transport: Transport;
  sessions: SessionSummary[] | null;
  selectedId: string | null;
  info: AppInfo | null;
  titleOf: (sessionId: string) => string | undefined;
  onSelect: (sessionId: string) => void;
  /** A session was created or imported. */
  onOpened: (session: SessionSummary) => void;
  onError: (reason: unknown) => void;
}

export function Sidebar({ transport, sessions, selectedId, info, titleOf, onSelect, onOpened, onError }: SidebarProps) {
  const [creating, setCreating] = useState(false);
  const [title, setTitle] = useState('');
  /** The image of a hand named "box" to launch with; empty: no hand. */
  const [image, setImage] = useState('');
  const [busy, setBusy] = useState<'create' | 'import' | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const titleInputId = useId();
  const imageInputId = useId();
  const imageHintId = useId();
  const now = useNow(30_000);

  function cancelCreate(): void {
    setCreating(false);
    setTitle('');
    setImage('');
  }

  async function create(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (title.trim() === '' || busy !== null) return;
    setBusy('create');
    try {
      const dockerImage = image.trim();
      const session = await transport.call('sessions-launch', {
        title: title.trim(),
        ...(dockerImage === '' ? {} : { hands: [{ name: 'box', config: { kind: 'docker', image: dockerImage } }] }),
      });
      cancelCreate();
      onOpened(session);
    } catch (reason) {
      onError(reason);
    } finally {
      setBusy(null);
    }
  }

  async function importFile(event: ChangeEvent<HTMLInputElement>): Promise<void> {
    const input = event.currentTarget;
    const file = input.files?.[0];
    if (file === undefined) return;
    setBusy('import');
    try {
      const jsonl = await file.text();
      onOpened(await transport.call('sessions-import', { jsonl }));
    } catch (reason) {
      onError(reason);
    } finally {
      input.value = '';
      setBusy(null);
    }
  }

  function onFieldKeyDown(event: KeyboardEvent<HTMLInputElement>): void {
    if (event.key === 'Escape') cancelCreate();
  }

  return (
    <aside className="sidebar">
      <header className="sidebar-header">
        <h1 className="brand">Drover</h1>
        <div className="sidebar-actions">
          <button
            type="button"
            className="button button-primary"
            onClick={() => setCreating(true)}
            disabled={creating || busy !== null}
          >
            New session
          </button>
          <button
            type="button"
            className="button"
            onClick={() => fileInput.current?.click()}
            disabled={busy !== null}
            title="Import a session exported from Drover (.jsonl)"
          >
            {busy === 'import' ? 'Importing…' : 'Import'}
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".jsonl,.ndjson,application/x-ndjson,application/jsonl"
            className="visually-hidden"
            tabIndex={-1}
            aria-hidden="true"
            onChange={(event) => void importFile(event)}
          />
        </div>
        {creating && (
          <form className="new-session" onSubmit={(event) => void create(event)}>
            <label htmlFor={titleInputId} className="new-session-label">
              Title
            </label>
            <input
              id={titleInputId}
              className="input"
              value={title}
              onChange={(event) => setTitle(event.target.value)}
              onKeyDown={onFieldKeyDown}
              maxLength={MAX_TITLE_CHARS}
              placeholder="What is this session for?"
              autoFocus
              disabled={busy === 'create'}
            />
            <label htmlFor={imageInputId} className="new-session-label">
              Docker image for a hand named box
            </label>
            <input
              id={imageInputId}
              className="input"
              value={image}
              onChange={(event) => setImage(event.target.value)}
              onKeyDown={onFieldKeyDown}
              maxLength={512}
              placeholder="debian:bookworm"
              spellCheck={false}
              aria-describedby={imageHintId}
              disabled={busy === 'create'}
            />
            <p id={imageHintId} className="new-session-hint">
              Optional. Empty: no hand. The container starts on Claude&apos;s first command.
            </p>
            <div className="new-session-actions">
              <button type="submit" className="button button-primary" disabled={title.trim() === '' || busy !== null}>
                {busy === 'create' ? 'Creating…' : 'Create'}
              </button>
              <button type="button" className="button button-quiet" onClick={cancelCreate}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </header>

      <nav className="session-list" aria-label="Sessions">
        {sessions !== null && sessions.length > 0 && (
          <ul>
            {sessions.map((session) => (
              <li key={session.id}>
                <button
                  type="button"
                  className="session-item"
                  aria-current={session.id === selectedId ? 'true' : undefined}
                  onClick={() => onSelect(session.id)}
                >
                  <span className="session-title">{session.title}</span>
                  <span className="session-meta">
                    <time dateTime={session.lastActivityAt} title={formatFullTime(session.lastActivityAt)}>
                      {formatRelativeTime(session.lastActivityAt, now)}
                    </time>
                    <span aria-hidden="true"> · </span>
                    {session.lastSeq === 1 ? '1 event' : `${session.lastSeq} events`}
                  </span>
                  {session.parentId !== null && (
                    <span className="session-fork">
                      fork of {titleOf(session.parentId) ?? 'a deleted session'}
                      {session.forkSeq !== null && ` at #${session.forkSeq}`}
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        )}
      </nav>

      {info !== null && (
        <footer className="sidebar-footer" title={`Data folder: ${info.dataDir}`}>
          Drover {info.version} · <span className="data-dir">{info.dataDir}</span>
        </footer>
      )}
    </aside>
  );
}

/** The current time, refreshed every `intervalMs` so relative times stay true. */
function useNow(intervalMs: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

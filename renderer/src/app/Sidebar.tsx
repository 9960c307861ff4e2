/**
 * The sidebar: conversations (a root or fork session with its rewind branches), each with its
 * status, title, last activity and cost, and where its outcome stands; "New session" (the launch
 * dialog) and "Import".
 * Clicking a conversation opens the branch it currently shows.
 */
import { useEffect, useImperativeHandle, useMemo, useRef, useState, type ChangeEvent, type ReactNode, type Ref } from 'react';
import type { AppInfo } from '#shared/rpc';
import type { SessionSummary } from '#shared/sessions';
import { formatCost, formatFullTime, formatRelativeTime, outcomeStatusText, plural, statusText } from '#renderer/ui/format.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { isWaiting } from '#renderer/guardrails/index.ts';
import './app.css';

export interface SidebarHandle {
  /** Opens the file picker for an import (the native menu's Import…). */
  importFile(): void;
}

export interface SidebarProps {
  ref?: Ref<SidebarHandle>;
  transport: Transport;
  sessions: SessionSummary[] | null;
  /** The open session (any branch). */
  selected: SessionSummary | null;
  info: AppInfo | null;
  onSelect: (sessionId: string) => void;
  onNew: () => void;
  onShortcuts: () => void;
  /** Opens search across sessions (Ctrl/Cmd+Shift+F). */
  onSearch: () => void;
  /** Opens the command palette (Ctrl/Cmd+K). */
  onPalette: () => void;
  onSettings: () => void;
  settingsOpen: boolean;
  /** A session was imported. */
  onOpened: (session: SessionSummary) => void;
  onError: (reason: unknown) => void;
  /** The handle that resizes the sidebar (on its right edge). */
  resizer?: ReactNode;
}

interface Conversation {
  head: SessionSummary;
  /** The branch it shows (its status, activity and cost are the ones listed). */
  shown: SessionSummary;
  branches: number;
}

export function Sidebar({
  ref,
  transport,
  sessions,
  selected,
  info,
  onSelect,
  onNew,
  onShortcuts,
  onSearch,
  onPalette,
  onSettings,
  settingsOpen,
  onOpened,
  onError,
  resizer,
}: SidebarProps) {
  const [importing, setImporting] = useState(false);
  const [filter, setFilter] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const now = useNow(30_000);

  useImperativeHandle(ref, () => ({ importFile: () => fileInput.current?.click() }), []);

  const conversations = useMemo(() => conversationsOf(sessions ?? []), [sessions]);
  const visible = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return needle === '' ? conversations : conversations.filter((c) => c.head.title.toLowerCase().includes(needle));
  }, [conversations, filter]);

  async function importFile(event: ChangeEvent<HTMLInputElement>): Promise<void> {
    const input = event.currentTarget;
    const file = input.files?.[0];
    if (file === undefined) return;
    setImporting(true);
    try {
      const jsonl = await file.text();
      onOpened(await transport.call('sessions-import', { jsonl }));
    } catch (reason) {
      onError(reason);
    } finally {
      input.value = '';
      setImporting(false);
    }
  }

  return (
    <aside className="sidebar">
      <header className="sidebar-header">
        <h1 className="brand">Drover</h1>
        <div className="sidebar-actions">
          <button type="button" className="button button-primary" onClick={onNew} title="Launch a new session (Ctrl+N in the app menu)">
            New session
          </button>
          <button
            type="button"
            className="button"
            onClick={() => fileInput.current?.click()}
            disabled={importing}
            title="Import a session exported from Drover (.jsonl)"
          >
            {importing ? 'Importing…' : 'Import'}
          </button>
          <button
            type="button"
            className="button"
            onClick={onSearch}
            title="Search every session's messages, commands and output (Ctrl+Shift+F, ⇧⌘F on a Mac)"
          >
            Search
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
        {conversations.length > 6 && (
          <input
            className="input sidebar-filter"
            type="search"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
            placeholder="Filter sessions"
            aria-label="Filter sessions by title"
          />
        )}
      </header>

      <nav className="session-list" aria-label="Sessions">
        {sessions !== null && visible.length > 0 && (
          <ul>
            {visible.map(({ head, shown, branches }) => (
              <li key={head.id}>
                <button
                  type="button"
                  className="session-item"
                  aria-current={!settingsOpen && selected?.conversationId === head.id ? 'true' : undefined}
                  onClick={() => onSelect(shown.id)}
                >
                  <span className="session-title">
                    <span className={`status-dot status-${shown.status}`} title={statusText(shown.status, shown.stopReason)} />
                    {head.title}
                    {isWaiting(shown) && (
                      <span className="sidebar-waiting" title="Claude waits for your approval of a tool call" data-testid="session-waiting">
                        waits for you
                      </span>
                    )}
                  </span>
                  <span className="session-meta">
                    <time dateTime={shown.lastActivityAt} title={formatFullTime(shown.lastActivityAt)}>
                      {formatRelativeTime(shown.lastActivityAt, now)}
                    </time>
                    {shown.costUsd > 0 && (
                      <>
                        <span aria-hidden="true"> · </span>
                        <span title="Estimated cost">{formatCost(shown.costUsd)}</span>
                      </>
                    )}
                    {branches > 1 && (
                      <>
                        <span aria-hidden="true"> · </span>
                        {plural(branches, 'branch', 'branches')}
                      </>
                    )}
                    <span className="visually-hidden"> · {statusText(shown.status, shown.stopReason)}</span>
                  </span>
                  <OutcomeLine session={shown} />
                  {head.kind === 'fork' && head.parentId !== null && (
                    <span className="session-fork">
                      fork of {titleIn(sessions, head.parentId) ?? 'a deleted session'}
                      {head.forkSeq !== null && ` at #${head.forkSeq}`}
                    </span>
                  )}
                  {shown.importedSeq !== undefined && (
                    <span
                      className="session-fork"
                      data-testid="session-imported"
                      title="Its first events came from a file: its hands stay off until you review them"
                    >
                      imported (#1–#{shown.importedSeq} from a file)
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        )}
        {sessions !== null && conversations.length > 0 && visible.length === 0 && (
          <p className="session-list-empty">No session titles match “{filter}”.</p>
        )}
        {sessions !== null && conversations.length === 0 && <p className="session-list-empty">No sessions yet.</p>}
      </nav>

      <footer className="sidebar-footer">
        <div className="sidebar-links">
          <button type="button" className="link sidebar-shortcuts" onClick={onSettings} aria-current={settingsOpen ? 'page' : undefined}>
            Settings
          </button>
          <button type="button" className="link sidebar-shortcuts" onClick={onShortcuts} title="Keyboard shortcuts (?)">
            Keyboard shortcuts
          </button>
          <button
            type="button"
            className="link sidebar-shortcuts"
            onClick={onPalette}
            title="Every command and session (Ctrl+K, ⌘K on a Mac)"
          >
            Commands
          </button>
        </div>
        {info !== null && (
          <span title={`Data folder: ${info.dataDir}`}>
            Drover {info.version} · <span className="data-dir">{info.dataDir}</span>
          </span>
        )}
      </footer>
      {resizer}
    </aside>
  );
}

/** Where the session's outcome stands ("✓ satisfied after 2 iterations"); the outcome itself in its tooltip. */
function OutcomeLine({ session }: { session: SessionSummary }) {
  const status = outcomeStatusText(session.outcome);
  if (status === null || session.outcome === null) return null;
  return (
    <span
      className={`session-outcome outcome-tone-${status.tone}`}
      title={`Outcome: ${session.outcome.description}`}
      data-testid="session-outcome"
    >
      {status.text}
    </span>
  );
}

/** Conversations, most recently active first, each shown through its current branch. */
export function conversationsOf(sessions: readonly SessionSummary[]): Conversation[] {
  const byId = new Map(sessions.map((session) => [session.id, session]));
  const counts = new Map<string, number>();
  for (const session of sessions) counts.set(session.conversationId, (counts.get(session.conversationId) ?? 0) + 1);
  return sessions
    .filter((session) => session.kind !== 'rewind')
    .map((head) => ({ head, shown: byId.get(head.currentBranchId ?? head.id) ?? head, branches: counts.get(head.id) ?? 1 }))
    .sort((a, b) => b.shown.lastActivityAt.localeCompare(a.shown.lastActivityAt));
}

function titleIn(sessions: readonly SessionSummary[], id: string): string | undefined {
  return sessions.find((session) => session.id === id)?.title;
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

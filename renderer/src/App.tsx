/**
 * The app shell: the session list, the selected session, and one error banner.
 *
 * It holds only what the main process sends (summaries, events) and reaches it only through the
 * Transport. No secrets, no direct IPC.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AppInfo } from '#shared/rpc';
import type { SessionSummary } from '#shared/sessions';
import type { StoredEvent } from '#shared/events';
import { SessionView } from './SessionView.tsx';
import { Sidebar } from './Sidebar.tsx';
import type { Transport } from './transport.ts';

export interface AppProps {
  transport: Transport;
}

export function App({ transport }: AppProps) {
  /** null while the first list is loading. */
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const listRequest = useRef(0);

  const reportError = useCallback((reason: unknown) => setError(errorMessage(reason)), []);

  const refreshSessions = useCallback(async () => {
    const request = ++listRequest.current;
    try {
      const list = await transport.call('sessions-list', undefined);
      // A slower, older answer must not overwrite a newer one.
      if (request === listRequest.current) setSessions(list);
    } catch (reason) {
      reportError(reason);
    }
  }, [transport, reportError]);

  useEffect(() => {
    void refreshSessions();
    transport.call('app-info', undefined).then(setInfo, reportError);
    const offChanged = transport.on('sessions-changed', () => void refreshSessions());
    const offEvent = transport.on('session-event', ({ sessionId, event }) =>
      setSessions((list) => (list === null ? list : withActivity(list, sessionId, event))),
    );
    return () => {
      offChanged();
      offEvent();
    };
  }, [transport, refreshSessions, reportError]);

  // A selected session that no longer exists (deleted elsewhere) is deselected.
  useEffect(() => {
    if (sessions !== null && selectedId !== null && !sessions.some((session) => session.id === selectedId)) {
      setSelectedId(null);
    }
  }, [sessions, selectedId]);

  const titles = useMemo(() => new Map((sessions ?? []).map((session) => [session.id, session.title])), [sessions]);
  const titleOf = useCallback((sessionId: string) => titles.get(sessionId), [titles]);
  const selected = sessions?.find((session) => session.id === selectedId) ?? null;

  /** Shows a session the user just created, forked or imported, before the list push arrives. */
  const openSession = useCallback(
    (summary: SessionSummary) => {
      setSessions((list) => (list === null || list.some((s) => s.id === summary.id) ? list : [summary, ...list]));
      setSelectedId(summary.id);
      setError(null);
      void refreshSessions();
    },
    [refreshSessions],
  );

  return (
    <div className="app">
      <Sidebar
        transport={transport}
        sessions={sessions}
        selectedId={selectedId}
        info={info}
        titleOf={titleOf}
        onSelect={setSelectedId}
        onOpened={openSession}
        onError={reportError}
      />
      <main className="main">
        {error !== null && (
          <div className="banner" role="alert">
            <span className="banner-message">{error}</span>
            <button type="button" className="banner-dismiss" onClick={() => setError(null)} aria-label="Dismiss error">
              ×
            </button>
          </div>
        )}
        {selected !== null ? (
          <SessionView
            key={selected.id}
            transport={transport}
            session={selected}
            titleOf={titleOf}
            onSelect={setSelectedId}
            onForked={openSession}
            onError={reportError}
          />
        ) : (
          <EmptyState sessions={sessions} />
        )}
      </main>
    </div>
  );
}

function EmptyState({ sessions }: { sessions: SessionSummary[] | null }) {
  if (sessions === null) {
    return (
      <div className="empty" aria-busy="true">
        <p className="empty-hint">Loading sessions…</p>
      </div>
    );
  }
  if (sessions.length === 0) {
    return (
      <div className="empty">
        <h2>No sessions yet</h2>
        <p className="empty-hint">
          Create one with <strong>New session</strong>, or bring in a session exported from Drover with{' '}
          <strong>Import</strong>.
        </p>
        <p className="empty-note">
          Each session is an append-only log of events. Open one to read its events, fork it at any event, or export it
          as a .jsonl file.
        </p>
      </div>
    );
  }
  return (
    <div className="empty">
      <h2>Select a session</h2>
      <p className="empty-hint">Pick a session on the left to see its events.</p>
    </div>
  );
}

/** The list after `event` was appended to `sessionId`: its activity updated, most recent first. */
function withActivity(list: SessionSummary[], sessionId: string, event: StoredEvent): SessionSummary[] {
  const index = list.findIndex((session) => session.id === sessionId);
  const current = list[index];
  if (current === undefined || event.seq <= current.lastSeq) return list;
  const updated = { ...current, lastSeq: event.seq, lastActivityAt: event.ts };
  return [updated, ...list.slice(0, index), ...list.slice(index + 1)];
}

function errorMessage(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return `Something went wrong: ${String(reason)}`;
}

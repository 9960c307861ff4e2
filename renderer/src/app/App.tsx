/**
 * The app shell: the conversations sidebar, the open session (a branch of one), the launch
 * dialog and one error banner. Where the user is lives in the address (route.ts), so a reload
 * finds the same session, branch and event.
 *
 * It holds only what the main process sends (summaries, events) and reaches it only through the
 * Transport. No secrets, no direct IPC.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { StoredEvent } from '#shared/events';
import type { AppInfo } from '#shared/rpc';
import type { SessionSummary } from '#shared/sessions';
import { ApiKeyPrompt } from './ApiKeyPrompt.tsx';
import { LaunchDialog } from '#renderer/launch/index.ts';
import { formatRoute, parseRoute, type Route } from './route.ts';
import { SessionView } from '#renderer/session/index.ts';
import { SettingsView } from '#renderer/settings/index.ts';
import { ShortcutsDialog } from './ShortcutsDialog.tsx';
import { SearchDialog } from '#renderer/search/SearchDialog.tsx';
import { useSearchCommand } from '#renderer/search/search-commands.ts';
import { Sidebar, type SidebarHandle } from './Sidebar.tsx';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { notify, transitionsOf, waitingCount, windowTitle } from '#renderer/guardrails/index.ts';
import { CommandRegistry } from '#renderer/ui/commands.ts';
import { CommandsProvider } from '#renderer/ui/commands-context.tsx';
import { SIDEBAR_WIDTH } from '#renderer/ui/preferences.ts';
import { Splitter, sizeStyle, useStoredSize } from '#renderer/ui/Splitter.tsx';
import { CommandPalette } from './CommandPalette.tsx';
import { useAppCommands } from './app-commands.ts';

export interface AppProps {
  transport: Transport;
}

export function App({ transport }: AppProps) {
  const [registry] = useState(() => new CommandRegistry());
  return (
    <CommandsProvider registry={registry}>
      <Shell transport={transport} registry={registry} />
    </CommandsProvider>
  );
}

function Shell({ transport, registry }: AppProps & { registry: CommandRegistry }) {
  /** null while the first list is loading. */
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [launching, setLaunching] = useState(false);
  const [showShortcuts, setShowShortcuts] = useState(false);
  const [searching, setSearching] = useState(false);
  /** Bumped when a search hit opens a session, so an open session re-opens at the hit's event. */
  const [jump, setJump] = useState(0);
  const [showPalette, setShowPalette] = useState(false);
  const [sidebarWidth, setSidebarWidth] = useStoredSize(SIDEBAR_WIDTH);
  const listRequest = useRef(0);
  const sidebar = useRef<SidebarHandle>(null);

  const reportError = useCallback((reason: unknown) => setError(messageOf(reason)), []);

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
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loads the list from the host: state is set when its answer arrives
    void refreshSessions();
    transport.call('app-info', undefined).then(setInfo, reportError);
    const offChanged = transport.on('sessions-changed', () => void refreshSessions());
    const offEvent = transport.on('session-event', ({ sessionId, event }) => {
      setSessions((list) => (list === null ? list : withEvent(list, sessionId, event)));
      // Costs and the outcome's state are counted in the main process: fetch them when a turn
      // ends and when the outcome is defined or checked (the sidebar says "checking… (2/3)").
      if (
        event.type === 'session.status_idle' ||
        event.type === 'user.define_outcome' ||
        event.type === 'span.outcome_evaluation_start' ||
        event.type === 'span.outcome_evaluation_end'
      ) {
        void refreshSessions();
      }
    });
    // A turn stopped and its log could not say so (a full disk): the banner says why, the list that it stopped.
    const offFault = transport.on('session-fault', ({ message }) => {
      setError(message);
      void refreshSessions();
    });
    const offMenu = transport.on('menu-command', ({ command }) => {
      if (command === 'new-session') setLaunching(true);
      else if (command === 'import-session') sidebar.current?.importFile();
    });
    return () => {
      offChanged();
      offEvent();
      offMenu();
      offFault();
    };
  }, [transport, refreshSessions, reportError]);

  const navigate = useCallback((next: Route, replace = false) => {
    setRoute(next);
    const hash = formatRoute(next);
    if (window.location.hash === hash) return;
    if (replace) window.history.replaceState(null, '', hash);
    else window.history.pushState(null, '', hash);
  }, []);

  // "?" shows the shortcuts, unless the user is typing; Ctrl/Cmd+K the command palette, from anywhere but another dialog.
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent): void {
      // Ctrl/Cmd+Shift+F: search across sessions, from anywhere but another dialog.
      if (event.key.toLowerCase() === 'f' && (event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey) {
        event.preventDefault();
        if (document.querySelector('dialog[open]') === null) setSearching(true);
        return;
      }
      if (event.key.toLowerCase() === 'k' && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
        event.preventDefault();
        if (document.querySelector('dialog[open]') === null) setShowPalette(true);
        return;
      }
      const target = event.target;
      const typing =
        target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
      if (event.key === '?' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        setShowShortcuts(true);
      }
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // A session that no longer exists (deleted elsewhere, or a stale address) is let go.
  useEffect(() => {
    if (sessions !== null && route.sessionId !== null && !sessions.some((session) => session.id === route.sessionId)) {
      // eslint-disable-next-line react-hooks/set-state-in-effect -- the address (an external system) follows the list from the host
      navigate({ sessionId: null, cursor: null }, true);
    }
  }, [sessions, route.sessionId, navigate]);

  const titles = useMemo(() => new Map((sessions ?? []).map((session) => [session.id, session.title])), [sessions]);
  const titleOf = useCallback((sessionId: string) => titles.get(sessionId), [titles]);
  const selected = sessions?.find((session) => session.id === route.sessionId) ?? null;
  const branchCount =
    selected === null ? 0 : (sessions ?? []).filter((session) => session.conversationId === selected.conversationId).length;

  const open = useCallback((sessionId: string) => navigate({ sessionId, cursor: null }), [navigate]);

  // The window title says how many sessions wait for the user ("(2) Drover"); each session that
  // starts waiting or finishes is notified once (when the user turned notifications on).
  const waiting = waitingCount(sessions);
  useEffect(() => {
    document.title = windowTitle(waiting);
  }, [waiting]);
  const notified = useRef<SessionSummary[] | null>(null);
  useEffect(() => {
    if (sessions === null) return;
    for (const attention of transitionsOf(notified.current, sessions)) notify(attention, open);
    notified.current = sessions;
  }, [sessions, open]);

  /** Shows a session the user just created, forked, rewound or imported, before the list push arrives. */
  const openSession = useCallback(
    (summary: SessionSummary) => {
      setSessions((list) => (list === null || list.some((s) => s.id === summary.id) ? list : [summary, ...list]));
      navigate({ sessionId: summary.id, cursor: null });
      setError(null);
      void refreshSessions();
    },
    [navigate, refreshSessions],
  );

  const newSession = useCallback(() => setLaunching(true), []);
  const importSession = useCallback(() => sidebar.current?.importFile(), []);
  const openSettings = useCallback(() => navigate({ sessionId: null, cursor: null, settings: true }), [navigate]);
  const shortcuts = useCallback(() => setShowShortcuts(true), []);
  useAppCommands(sessions, { newSession, importSession, openSettings, showShortcuts: shortcuts, openSession: open });
  const openSearch = useCallback(() => setSearching(true), []);
  useSearchCommand(openSearch);

  const onCursorChange = useCallback(
    (cursor: number | null) => {
      if (route.sessionId !== null) navigate({ sessionId: route.sessionId, cursor }, true);
    },
    [navigate, route.sessionId],
  );

  return (
    <div className="app" style={sizeStyle({ '--sidebar-width': sidebarWidth })}>
      <Sidebar
        ref={sidebar}
        onSearch={() => setSearching(true)}
        transport={transport}
        sessions={sessions}
        selected={selected}
        info={info}
        onSelect={open}
        onNew={newSession}
        onShortcuts={shortcuts}
        onPalette={() => setShowPalette(true)}
        onSettings={openSettings}
        settingsOpen={route.settings === true}
        onOpened={openSession}
        onError={reportError}
        resizer={
          <Splitter
            label="Resize the sessions sidebar"
            spec={SIDEBAR_WIDTH}
            size={sidebarWidth}
            onResize={setSidebarWidth}
            orientation="vertical"
            grows="ArrowRight"
            className="sidebar-splitter"
            testId="sidebar-splitter"
          />
        }
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
        <ApiKeyPrompt transport={transport} onOpenSettings={() => navigate({ sessionId: null, cursor: null, settings: true })} />
        {route.settings === true ? (
          <SettingsView transport={transport} onError={reportError} />
        ) : selected !== null ? (
          <SessionView
            key={`${selected.id}:${jump}`}
            transport={transport}
            session={selected}
            branchCount={branchCount}
            titleOf={titleOf}
            initialCursor={route.cursor}
            onCursorChange={onCursorChange}
            onOpen={open}
            onOpened={openSession}
            onError={reportError}
          />
        ) : (
          <EmptyState sessions={sessions} onNew={() => setLaunching(true)} />
        )}
      </main>
      <ShortcutsDialog open={showShortcuts} onClose={() => setShowShortcuts(false)} />
      {searching && (
        <SearchDialog
          transport={transport}
          sessions={sessions ?? []}
          onOpenHit={(sessionId, seq) => {
            setSearching(false);
            setJump((count) => count + 1);
            navigate({ sessionId, cursor: seq });
          }}
          onClose={() => setSearching(false)}
        />
      )}
      {showPalette && <CommandPalette registry={registry} onClose={() => setShowPalette(false)} />}
      <LaunchDialog
        transport={transport}
        open={launching}
        onClose={() => setLaunching(false)}
        onLaunched={(session) => {
          setLaunching(false);
          openSession(session);
        }}
        onError={reportError}
      />
    </div>
  );
}

function EmptyState({ sessions, onNew }: { sessions: SessionSummary[] | null; onNew: () => void }) {
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
        <h2>Start your first session</h2>
        <p className="empty-hint">
          A session is Claude working on a task, with a Docker container as its hands. Everything it does is recorded, so you can scrub back
          through it, rewind when it goes wrong, or fork it to try another way.
        </p>
        <button type="button" className="button button-primary button-large" onClick={onNew}>
          New session
        </button>
        <p className="empty-note">
          Or bring in a session exported from Drover with <strong>Import</strong>.
        </p>
      </div>
    );
  }
  return (
    <div className="empty">
      <h2>Pick a session</h2>
      <p className="empty-hint">Choose one on the left, or start a new one.</p>
      <button type="button" className="button" onClick={onNew}>
        New session
      </button>
    </div>
  );
}

/** The list after `event` was appended to `sessionId`: its activity and status updated, most recent first. */
function withEvent(list: SessionSummary[], sessionId: string, event: StoredEvent): SessionSummary[] {
  const index = list.findIndex((session) => session.id === sessionId);
  const current = list[index];
  if (current === undefined || event.seq <= current.lastSeq) return list;
  const updated: SessionSummary = { ...current, lastSeq: event.seq, lastActivityAt: event.ts };
  if (event.type === 'session.status_running') {
    updated.status = 'running';
    updated.stopReason = null;
  } else if (event.type === 'session.status_terminated') {
    updated.status = 'terminated';
  }
  return [updated, ...list.slice(0, index), ...list.slice(index + 1)];
}

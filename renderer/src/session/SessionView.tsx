/**
 * One session, the cockpit: the transcript as of the timeline's cursor, a side panel (hands,
 * the event inspector, the branch tree), the timeline scrubber, and either the message box
 * (live) or, when scrubbed back, Rewind / Fork / Back to live.
 *
 * The cursor is null while live (following new events) and an event seq while the user looks
 * at the past. Everything shown derives from the log; nothing here holds a secret.
 */
import { useCallback, useEffect, useId, useMemo, useState, useSyncExternalStore } from 'react';
import { describeDescendants, type SessionSummary, type SessionTreeNode } from '#shared/sessions';
import { BranchTree } from '#renderer/timeline/index.ts';
import { Composer } from './Composer.tsx';
import { EventList } from '#renderer/timeline/index.ts';
import { useKeyStorable } from '#renderer/ui/api-key.ts';
import { formatCost, formatFullTime, plural, statusText } from '#renderer/ui/format.ts';
import { handsAsOf } from '#renderer/hands/index.ts';
import { HandsPanel } from '#renderer/hands/index.ts';
import { OutcomeControl } from '#renderer/outcome/index.ts';
import { ChangesPanel, turnRange, type ChangesRange } from '#renderer/changes/index.ts';
import { ApprovalCards, BudgetMeter, BudgetReached, PolicyPanel, useGuardrails } from '#renderer/guardrails/index.ts';
import { SessionLog } from '#renderer/client/session-log.ts';
import { RewindMenu, Timeline, type RewindKeep } from '#renderer/timeline/index.ts';
import { clampSeq, nextTurn, previousTurn } from '#renderer/timeline/index.ts';
import { Transcript } from './Transcript.tsx';
import type { Transport } from '#renderer/client/transport.ts';
import { useLive } from './useLive.ts';
import { useThreadView } from './useThreadView.ts';
import { ThreadSwitch, ThreadTree } from '#renderer/threads/index.ts';
import { useSessionCommands } from './session-commands.ts';
import { SIDE_PANEL_WIDTH, TIMELINE_HEIGHT } from '#renderer/ui/preferences.ts';
import { Splitter, sizeStyle, useStoredSize } from '#renderer/ui/Splitter.tsx';
import { Tabs, panelId, tabId } from '#renderer/ui/Tabs.tsx';

export type PanelTab = 'hands' | 'events' | 'branches' | 'changes';
const PANEL_KEY = 'drover.panel';
const PANEL_TABS: ReadonlyArray<{ id: PanelTab; label: string }> = [
  { id: 'hands', label: 'Hands' },
  { id: 'events', label: 'Events' },
  { id: 'branches', label: 'Branches' },
  { id: 'changes', label: 'Changes' },
];

export interface SessionViewProps {
  transport: Transport;
  session: SessionSummary;
  /** Sessions in the same conversation (branches), for the header's branch count. */
  branchCount: number;
  titleOf: (sessionId: string) => string | undefined;
  /** The cursor to start at (from the address, after a reload); null: live. */
  initialCursor: number | null;
  onCursorChange: (cursor: number | null) => void;
  /** Open another session (a branch, a fork, the parent). */
  onOpen: (sessionId: string) => void;
  /** A session was created from this one (fork or rewind): show it. */
  onOpened: (session: SessionSummary) => void;
  onError: (reason: unknown) => void;
}

export function SessionView(props: SessionViewProps) {
  const { transport, session } = props;
  const [log, setLog] = useState<SessionLog | null>(null);
  useEffect(() => {
    const created = new SessionLog(transport, session.id);
    created.start();
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the log is an external store made per session and disposed with it
    setLog(created);
    return () => created.dispose();
  }, [transport, session.id]);
  if (log === null || log.sessionId !== session.id) return <section className="session" aria-busy="true" />;
  return <SessionCockpit {...props} log={log} />;
}

function SessionCockpit({
  transport,
  session,
  branchCount,
  titleOf,
  initialCursor,
  onCursorChange,
  onOpen,
  onOpened,
  onError,
  log,
}: SessionViewProps & { log: SessionLog }) {
  useSyncExternalStore(log.subscribe, log.getVersion);
  const sessionId = session.id;
  const [cursor, setCursorState] = useState<number | null>(initialCursor);
  const [tab, setTab] = useState<PanelTab>(() => readPanel());
  const [busy, setBusy] = useState<'fork' | 'rewind' | 'export' | 'delete' | null>(null);
  const [treeVersion, setTreeVersion] = useState(0);
  const liveState = useLive(transport, sessionId);
  const keyStorable = useKeyStorable(transport);
  const guardrails = useGuardrails(transport, session.id);
  const threads = useThreadView(transport, log);
  const titleId = useId();
  const [panelWidth, setPanelWidth] = useStoredSize(SIDE_PANEL_WIDTH);
  const [tapeHeight, setTapeHeight] = useStoredSize(TIMELINE_HEIGHT);

  const lastSeq = log.lastSeq;
  const live = cursor === null || cursor >= lastSeq;
  const viewSeq = live ? lastSeq : clampSeq(cursor, lastSeq);

  const setCursor = useCallback(
    (next: number | null) => {
      const value = next === null || next >= log.lastSeq ? null : Math.max(1, next);
      setCursorState(value);
      onCursorChange(value);
    },
    [log, onCursorChange],
  );
  const seek = useCallback((seq: number) => setCursor(seq), [setCursor]);
  /** What the Changes tab shows first: a tool call's range when one asked, else the cursor's turn. `n` remakes the panel on each ask. */
  const [changesAsk, setChangesAsk] = useState<{ range: ChangesRange; n: number } | null>(null);
  const showChanges = useCallback((range: ChangesRange) => {
    setChangesAsk((previous) => ({ range, n: (previous?.n ?? 0) + 1 }));
    setTab('changes');
  }, []);
  const goLive = useCallback(() => setCursor(null), [setCursor]);

  useEffect(() => {
    localStorage.setItem(PANEL_KEY, tab);
  }, [tab]);

  // The branch tree changes when this conversation gains a branch.
  useEffect(() => transport.on('sessions-changed', () => setTreeVersion((version) => version + 1)), [transport]);

  const running = session.status === 'running' || liveState.blocks !== null;

  const fork = useCallback(async () => {
    setBusy('fork');
    try {
      onOpened(await transport.call('sessions-fork', { sessionId, atSeq: viewSeq }));
    } catch (reason) {
      onError(reason);
    } finally {
      setBusy(null);
    }
  }, [transport, sessionId, viewSeq, onOpened, onError]);

  const rewind = useCallback(
    async (keep: RewindKeep = 'both') => {
      setBusy('rewind');
      try {
        onOpened(await transport.call('sessions-rewind', { sessionId, atSeq: viewSeq, keep }));
      } catch (reason) {
        onError(reason);
      } finally {
        setBusy(null);
      }
    },
    [transport, sessionId, viewSeq, onOpened, onError],
  );

  const exportSession = useCallback(async () => {
    setBusy('export');
    try {
      const { fileName, jsonl } = await transport.call('sessions-export', { sessionId });
      downloadText(fileName, jsonl, 'application/x-ndjson');
    } catch (reason) {
      onError(reason);
    } finally {
      setBusy(null);
    }
  }, [transport, sessionId, onError]);

  const remove = useCallback(async () => {
    const what = session.kind === 'rewind' ? `this branch of “${session.title}”` : `“${session.title}”`;
    let descendants: SessionTreeNode[];
    try {
      descendants = descendantsOf(await transport.call('sessions-tree', { sessionId }), sessionId);
    } catch (reason) {
      onError(reason);
      return;
    }
    // Branches and forks taken from it read its events: they can only go with it, and the question says so.
    const question =
      descendants.length === 0
        ? `Delete ${what}? Its events, containers and snapshots are removed for good.`
        : `Delete ${what} and the ${describeDescendants(descendants)} taken from it? They continue from its events, so they go too. Their events, containers and snapshots are removed for good.`;
    if (!window.confirm(question)) return;
    setBusy('delete');
    try {
      await transport.call('sessions-delete', { sessionId, withDescendants: descendants.length > 0 });
      // A deleted branch gives way to the one it was taken from.
      if (session.kind === 'rewind' && session.parentId !== null) onOpen(session.parentId);
    } catch (reason) {
      onError(reason);
      setBusy(null);
    }
  }, [transport, sessionId, session.kind, session.title, session.parentId, onOpen, onError]);

  const openBranch = useCallback(
    async (node: SessionTreeNode) => {
      try {
        await transport.call('sessions-switch-branch', { sessionId: node.id });
        onOpen(node.id);
      } catch (reason) {
        onError(reason);
      }
    },
    [transport, onOpen, onError],
  );

  // Keyboard: ←/→ one event, Shift+←/→ one turn, End back to live — unless typing somewhere.
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent): void {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || isEditable(event.target)) return;
      if (lastSeq === 0) return;
      let to: number | null | undefined;
      if (event.key === 'ArrowLeft') to = event.shiftKey ? previousTurn(log.turnStarts, viewSeq) : viewSeq - 1;
      else if (event.key === 'ArrowRight') to = event.shiftKey ? nextTurn(log.turnStarts, viewSeq, lastSeq) : viewSeq + 1;
      else if (event.key === 'End') to = null;
      if (to === undefined) return;
      event.preventDefault();
      setCursor(to === null ? null : clampSeq(to, lastSeq));
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [log, lastSeq, viewSeq, setCursor]);

  // The native menu's commands (Electron) for this session.
  useEffect(
    () =>
      transport.on('menu-command', ({ command }) => {
        if (command === 'step-back') setCursor(clampSeq(viewSeq - 1, lastSeq));
        else if (command === 'step-forward') setCursor(clampSeq(viewSeq + 1, lastSeq));
        else if (command === 'turn-back') setCursor(previousTurn(log.turnStarts, viewSeq));
        else if (command === 'turn-forward') setCursor(nextTurn(log.turnStarts, viewSeq, lastSeq));
        else if (command === 'go-live') setCursor(null);
        else if (command === 'fork-here') void fork();
        else if (command === 'rewind-here' && !live) void rewind();
        else if (command === 'export-session') void exportSession();
        else if (command === 'toggle-events') setTab((current) => (current === 'events' ? 'hands' : 'events'));
        else if (command === 'toggle-branches') setTab((current) => (current === 'branches' ? 'hands' : 'branches'));
        else if (command === 'interrupt') void transport.call('sessions-interrupt', { sessionId }).catch(onError);
      }),
    [transport, log, sessionId, viewSeq, lastSeq, live, setCursor, fork, rewind, exportSession, onError],
  );

  // The palette's session commands (Ctrl/Cmd+K), at the event selected on the timeline.
  const interrupt = useCallback(() => transport.call('sessions-interrupt', { sessionId }).catch(onError), [transport, sessionId, onError]);
  useSessionCommands({ viewSeq, live, running, busy: busy !== null, fork, rewind, goLive, interrupt, exportSession, showTab: setTab });

  // The log appends to its hand events in place: the count is what changes when one arrives.
  const handEventCount = log.handEvents.length;
  const pastHands = useMemo(
    () => (live ? null : { seq: viewSeq, hands: handsAsOf(log.handEvents.slice(0, handEventCount), viewSeq) }),
    [live, viewSeq, log, handEventCount],
  );

  const parentId = session.parentId;
  const parentTitle = parentId === null ? undefined : titleOf(parentId);

  return (
    <section
      className="session"
      aria-labelledby={titleId}
      data-testid="session-view"
      style={sizeStyle({ '--side-panel-width': panelWidth, '--tape-height': tapeHeight })}
    >
      <header className="session-header">
        <div className="session-heading">
          <h2 id={titleId}>
            <span className={`status-dot status-${session.status}`} aria-hidden="true" />
            {session.title}
          </h2>
          <p className="session-subtitle">
            <span className={`status-label status-${session.status}`}>{statusText(session.status, session.stopReason)}</span>
            <span aria-hidden="true"> · </span>
            {plural(lastSeq, 'event')}
            {session.costUsd > 0 && (
              <>
                <span aria-hidden="true"> · </span>
                <span title="Estimated cost of this branch's model requests">{formatCost(session.costUsd)}</span>
              </>
            )}
            <span aria-hidden="true"> · </span>
            created <time dateTime={session.createdAt}>{formatFullTime(session.createdAt)}</time>
            {session.kind === 'rewind' && session.forkSeq !== null && (
              <>
                <span aria-hidden="true"> · </span>
                <button type="button" className="link" onClick={() => setTab('branches')}>
                  branch from event #{session.forkSeq}
                </button>
              </>
            )}
            {session.kind === 'fork' && parentId !== null && (
              <>
                {' · fork of '}
                {parentTitle === undefined ? (
                  'a deleted session'
                ) : (
                  <button type="button" className="link" onClick={() => onOpen(parentId)}>
                    {parentTitle}
                  </button>
                )}
                {session.forkSeq !== null && ` at event #${session.forkSeq}`}
              </>
            )}
          </p>
        </div>
        <div className="session-actions">
          <BudgetMeter view={guardrails.view} />
          {branchCount > 1 && (
            <button
              type="button"
              className="button button-quiet"
              onClick={() => setTab('branches')}
              title="Show this conversation's branches"
            >
              {plural(branchCount, 'branch', 'branches')}
            </button>
          )}
          <OutcomeControl key={sessionId} transport={transport} session={session} />
          <button
            type="button"
            className="button"
            onClick={() => void exportSession()}
            disabled={busy !== null}
            title="Save this session's events as a .jsonl file"
          >
            {busy === 'export' ? 'Exporting…' : 'Export'}
          </button>
          <button
            type="button"
            className="button button-quiet button-danger-quiet"
            onClick={() => void remove()}
            disabled={busy !== null || running}
            title={running ? 'Stop Claude before deleting' : 'Delete this session (or branch) and its containers'}
          >
            {busy === 'delete' ? 'Deleting…' : 'Delete'}
          </button>
        </div>
      </header>

      <div className="session-body">
        <div className="session-main">
          {log.error !== null && (
            <p className="notice notice-error" role="alert">
              Could not load this session’s events: {log.error}
            </p>
          )}
          {!log.ready && log.error === null ? (
            <div className="transcript transcript-empty" aria-busy="true">
              <p className="empty-hint">Loading the session…</p>
            </div>
          ) : (
            <>
              <ThreadSwitch threads={threads.lanes.threads} shown={threads.shown} onShow={threads.show} />
              <Transcript
                log={log}
                cursor={viewSeq}
                live={live}
                running={running}
                liveState={liveState}
                evaluating={session.outcome?.state === 'evaluating'}
                titleOf={titleOf}
                onSeek={seek}
                keyStorable={keyStorable}
                onShowChanges={showChanges}
                threads={threads.transcript}
              />
            </>
          )}
          {live && (
            <ApprovalCards key={sessionId} transport={transport} sessionId={sessionId} view={guardrails.view} onView={guardrails.apply} />
          )}
          {live && session.status === 'idle' && session.stopReason === 'budget_reached' && (
            <BudgetReached
              key={`budget-${sessionId}`}
              transport={transport}
              sessionId={sessionId}
              view={guardrails.view}
              onView={guardrails.apply}
            />
          )}
        </div>
        <aside className="side-panel" id={`${titleId}-side`} aria-label="Session details">
          <Splitter
            label="Resize the side panel"
            spec={SIDE_PANEL_WIDTH}
            size={panelWidth}
            onResize={setPanelWidth}
            orientation="vertical"
            grows="ArrowLeft"
            controls={`${titleId}-side`}
            className="side-panel-splitter"
            testId="side-panel-splitter"
          />
          <Tabs tabs={PANEL_TABS} selected={tab} onSelect={setTab} label="Panels" idPrefix={titleId} />
          <div className="tab-panel" role="tabpanel" id={panelId(titleId)} aria-labelledby={tabId(titleId, tab)}>
            {tab === 'hands' && <HandsPanel transport={transport} sessionId={sessionId} asOf={pastHands} titleOf={titleOf} />}
            {tab === 'hands' && live && (
              <PolicyPanel
                transport={transport}
                sessionId={sessionId}
                view={guardrails.view}
                onView={guardrails.apply}
                error={guardrails.error}
              />
            )}
            {tab === 'events' && <EventList log={log} cursor={viewSeq} onSelect={seek} titleOf={titleOf} />}
            {tab === 'changes' && (
              <ChangesPanel
                key={`${sessionId}:${changesAsk?.n ?? 0}`}
                transport={transport}
                sessionId={sessionId}
                range={changesAsk?.range ?? turnRange(log.turnStarts, viewSeq)}
                cursor={viewSeq}
                turnStarts={log.turnStarts}
                lastSeq={lastSeq}
                live={live}
              />
            )}
            {tab === 'branches' && (
              <ThreadTree threads={threads.lanes.threads} shown={threads.shown} onShow={threads.show} error={threads.error} />
            )}
            {tab === 'branches' && (
              <BranchTree
                transport={transport}
                sessionId={sessionId}
                refreshKey={`${treeVersion}:${lastSeq}`}
                onOpen={(node) => void openBranch(node)}
                onError={() => undefined}
              />
            )}
          </div>
        </aside>
      </div>

      <div className="timeline-resize">
        <Splitter
          label="Resize the timeline"
          spec={TIMELINE_HEIGHT}
          size={tapeHeight}
          onResize={setTapeHeight}
          orientation="horizontal"
          grows="ArrowUp"
          className="timeline-splitter"
          testId="timeline-splitter"
        />
      </div>
      <Timeline log={log} cursor={viewSeq} live={live} onSeek={seek} onLive={goLive} lanes={threads.lanesView} />

      {live ? (
        <Composer transport={transport} sessionId={sessionId} running={running} onError={onError} />
      ) : (
        <div className="past-bar" role="region" aria-label="Viewing the past" data-testid="past-bar">
          <p className="past-text">
            Viewing event <strong>#{viewSeq.toLocaleString()}</strong> of {lastSeq.toLocaleString()} — the session as it was then.
          </p>
          <div className="past-actions">
            <RewindMenu onRewind={(keep) => void rewind(keep)} busy={busy === 'rewind'} disabled={busy !== null} />
            <button
              type="button"
              className="button"
              onClick={() => void fork()}
              disabled={busy !== null}
              title="Start a new session from this point; this one stays as it is"
            >
              {busy === 'fork' ? 'Forking…' : 'Fork from here'}
            </button>
            <button
              type="button"
              className="button button-quiet"
              onClick={() => showChanges(turnRange(log.turnStarts, viewSeq))}
              title="The files this turn changed up to here, in the Changes tab"
            >
              Files changed
            </button>
            <button type="button" className="button button-quiet" onClick={goLive}>
              Back to live
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

function readPanel(): PanelTab {
  const saved = localStorage.getItem(PANEL_KEY);
  return saved === 'events' || saved === 'branches' || saved === 'changes' ? saved : 'hands';
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return (
    tag === 'INPUT' ||
    tag === 'TEXTAREA' ||
    tag === 'SELECT' ||
    target.getAttribute('role') === 'slider' ||
    target.getAttribute('role') === 'listbox'
  );
}

/** Saves text as a file through the browser's download flow (Electron shows a save dialog). */
function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The download reads the Blob asynchronously; revoking at once can cut it off.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The branches and forks taken from a session, and theirs (the tree lists parents before children). */
export function descendantsOf(tree: readonly SessionTreeNode[], sessionId: string): SessionTreeNode[] {
  const below = new Set([sessionId]);
  const found: SessionTreeNode[] = [];
  for (const node of tree) {
    if (node.parentId !== null && below.has(node.parentId)) {
      below.add(node.id);
      found.push(node);
    }
  }
  return found;
}

/**
 * The Hands panel's rows for a session's self-hosted worker (issue 22): which worker holds its
 * work, on which machine, the work item, its state (waiting, ready, lost…) and the last heartbeat.
 * The list comes from 'workers-list'; heartbeats are not logged, so it is asked again every 2 s
 * while a worker holds or may take the work, and whenever a `hand.*` event is recorded.
 */
import { useCallback, useEffect, useState } from 'react';
import type { WorkerStatus } from '#shared/workers';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { needsRefresh, workerRowOf } from './worker-model.ts';

const REFRESH_MS = 2000;

interface WorkersState {
  sessionId: string;
  workers: readonly WorkerStatus[];
  error: string | null;
  /** When the list was fetched (what "N s ago" counts from). */
  at: number;
}

export function useWorkers(transport: Transport, sessionId: string): Omit<WorkersState, 'sessionId'> {
  const [state, setState] = useState<WorkersState>({ sessionId, workers: [], error: null, at: 0 });
  const refresh = useCallback(async () => {
    try {
      const workers = await transport.call('workers-list', { sessionId });
      setState({ sessionId, workers, error: null, at: Date.now() });
    } catch (reason) {
      setState((current) => ({ ...current, sessionId, error: messageOf(reason) }));
    }
  }, [transport, sessionId]);
  useEffect(() => {
    const off = transport.on('session-event', ({ sessionId: id, event }) => {
      if (id === sessionId && event.type.startsWith('hand.')) void refresh();
    });
    void refresh();
    return off;
  }, [transport, sessionId, refresh]);
  const live = state.sessionId === sessionId && needsRefresh(state.workers);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, refresh]);
  return state.sessionId === sessionId ? state : { workers: [], error: null, at: 0 };
}

export function WorkerRows({ transport, sessionId }: { transport: Transport; sessionId: string }) {
  const { workers, error, at } = useWorkers(transport, sessionId);
  if (workers.length === 0 && error === null) return null;
  return <WorkerList workers={workers} error={error} now={at} />;
}

export function WorkerList({ workers, error, now }: { workers: readonly WorkerStatus[]; error: string | null; now: number }) {
  return (
    <>
      {error !== null && (
        <p className="hands-error" role="alert">
          Could not load the self-hosted worker: {error}
        </p>
      )}
      <ul className="hands-list" aria-label="Self-hosted worker" data-testid="worker-rows">
        {workers.map((worker) => {
          const row = workerRowOf(worker, now);
          return (
            <li key={worker.work_id} className="hand" aria-label={`Worker ${row.name}`}>
              <div className="hand-line">
                <span className={`hand-state hand-state-${row.tone}`}>{row.state}</span>
                <span className="hand-name">{row.name}</span>
                <span className="hand-metas">
                  {row.metas.map((meta) => (
                    <span key={meta} className="hand-meta" title={meta.startsWith('work ') ? worker.work_id : undefined}>
                      {meta}
                    </span>
                  ))}
                </span>
                {row.heartbeat !== '' && (
                  <span className="hand-container" title={worker.last_heartbeat ?? undefined} data-testid="worker-heartbeat">
                    {row.heartbeat}
                  </span>
                )}
              </div>
              <div className="hand-line hand-line-secondary">
                <span className="hand-detail" title={row.detail}>
                  {row.detail}
                </span>
              </div>
              <p className="hand-terminal-note">A worker runs tools only; open a terminal on the machine it runs on.</p>
            </li>
          );
        })}
      </ul>
    </>
  );
}

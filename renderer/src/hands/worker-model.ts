/**
 * A session's self-hosted worker as the Hands panel shows it, the pure part: the state's word and
 * tone, the machine, and how long ago the last heartbeat was.
 */
import type { WorkerState, WorkerStatus } from '#shared/workers';

/** The hand-state class (hands.css) each worker state takes, as a hand's state would. */
export const WORKER_TONE: Record<WorkerState, 'ready' | 'lost' | 'provisioning' | 'idle'> = {
  waiting: 'idle',
  claimed: 'provisioning',
  starting: 'provisioning',
  ready: 'ready',
  lost: 'lost',
  stopping: 'provisioning',
  stopped: 'idle',
};

/** "just now", "12 s ago", "3 min ago" — or "no heartbeat yet". */
export function heartbeatAge(lastHeartbeat: string | null, now: number): string {
  if (lastHeartbeat === null) return 'no heartbeat yet';
  const at = Date.parse(lastHeartbeat);
  if (!Number.isFinite(at)) return 'no heartbeat yet';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 2) return 'heartbeat just now';
  if (seconds < 120) return `heartbeat ${seconds} s ago`;
  return `heartbeat ${Math.round(seconds / 60)} min ago`;
}

export interface WorkerRowView {
  name: string;
  state: WorkerState;
  tone: (typeof WORKER_TONE)[WorkerState];
  metas: string[];
  heartbeat: string;
  detail: string;
}

export function workerRowOf(worker: WorkerStatus, now: number): WorkerRowView {
  const metas = ['self-hosted worker'];
  if (worker.host !== null) metas.push(worker.host === 'this computer' ? 'on this computer' : `on ${worker.host}`);
  metas.push(`work ${worker.work_id.slice(0, 13)}…`);
  return {
    name: worker.worker_id ?? (worker.state === 'waiting' || worker.state === 'lost' ? 'no worker' : '(unnamed worker)'),
    state: worker.state,
    tone: WORKER_TONE[worker.state],
    metas,
    heartbeat: worker.state === 'ready' || worker.state === 'starting' ? heartbeatAge(worker.last_heartbeat, now) : '',
    detail: worker.detail,
  };
}

/** Whether the list should be asked again soon (a worker holds or may take the work). */
export function needsRefresh(workers: readonly WorkerStatus[]): boolean {
  return workers.some((worker) => worker.state !== 'stopped');
}

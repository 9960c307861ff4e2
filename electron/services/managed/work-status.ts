/**
 * A work item as the cockpit's Hands panel shows it (`WorkerStatus`, shared/workers.ts): the state
 * in the panel's words, the worker's machine, its last heartbeat and lease end.
 */
import type { WorkerState, WorkerStatus } from '#shared/workers';
import type { WorkItem } from './work-queue.ts';

export const LOCAL_ADDRESSES = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];

/** The worker's machine in words: 'this computer' for loopback, else its address. */
function hostOf(remote: string | null): string | null {
  if (remote === null) return null;
  return LOCAL_ADDRESSES.includes(remote) ? 'this computer' : remote;
}

export function workerStatusOf(item: WorkItem): WorkerStatus {
  const worker = item.workerId ?? '(no worker id)';
  const where = hostOf(item.remote);
  const on = where === null ? '' : ` on ${where}`;
  let state: WorkerState;
  let detail: string;
  switch (item.state) {
    case 'queued':
      if (item.claimedAtMs !== null) {
        state = 'claimed';
        detail = `Worker ${worker}${on} took the work; waiting for it to acknowledge.`;
      } else if (item.lostWorkerId !== null) {
        state = 'lost';
        detail = `Worker ${item.lostWorkerId} stopped heartbeating (its lease expired); its tool calls were answered as interrupted. The work waits for the next worker that polls: start one with the environment's key.`;
      } else {
        state = 'waiting';
        detail = `Waiting for a self-hosted worker to poll environment ${item.environment_id}: start one with the environment's key (Settings → Local API).`;
      }
      break;
    case 'starting':
      state = 'starting';
      detail = `Worker ${worker}${on} acknowledged the work; waiting for its first heartbeat.`;
      break;
    case 'active':
      state = 'ready';
      detail = `Worker ${worker}${on} runs this session's tools (lease ${item.ttlSeconds} s, renewed by each heartbeat).`;
      break;
    case 'stopping':
      state = 'stopping';
      detail = `Stopping: worker ${worker} is told at its next heartbeat.`;
      break;
    default:
      state = 'stopped';
      detail = `The work item was stopped${item.stopped_at === null ? '' : ` at ${item.stopped_at}`}; the session's next tool call queues new work.`;
  }
  return {
    work_id: item.id,
    environment_id: item.environment_id,
    worker_id: item.workerId,
    host: where,
    state,
    detail,
    last_heartbeat: item.latest_heartbeat_at,
    lease_expires_at: item.leaseUntilMs === null ? null : new Date(item.leaseUntilMs).toISOString(),
    ttl_seconds: item.ttlSeconds,
  };
}

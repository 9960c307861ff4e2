/**
 * A self-hosted worker's `user.tool_result`s (POST /v1/sessions/{id}/events): each must answer a
 * tool call of the session that waits for its worker (work-hand.ts), or nothing is recorded. The
 * result is recorded by the harness, as any hand's (`agent.tool_result`, which the API shows as a
 * `user.tool_result` for the worker's calls); the send answers once it is durable.
 */
import type { ContentBlock } from '#shared/events';
import type { ApiContext } from './context.ts';
import { ApiError, invalid } from './errors.ts';
import { externalId } from './ids.ts';
import { WORKER_HAND_ID } from '#services/managed/work-queue';
import { workQueueFor } from './work.ts';

export interface WorkerResult {
  /** The `agent.tool_use` event it answers (uuid). */
  eventUuid: string;
  content: ContentBlock[];
  isError: boolean;
}

/** How long a send waits for the harness to record a delivered result. */
const RECORD_TIMEOUT_MS = 30_000;

/** Refuses (before anything is recorded) results for calls that do not wait for a worker, or twice-answered ones. */
export function checkWorkerResults(context: ApiContext, sessionId: string, results: readonly WorkerResult[]): void {
  if (results.length === 0) return;
  const queue = workQueueFor(context);
  const seen = new Set<string>();
  for (const result of results) {
    const id = externalId('event', result.eventUuid);
    if (seen.has(result.eventUuid)) throw invalid(`The tool use ${id} is answered twice in this batch: answer it once.`);
    seen.add(result.eventUuid);
    if (!queue.waiting(sessionId, result.eventUuid) && !openWorkerCall(context, sessionId, result.eventUuid))
      throw invalid(
        `The tool use ${id} does not wait for a self-hosted worker's result in this session (unknown, already answered or interrupted, or its session is not in a self_hosted environment). user.tool_result answers the agent.tool_use events of a session in a self_hosted environment.`,
      );
  }
}

/** Whether `eventUuid` is a recorded tool call of the session's worker that has no result yet (its hand may not wait yet). */
function openWorkerCall(context: ApiContext, sessionId: string, eventUuid: string): boolean {
  const events = context.store.getEvents(sessionId, { types: ['agent.tool_use', 'agent.tool_result'], direction: 'backward', limit: 1000 });
  const answered = new Set<string>();
  for (const event of events) {
    if (event.type === 'agent.tool_result') answered.add(event.payload.tool_use_id);
    else if (event.type === 'agent.tool_use' && event.id === eventUuid)
      return event.payload.hand_id === WORKER_HAND_ID && !answered.has(event.payload.tool_use_id);
  }
  return false;
}

/** Hands each result to its waiting call and resolves when the harness has recorded them all. */
export async function deliverWorkerResults(context: ApiContext, sessionId: string, results: readonly WorkerResult[]): Promise<void> {
  const queue = workQueueFor(context);
  const pending = new Set<string>();
  for (const result of results) {
    const event = context.store
      .getEvents(sessionId, { types: ['agent.tool_use'], direction: 'backward', limit: 1000 })
      .find((each) => each.id === result.eventUuid);
    if (event?.type === 'agent.tool_use') pending.add(event.payload.tool_use_id);
  }
  let unsubscribe = (): void => undefined;
  const recorded = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ApiError('api_error', 'The tool result was taken but Drover did not record it in time. List the events to see it.')),
      RECORD_TIMEOUT_MS,
    );
    unsubscribe = context.store.subscribe(sessionId, (event) => {
      if (event.type !== 'agent.tool_result' || !pending.delete(event.payload.tool_use_id)) return;
      if (pending.size === 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    if (pending.size === 0) {
      clearTimeout(timer);
      resolve();
    }
  });
  try {
    for (const result of results) {
      if (!queue.deliver(sessionId, result.eventUuid, result.content, result.isError, openWorkerCall(context, sessionId, result.eventUuid)))
        throw new ApiError(
          'conflict_error',
          `The tool use ${externalId('event', result.eventUuid)} stopped waiting (interrupted) before its result arrived.`,
        );
    }
    await recorded;
  } finally {
    unsubscribe();
  }
}

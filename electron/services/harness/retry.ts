/**
 * Retrying a model request that failed in a way that may pass (overloaded, rate-limited, a dropped
 * connection): the policy, its backoff, and the record of each retry. Shared by a turn's requests
 * (session-run.ts) and the grader's (outcome-run.ts), so both count attempts the same way.
 *
 * The attempt number comes from the log (`state.retryAttempts`), never from memory, so a crash
 * mid-wait neither resets nor repeats the count. A retry must never be waited for without its
 * `session.error` (with the attempt and delay) in the log first, and an interrupt must end the wait.
 */
import type { NewEvent } from '#shared/events';
import { sleep } from '#services/sleep';
import type { ModelCallError } from './model-client.ts';
import type { RunContext } from './run-context.ts';

export interface RetryPolicy {
  /** Failed attempts retried before the turn ends with `retries_exhausted`. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** Exponential backoff with ±20 % jitter; a server's retry-after wins when it asks for longer. */
export function backoff(attempt: number, policy: RetryPolicy, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(exponential * (0.8 + Math.random() * 0.4));
  return Math.min(Math.max(jittered, retryAfterMs ?? 0), Math.max(policy.maxDelayMs, 5 * 60_000));
}

/** A failed request's error as its `session.error` records it. */
export function errorDetail(error: ModelCallError): { type: string; message: string; status?: number } {
  return { type: error.errorType, message: error.message, ...(error.status === undefined ? {} : { status: error.status }) };
}

/**
 * Records a retryable failure (`end`, its request's end span, and a `session.error` with the
 * attempt and its delay), then waits the delay out (an interrupt ends the wait); the next step
 * sends the request again. False, recording nothing, when the policy's attempts are used up.
 */
export async function retryLater(run: RunContext, end: NewEvent, error: ModelCallError): Promise<boolean> {
  const attempt = run.state.retryAttempts + 1;
  if (attempt > run.retry.maxAttempts) return false;
  const delay = backoff(attempt, run.retry, error.retryAfterMs);
  run.emit(end, {
    type: 'session.error',
    payload: { error: errorDetail(error), retry_status: { type: 'retrying', attempt, delay_ms: delay } },
  });
  await sleep(delay, run.signal);
  return true;
}

/**
 * The one wait of the services: `sleep(ms, signal)` resolves after `ms`, or as soon as `signal`
 * aborts (at once when it already has). Used between retries (the harness's model requests, an
 * SSH hand's reconnections), where an interrupt must end the wait rather than wait it out.
 *
 * It must never reject (an abort is an early end, not an error: the caller checks its signal) and
 * never leave its timer or its abort listener behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

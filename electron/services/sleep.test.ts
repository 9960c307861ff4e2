// The shared wait: it waits its time, an abort ends it early (also one that came first), and it
// leaves no abort listener behind.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { sleep } from './sleep.ts';

/** An AbortSignal whose listeners can be counted. */
function countingSignal(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  let count = 0;
  const add = controller.signal.addEventListener.bind(controller.signal);
  const remove = controller.signal.removeEventListener.bind(controller.signal);
  controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    count++;
    add(...args);
  }) as typeof add;
  controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    count--;
    remove(...args);
  }) as typeof remove;
  return { controller, listeners: () => count };
}

describe('sleep', () => {
  it('waits its time, with or without a signal, and then holds no listener', async () => {
    let started = performance.now();
    await sleep(60);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    const { controller, listeners } = countingSignal();
    started = performance.now();
    await sleep(60, controller.signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(listeners()).toBe(0);
  });

  it('ends as soon as its signal aborts, and then holds no listener', async () => {
    const { controller, listeners } = countingSignal();
    const started = performance.now();
    const waiting = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await waiting;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(listeners()).toBe(0);
  });

  it('ends at once when its signal aborted before the wait began', async () => {
    const { controller, listeners } = countingSignal();
    controller.abort();
    const started = performance.now();
    await sleep(10_000, controller.signal);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(listeners()).toBe(0);
  });
});

// A terminal's output batching (output-batch.ts), on the real clock: an echo goes at once, in the tick it
// arrived; a flood of larger chunks is held to a handful of pushes per 16 ms window, losing nothing.
import { describe, expect, it } from 'vitest';
import { TERMINAL_LIMITS } from '#shared/terminals';
import { OutputBatch, PUSHES_PER_WINDOW, SMALL_OUTPUT } from './output-batch.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OutputBatch', () => {
  it('pushes a small chunk at once, coalescing what follows in the same tick into one push on the next', async () => {
    const pushes: string[] = [];
    const batch = new OutputBatch((data) => pushes.push(data));
    batch.push('a');
    expect(pushes).toEqual(['a']);
    batch.push('b');
    batch.push('c');
    expect(pushes).toEqual(['a']);
    await tick();
    expect(pushes).toEqual(['a', 'bc']);
    await tick();
    // Echoes in quick succession are never held for the window: each goes the moment it arrives.
    for (let index = 0; index < 3 * PUSHES_PER_WINDOW; index += 1) {
      batch.push('x');
      expect(pushes.at(-1)).toBe('x');
      await tick();
    }
    expect(pushes).toHaveLength(2 + 3 * PUSHES_PER_WINDOW);
    batch.stop();
  });

  it('holds a flood to a few pushes per 16 ms window, in order and whole', async () => {
    const pushes: Array<{ at: number; data: string }> = [];
    const batch = new OutputBatch((data) => pushes.push({ at: performance.now(), data }));
    const chunk = 'y'.repeat(SMALL_OUTPUT * 2);
    let sent = '';
    const until = performance.now() + 200;
    let index = 0;
    while (performance.now() < until) {
      const piece = `${index++}:${chunk}`;
      sent += piece;
      batch.push(piece);
      await tick();
    }
    await sleep(TERMINAL_LIMITS.batchMs * 2);
    expect(pushes.map((push) => push.data).join('')).toBe(sent);
    // Far fewer pushes than chunks; besides full 64 KiB pushes, at most the allowance per 16 ms window (windows open
    // at a held push, and a timer may fire a little early: two windows' worth in any 16 ms at worst).
    expect(pushes.length).toBeLessThan(index / 2);
    const partial = pushes.filter((push) => push.data.length < 64 * 1024);
    const span = (partial.at(-1)?.at ?? 0) - (partial[0]?.at ?? 0);
    expect(partial.length).toBeLessThanOrEqual((span / (TERMINAL_LIMITS.batchMs - 2) + 1) * (PUSHES_PER_WINDOW + 1));
    for (const push of partial) {
      const inWindow = partial.filter((other) => other.at >= push.at && other.at < push.at + TERMINAL_LIMITS.batchMs).length;
      expect(inWindow).toBeLessThanOrEqual(2 * PUSHES_PER_WINDOW);
    }
    batch.stop();
  });

  it('pushes 64 KiB at once, and nothing after stop', async () => {
    const pushes: string[] = [];
    const batch = new OutputBatch((data) => pushes.push(data));
    batch.push('z'.repeat(64 * 1024));
    expect(pushes).toHaveLength(1);
    batch.stop();
    batch.push('late');
    await sleep(TERMINAL_LIMITS.batchMs * 2);
    expect(pushes).toHaveLength(1);
  });
});

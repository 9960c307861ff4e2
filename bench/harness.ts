/**
 * Harness benchmarks: what the brain itself costs per turn, how fast a long session wakes, how it
 * holds up with many sessions at once, and how quickly an interrupt lands — one module per figure
 * under bench/harness/. Every figure has a baseline from the same run — the raw SDK streaming the
 * same requests from the same local model server, a direct hand call, a small session, or a single
 * session — so a slow machine moves both sides alike.
 *
 * It must never reach the real API or the network (only test/support's model server on
 * 127.0.0.1), never change harness code paths to make a figure look better (it drives the public
 * Harness API only), and never leave data behind: every store lives in a temp dir removed at the end.
 */
import type { Figure } from './session-store.ts';
import type { Log } from './harness/common.ts';
import { benchConcurrency } from './harness/concurrency.ts';
import { benchInterrupts } from './harness/interrupts.ts';
import { benchTurnOverhead } from './harness/turn-overhead.ts';
import { benchWake } from './harness/wake.ts';

/** Every harness figure, in order. */
export async function benchHarness(log: Log): Promise<Figure[]> {
  return [...(await benchTurnOverhead(log)), ...(await benchWake(log)), ...(await benchConcurrency(log)), ...(await benchInterrupts(log))];
}

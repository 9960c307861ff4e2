/**
 * The UI bench's figures (split from bench/ui.ts): what the runs measured, turned into the figures
 * the report prints, each with its same-run 100-event baseline. A figure that could not be measured
 * must never be reported as a pass: it says NOT MEASURED and why.
 */
import { p50, p95 } from '../harness/common.ts';
import type { Figure } from '../session-store.ts';

/** Decimal megabytes: the stricter reading of the 300 MB target. */
export const MB = 1_000_000;
/** Opens per session, after one discarded warm-up each (first process, cold caches). */
export const OPEN_REPEATS = 5;
/** Scrub rounds per session, each in a fresh page whose memory is read afterwards. */
export const SCRUB_ROUNDS = 3;

export type TargetLabel = 'Big' | 'Small';

/** What the probe in the page returns for one recorded stretch of frames. */
export interface FrameRecord {
  /** rAF timestamps (ms since navigation start). */
  times: number[];
  /** Distinct aria-valuenow values of the tape seen at frames. */
  cursors: number[];
  /** Distinct data-seq values of the transcript's last rendered row seen at frames. */
  transcriptSeqs: number[];
}

export interface Scrub {
  fps: number;
  intervals: number[];
  frames: FrameRecord;
}

export interface Memory {
  /** Largest renderer process RSS in bytes, or null where it cannot be read. */
  rss: number | null;
  heap: number;
}

export const mb = (bytes: number) => bytes / MB;
const measured = (values: ReadonlyArray<number | null>): number[] => values.filter((value): value is number => value !== null);

/** `rssUnavailable`: why renderer RSS could not be read in this run, or null. */
export function figures(
  bigEvents: number,
  opens: Record<TargetLabel, number[]>,
  scrubs: Record<TargetLabel, { drag: Scrub[]; keys: Scrub[]; memory: Memory[] }>,
  rssUnavailable: string | null,
): Figure[] {
  const size = `${bigEvents.toLocaleString('en')}-event session`;
  const list: Figure[] = [];
  const openBig = p50(opens.Big);
  const openSmall = p50(opens.Small);
  list.push({
    name: `UI: open a ${size} p50 (navigation start → timeline and transcript shown, ${OPEN_REPEATS} fresh pages)`,
    value: openBig,
    unit: 'ms',
    baseline: { name: 'a 100-event session', value: openSmall },
    ratio: openBig / openSmall,
    target: '≤ 1000 ms',
    pass: openBig <= 1000,
  });

  for (const [pass, title] of [
    ['drag', 'dragging the minimap end to end and back'],
    ['keys', 'holding → then ← on the tape'],
  ] as const) {
    // The slowest round: a frame rate is only as good as its worst stretch.
    const fpsBig = Math.min(...scrubs.Big[pass].map((scrub) => scrub.fps));
    const fpsSmall = Math.min(...scrubs.Small[pass].map((scrub) => scrub.fps));
    list.push({
      name: `UI: frame rate ${title}, ${size} (slowest of ${SCRUB_ROUNDS} rounds)`,
      value: fpsBig,
      unit: 'fps',
      baseline: { name: 'a 100-event session', value: fpsSmall },
      ratio: fpsBig / fpsSmall,
      target: '≥ 50 fps',
      pass: fpsBig >= 50,
    });
    const p95Big = p95(scrubs.Big[pass].flatMap((scrub) => scrub.intervals));
    const p95Small = p95(scrubs.Small[pass].flatMap((scrub) => scrub.intervals));
    list.push({
      name: `UI: frame interval p95 ${title}, ${size}`,
      value: p95Big,
      unit: 'ms',
      baseline: { name: 'a 100-event session', value: p95Small },
      ratio: p95Big / p95Small,
      target: 'reported (50 fps is 20 ms a frame)',
    });
  }

  const rssBig = measured(scrubs.Big.memory.map((memory) => memory.rss));
  const rssSmall = measured(scrubs.Small.memory.map((memory) => memory.rss));
  if (rssUnavailable === null && rssBig.length === SCRUB_ROUNDS && rssSmall.length === SCRUB_ROUNDS) {
    const big = mb(Math.max(...rssBig));
    const small = mb(Math.max(...rssSmall));
    list.push({
      name: `UI: renderer memory (RSS after the scrubs and a forced GC, largest of ${SCRUB_ROUNDS}), ${size}`,
      value: big,
      unit: 'MB',
      baseline: { name: 'a 100-event session', value: small },
      ratio: big / small,
      target: '≤ 300 MB',
      pass: big <= 300,
    });
  } else {
    list.push({
      name: `UI: renderer memory (RSS), ${size}`,
      value: Number.NaN,
      unit: 'MB',
      target: `≤ 300 MB — NOT MEASURED: ${rssUnavailable ?? 'unknown reason'}`,
    });
  }
  const heapBig = mb(Math.max(...scrubs.Big.memory.map((memory) => memory.heap)));
  const heapSmall = mb(Math.max(...scrubs.Small.memory.map((memory) => memory.heap)));
  list.push({
    name: `UI: JS heap used (after the scrubs and a forced GC, largest of ${SCRUB_ROUNDS}), ${size}`,
    value: heapBig,
    unit: 'MB',
    baseline: { name: 'a 100-event session', value: heapSmall },
    ratio: heapBig / heapSmall,
    target: 'reported (part of the 300 MB renderer)',
  });
  return list;
}

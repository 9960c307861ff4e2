/**
 * The time scale's density over a whole session (`readTimeDensity`), on a real store in a temp
 * folder: sessions imported with known timestamps (bursts of events, pauses of minutes to hours),
 * counted by brute force and compared slice by slice — read whole, read by sampling and bisection,
 * and past the probe budget (then the total still holds, nothing lands in a pause, and it says it
 * is not exact); a fork reads its parent's events up to the fork point and its own.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimeDensity } from '#shared/time-density';
import { tempDir } from '#test/support/system';
import { SessionStore } from './store.ts';
import { readTimeDensity } from './time-density.ts';
import { prng } from '#test/support/prng';

const START = Date.parse('2026-03-02T08:00:00.000Z');

interface Plan {
  times: number[];
  turnSeqs: number[];
}

/** `count` events in turns of 20–60, each turn after a pause of 1 s … 2 h, events 10–500 ms apart. */
function plan(count: number, seed: number): Plan {
  const random = prng(seed);
  const times: number[] = [];
  const turnSeqs: number[] = [];
  let ms = START;
  let left = 0;
  for (let seq = 1; seq <= count; seq++) {
    if (left === 0) {
      ms += 1_000 + Math.floor(random() ** 4 * 2 * 3_600_000);
      left = 20 + Math.floor(random() * 40);
      turnSeqs.push(seq);
    } else {
      ms += 10 + Math.floor(random() * 490);
    }
    left -= 1;
    times.push(ms);
  }
  return { times, turnSeqs };
}

function exportOf({ times, turnSeqs }: Plan): string[] {
  const turns = new Set(turnSeqs);
  const header = {
    drover_session_export: 1,
    session: { id: randomUUID(), title: 'long session', created_at: new Date(START).toISOString(), parent_id: null, fork_seq: null },
    event_count: times.length,
  };
  const lines = times.map((ms, index) => {
    const seq = index + 1;
    const event = turns.has(seq)
      ? { type: 'user.message', payload: { content: [{ type: 'text', text: `turn at ${seq}` }] } }
      : { type: 'agent.message', payload: { content: [{ type: 'text', text: `event ${seq} `.repeat(1 + (seq % 7)) }] } };
    return JSON.stringify({ seq, id: randomUUID(), ts: new Date(ms).toISOString(), ...event });
  });
  return [JSON.stringify(header), ...lines];
}

/** The answer by brute force over every event's time. */
function bruteForce(times: readonly number[], turnSeqs: readonly number[], buckets: number, from: number, to: number) {
  const bucketMs = (to - from) / buckets;
  const bucketOf = (ms: number) => (ms < from || ms > to ? null : Math.min(buckets - 1, Math.floor((ms - from) / bucketMs)));
  const counts = new Array<number>(buckets).fill(0);
  const firstSeqs = new Array<number | null>(buckets).fill(null);
  times.forEach((ms, index) => {
    const bucket = bucketOf(ms);
    if (bucket === null) return;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
    firstSeqs[bucket] ??= index + 1;
  });
  const turns: TimeDensity['turns'] = [];
  const seen = new Set<number>();
  turnSeqs.forEach((seq, index) => {
    const ms = times[seq - 1] ?? 0;
    const bucket = bucketOf(ms);
    if (bucket === null || seen.has(bucket)) return;
    seen.add(bucket);
    turns.push({ seq, turn: index + 1, ms });
  });
  return { counts, firstSeqs, turns };
}

let dir: string;
let store: SessionStore;

beforeEach(() => {
  dir = tempDir('drover-time-density-');
  store = SessionStore.open({ dataDir: dir });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('readTimeDensity', () => {
  it('counts a short session exactly, slice by slice, with its turns numbered', () => {
    const session = plan(1500, 1);
    const { id } = store.importSession(exportOf(session));
    const first = session.times[0] ?? 0;
    const last = session.times.at(-1) ?? 0;
    const density = readTimeDensity(store, { sessionId: id, buckets: 64 });
    expect(density).toMatchObject({ lastSeq: 1500, firstMs: first, lastMs: last, from: first, to: last, exact: true });
    expect(density.bucketMs).toBeCloseTo((last - first) / 64);
    const expected = bruteForce(session.times, session.turnSeqs, 64, first, last);
    expect(density.counts).toEqual(expected.counts);
    expect(density.firstSeqs).toEqual(expected.firstSeqs);
    expect(density.turns).toEqual(expected.turns);
    expect(density.counts.reduce((sum, count) => sum + count, 0)).toBe(1500);
    // One slice: everything.
    expect(readTimeDensity(store, { sessionId: id, buckets: 1 }).counts).toEqual([1500]);
  });

  it('samples and bisects a longer session and is still exact, over the whole of it and over a range', () => {
    const session = plan(12_000, 2);
    const { id } = store.importSession(exportOf(session));
    const limits = { initialSamples: 512, probeBudget: 40_000 };
    const first = session.times[0] ?? 0;
    const last = session.times.at(-1) ?? 0;
    for (const buckets of [7, 300, 4096]) {
      const density = readTimeDensity(store, { sessionId: id, buckets }, limits);
      const expected = bruteForce(session.times, session.turnSeqs, buckets, first, last);
      expect(density.exact).toBe(true);
      expect(density.counts).toEqual(expected.counts);
      expect(density.firstSeqs).toEqual(expected.firstSeqs);
      expect(density.turns).toEqual(expected.turns);
    }
    // A range inside the session (as the tape asks for the window around the cursor), and one past its end.
    const from = session.times[4000] ?? 0;
    const to = from + 3 * 3_600_000;
    const range = readTimeDensity(store, { sessionId: id, buckets: 900, from, to }, limits);
    const expected = bruteForce(session.times, session.turnSeqs, 900, from, to);
    expect(range).toMatchObject({ from, to, exact: true, firstMs: first, lastMs: last });
    expect(range.counts).toEqual(expected.counts);
    expect(range.turns).toEqual(expected.turns);
    const after = readTimeDensity(store, { sessionId: id, buckets: 10, from: last + 1, to: last + 1000 }, limits);
    expect(after.counts).toEqual(new Array(10).fill(0));
    expect(after.turns).toEqual([]);
  });

  it('past its budget keeps the total, leaves pauses empty and says it is not exact', () => {
    const session = plan(12_000, 3);
    const { id } = store.importSession(exportOf(session));
    const first = session.times[0] ?? 0;
    const last = session.times.at(-1) ?? 0;
    const density = readTimeDensity(store, { sessionId: id, buckets: 2000 }, { initialSamples: 300, probeBudget: 900 });
    const expected = bruteForce(session.times, session.turnSeqs, 2000, first, last);
    expect(density.exact).toBe(false);
    expect(density.counts.reduce((sum, count) => sum + count, 0)).toBe(12_000);
    // Nothing drawn in a pause: each slice with events is one that has some, or next to one that has.
    density.counts.forEach((count, bucket) => {
      if (count === 0) return;
      const near = [bucket - 1, bucket, bucket + 1].some((each) => (expected.counts[each] ?? 0) > 0);
      expect(near, `slice ${bucket} has ${count} events, but none happened near it`).toBe(true);
    });
    const wrong = density.counts.filter((count, bucket) => count !== expected.counts[bucket]).length;
    expect(wrong).toBeGreaterThan(0);
  });

  it("reads a fork's parent up to the fork point, then its own events", () => {
    const session = plan(3000, 4);
    const parent = store.importSession(exportOf(session));
    const fork = store.fork(parent.id, 1000);
    const own = store.emitEvent(fork.id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'later' }] } });
    const density = readTimeDensity(store, { sessionId: fork.id, buckets: 1 });
    // 1000 inherited, the fork's own session.forked and the message.
    expect(density.lastSeq).toBe(own.seq);
    expect(density.counts).toEqual([own.seq]);
    expect(density.firstMs).toBe(session.times[0]);
    expect(density.lastMs).toBe(Date.parse(own.ts));
    const turnsBefore = session.turnSeqs.filter((seq) => seq <= 1000).length;
    expect(readTimeDensity(store, { sessionId: fork.id, buckets: 4096 }).turns.at(-1)).toEqual({
      seq: own.seq,
      turn: turnsBefore + 1,
      ms: Date.parse(own.ts),
    });
    // The parent is unchanged: its own 3000.
    expect(readTimeDensity(store, { sessionId: parent.id, buckets: 1 }).counts).toEqual([3000]);
  });

  it('answers an empty session with empty slices, and refuses an unknown one', () => {
    const { id } = store.createSession({ title: 'empty' });
    const density = readTimeDensity(store, { sessionId: id, buckets: 3 });
    expect(density).toMatchObject({ lastSeq: 0, firstMs: null, lastMs: null, counts: [0, 0, 0], turns: [], exact: true });
    expect(() => readTimeDensity(store, { sessionId: randomUUID(), buckets: 3 })).toThrow(/There is no session .* pick one/);
  });
});

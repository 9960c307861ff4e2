/**
 * The timeline's time scale over a whole session (issue 23, `sessions-time-density`): how long the
 * store takes to count a 1M-event session's events per slice of time (target ≤ 100 ms).
 *
 * Run: `npx tsx bench/time-density.ts` (BENCH_DENSITY_EVENTS sizes the session, default 1,000,000).
 * The session is filled with direct INSERTs in the store's schema and JSON (as bench/search.ts does):
 * turns of 40–80 events a few hundred ms apart, separated by pauses of seconds to an hour, with
 * payloads of a few hundred bytes (a tool result in ten is a few KiB). Each query is timed 20 times
 * after 3 warm-up runs; the p50 and the largest wall times and the p50 CPU time are reported.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PER_TURN_EVENT_TYPES } from '#services/session/schema';
import { SessionStore } from '#services/session/store';
import { readTimeDensity } from '#services/session/time-density';
import type { TimeDensityQuery } from '#shared/time-density';
import { prng } from '#test/support/prng';
import { directFill } from './session-store.ts';

const COUNT = Number(process.env['BENCH_DENSITY_EVENTS'] ?? 1_000_000);

/** Fills one session with `count` events; returns its id and the time of its first and last event. */
function fill(dir: string, count: number): { id: string; first: number; last: number } {
  const { db, ids, pks, codes, insert } = directFill(dir, ['a long session']);
  const id = ids[0] ?? '';
  const pk = pks[0] ?? 0;
  const random = prng(7);
  const filler = 'the agent ran tests in the container and fixed a failing import then checked the output again. ';
  const first = Date.parse('2026-01-05T09:00:00.000Z');
  let ms = first;
  let left = 0;
  const batch = db.transaction((from: number, to: number) => {
    for (let seq = from; seq <= to; seq++) {
      let type: string;
      let payload: unknown;
      if (left === 0) {
        ms += 2_000 + Math.floor(random() ** 3 * 3_600_000); // a pause: seconds, sometimes an hour
        left = 40 + Math.floor(random() * 40);
        type = 'user.message';
        payload = { content: [{ type: 'text', text: filler.slice(0, 60) }] };
      } else {
        ms += 50 + Math.floor(random() * 600);
        const kind = seq % 4;
        type = kind === 0 ? 'agent.tool_use' : kind === 1 ? 'agent.tool_result' : kind === 2 ? 'agent.message' : 'span.model_request_end';
        const text = kind === 1 && random() < 0.1 ? filler.repeat(40) : filler.repeat(1 + Math.floor(random() * 3));
        payload = { content: [{ type: 'text', text }] };
      }
      left -= 1;
      const code = codes.get(type) ?? 0;
      const landmark = PER_TURN_EVENT_TYPES.has(type) ? null : code;
      insert.run(pk, seq, code, landmark, JSON.stringify({ seq, id: randomUUID(), ts: new Date(ms).toISOString(), type, payload }));
    }
  });
  for (let from = 1; from <= count; from += 10_000) batch(from, Math.min(count, from + 9_999));
  db.close();
  return { id, first, last: ms };
}

/** p50 and largest of 20 runs after 3 warm-up runs: wall time, and the process's CPU time (what a loaded machine does not inflate as much). */
function time(work: () => unknown): { p50: number; max: number; cpu: number } {
  for (let run = 0; run < 3; run++) work();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < 20; run++) {
    const usage = process.cpuUsage();
    const started = performance.now();
    work();
    times.push(performance.now() - started);
    const used = process.cpuUsage(usage);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return { p50: median(times), max: Math.max(...times), cpu: median(cpu) };
}

const dir = mkdtempSync(path.join(tmpdir(), 'drover-bench-density-'));
try {
  const started = performance.now();
  const { id, first, last } = fill(dir, COUNT);
  const days = (last - first) / 86_400_000;
  console.log(
    `filled ${COUNT.toLocaleString('en')} events over ${days.toFixed(1)} days in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const store = SessionStore.open({ dataDir: dir });
  try {
    const middle = (first + last) / 2;
    const cases: Array<[string, Omit<TimeDensityQuery, 'sessionId'>]> = [
      ['whole session, 1,000 slices', { buckets: 1000 }],
      ['whole session, 4,096 slices', { buckets: 4096 }],
      [
        '3 days around the middle, 3,000 slices (the tape zoomed out to a day)',
        { buckets: 3000, from: middle - 1.5 * 86_400_000, to: middle + 1.5 * 86_400_000 },
      ],
      ['3 hours around the middle, 3,000 slices', { buckets: 3000, from: middle - 1.5 * 3_600_000, to: middle + 1.5 * 3_600_000 }],
    ];
    let worst = 0;
    for (const [name, query] of cases) {
      const answer = readTimeDensity(store, { sessionId: id, ...query });
      const total = answer.counts.reduce((sum, count) => sum + count, 0);
      const { p50, max, cpu } = time(() => readTimeDensity(store, { sessionId: id, ...query }));
      worst = Math.max(worst, p50);
      console.log(
        `${name}: p50 ${p50.toFixed(1)} ms (max ${max.toFixed(1)} ms, CPU p50 ${cpu.toFixed(1)} ms); ${total.toLocaleString('en')} events counted, ${answer.turns.length} turn marks, exact: ${answer.exact}`,
      );
    }
    console.log(`worst p50 ${worst.toFixed(1)} ms (target ≤ 100 ms): ${worst <= 100 ? 'met' : 'MISSED'}`);
  } finally {
    store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

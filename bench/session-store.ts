/**
 * SessionStore benchmarks. Every figure is measured against a baseline in the same run, and
 * store and baseline are interleaved block by block so a noisy neighbour hits both alike.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { NewEvent } from '#shared/events';
import { SESSION_DB_PRAGMAS } from '#services/session/schema';
import { DB_FILE, SessionStore } from '#services/session/store';
import { prng } from '#test/support/prng';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  pass?: boolean;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run stores the same events. */
export const rng = prng;

/**
 * A data folder opened for the benches' fast fill by direct INSERTs in the store's schema: sessions
 * the store made (one per title), their pks, the event type codes and the insert statement.
 */
export function directFill(dir: string, titles: readonly string[]) {
  const store = SessionStore.open({ dataDir: dir });
  const ids = titles.map((title) => store.createSession({ title }).id);
  store.close();
  const db = new Database(path.join(dir, DB_FILE));
  for (const pragma of SESSION_DB_PRAGMAS) db.pragma(pragma);
  const codes = new Map(
    db
      .prepare<[], { code: number; name: string }>('SELECT code, name FROM event_types')
      .all()
      .map((row) => [row.name, row.code]),
  );
  const pks = ids.map((id) => db.prepare<[string], number>('SELECT pk FROM sessions WHERE id = ?').pluck().get(id) ?? 0);
  const insert = db.prepare('INSERT INTO events (session_pk, seq, type, landmark, event) VALUES (?, ?, ?, ?, ?)');
  return { db, ids, pks, codes, insert };
}

const WORDS =
  'the agent ran tests in the container and fixed a failing import then checked the output again before it said done with a short summary of changes'.split(
    ' ',
  );

/** A realistic mix of events: messages, tool calls and results, spans; ~400 bytes of JSON on average. */
export function eventGenerator(seed = 1): () => NewEvent {
  const random = rng(seed);
  const words = (min: number, max: number) =>
    Array.from({ length: min + Math.floor(random() * (max - min)) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  let tool = 0;
  return () => {
    const pick = random();
    if (pick < 0.3) return { type: 'agent.message', payload: { content: [{ type: 'text', text: words(10, 110) }] } };
    if (pick < 0.5) {
      tool++;
      return {
        type: 'agent.tool_use',
        payload: { tool_use_id: `toolu_${tool}`, name: 'bash', input: { command: `npm test -- ${words(1, 6)}` } },
      };
    }
    if (pick < 0.7) {
      return {
        type: 'agent.tool_result',
        payload: { tool_use_id: `toolu_${tool}`, content: [{ type: 'text', text: words(5, 150) }], is_error: random() < 0.1 },
      };
    }
    if (pick < 0.85) {
      return {
        type: 'span.model_request_end',
        payload: {
          model: 'claude-sonnet-4-5',
          usage: {
            input_tokens: Math.floor(random() * 9e4),
            output_tokens: Math.floor(random() * 4e3),
            cache_read_input_tokens: Math.floor(random() * 8e4),
            cache_creation_input_tokens: Math.floor(random() * 2e3),
          },
          stop_reason: 'tool_use',
          is_error: false,
          duration_ms: Math.round(random() * 2e4),
        },
      };
    }
    return { type: 'user.message', payload: { content: [{ type: 'text', text: words(3, 40) }] } };
  };
}

function tempDir(label: string): string {
  return mkdtempSync(path.join(tmpdir(), `drover-bench-${label}-`));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The same table, pragmas and INSERT as the store, minus everything the store adds. */
function openRawBaseline(dir: string): {
  insert: (seq: number, json: string) => void;
  batch: (rows: Array<[number, string]>) => void;
  close: () => void;
} {
  const db = new Database(path.join(dir, 'raw.db'));
  for (const pragma of SESSION_DB_PRAGMAS) db.pragma(pragma);
  db.exec(`CREATE TABLE events (session_pk INTEGER NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, event TEXT NOT NULL,
    PRIMARY KEY (session_pk, seq)) STRICT, WITHOUT ROWID`);
  const statement = db.prepare('INSERT INTO events (session_pk, seq, type, event) VALUES (1, ?, 1, ?)');
  const many = db.transaction((rows: Array<[number, string]>) => {
    for (const row of rows) statement.run(...row);
  });
  return {
    insert: (seq, json) => void statement.run(seq, json),
    batch: (rows) => many(rows),
    close: () => db.close(),
  };
}

/**
 * The event as the store will write it, for the baseline. The baseline gets the envelope (seq,
 * id, ts) ready-made; it pays only for serialising it, which no SQLite INSERT of an object can
 * skip. Validation and building the envelope count against the store.
 */
function envelope(event: NewEvent, seq: number): object {
  return { seq, id: randomUUID(), ts: new Date().toISOString(), type: event.type, payload: event.payload };
}

export function benchAppends(log: (line: string) => void): Figure[] {
  const dir = tempDir('appends');
  try {
    const store = SessionStore.open({ dataDir: path.join(dir, 'store') });
    const session = store.createSession({ title: 'bench' });
    const raw = openRawBaseline(dir);
    const next = eventGenerator(7);
    // fsync latency on a shared disk swings by 2× from second to second, so store and raw
    // alternate event by event (swapping who goes first) and per-append medians are compared.
    // The first few hundred appends of a process pay for JIT compilation and for growing the
    // WAL files; both sides warm up alike and only the steady state after that is measured.
    const warmup = 500;
    const pairs = 3000;
    const storeTimes: number[] = [];
    const rawTimes: number[] = [];
    let rawSeq = 0;
    for (let i = 0; i < warmup + pairs; i++) {
      if (i === warmup) {
        storeTimes.length = 0;
        rawTimes.length = 0;
      }
      const event = next();
      const row = envelope(event, rawSeq + 1);
      const runRaw = () => {
        const start = performance.now();
        raw.insert(++rawSeq, JSON.stringify(row));
        rawTimes.push(performance.now() - start);
      };
      const runStore = () => {
        const start = performance.now();
        store.emitEvent(session.id, event);
        storeTimes.push(performance.now() - start);
      };
      if (i % 2 === 0) {
        runRaw();
        runStore();
      } else {
        runStore();
        runRaw();
      }
    }
    log(`  durable appends: ${pairs} alternating store/raw pairs after ${warmup} warm-up pairs`);
    const blocks = 8;

    const batchSize = 100;
    const batchStore: number[] = [];
    const batchRaw: number[] = [];
    for (let block = 0; block < blocks; block++) {
      const batches = Array.from({ length: 20 }, () => Array.from({ length: batchSize }, next));
      const rawBatches = batches.map((batch) => batch.map((e): [number, object] => [++rawSeq, envelope(e, rawSeq)]));
      let start = performance.now();
      for (const rows of rawBatches) raw.batch(rows.map(([seq, row]): [number, string] => [seq, JSON.stringify(row)]));
      batchRaw.push((batches.length * batchSize) / ((performance.now() - start) / 1000));
      start = performance.now();
      for (const batch of batches) store.emitEvents(session.id, batch);
      batchStore.push((batches.length * batchSize) / ((performance.now() - start) / 1000));
    }
    store.close();
    raw.close();
    const single = 1000 / median(storeTimes);
    const singleRaw = 1000 / median(rawTimes);
    const batched = median(batchStore);
    const batchedRaw = median(batchRaw);
    return [
      {
        name: 'durable single-event appends',
        value: single,
        unit: 'events/s',
        baseline: { name: 'raw better-sqlite3 INSERT of the serialised event, identical pragmas', value: singleRaw },
        ratio: single / singleRaw,
        target: '≥ 0.8× raw',
        pass: single / singleRaw >= 0.8,
      },
      {
        name: `batched appends (${batchSize} per transaction)`,
        value: batched,
        unit: 'events/s',
        baseline: { name: 'raw INSERTs in one transaction', value: batchedRaw },
        ratio: batched / batchedRaw,
        target: 'reported (vs single appends)',
        pass: batched > single,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Sized {
  store: SessionStore;
  sessionId: string;
  dir: string;
  jsonBytes: number;
}

function buildStore(label: string, count: number, log: (line: string) => void): Sized {
  const dir = tempDir(label);
  const store = SessionStore.open({ dataDir: dir });
  const session = store.createSession({ title: `${count} events` });
  const next = eventGenerator(11);
  let jsonBytes = 0;
  const started = performance.now();
  for (let done = 0; done < count;) {
    const batch = Array.from({ length: Math.min(5000, count - done) }, next);
    for (const stored of store.emitEvents(session.id, batch)) jsonBytes += Buffer.byteLength(JSON.stringify(stored));
    done += batch.length;
    if (count >= 100_000 && done % 200_000 === 0) log(`  filling ${label}: ${done.toLocaleString('en')} events`);
  }
  log(`  built ${label}: ${count.toLocaleString('en')} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { store, sessionId: session.id, dir, jsonBytes };
}

function queryP50(sized: Sized, total: number, samples: number): number {
  const random = rng(3);
  const times: number[] = [];
  for (let i = 0; i < samples + 200; i++) {
    const afterSeq = Math.floor(random() * (total - 100));
    const start = performance.now();
    const events = sized.store.getEvents(sized.sessionId, { afterSeq, limit: 100 });
    const elapsed = performance.now() - start;
    if (events.length !== 100) throw new Error(`getEvents returned ${events.length} events, expected 100`);
    if (i >= 200) times.push(elapsed);
  }
  return median(times);
}

/** Used bytes in the database's pages, read through a second connection (WAL included). */
function usedBytes(dir: string): number {
  const db = new Database(path.join(dir, DB_FILE), { readonly: true });
  try {
    return Number(db.prepare('SELECT sum(pgsize - unused) FROM dbstat').pluck().get());
  } finally {
    db.close();
  }
}

/** Forks both stores alternately (fsync-bound, so they must see the same disk weather). */
function forkTimes(small: Sized, smallTotal: number, big: Sized, bigTotal: number, count: number) {
  const before = [usedBytes(small.dir), usedBytes(big.dir)];
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < count; i++) {
    const order: Array<[Sized, number, number[]]> = [
      [small, smallTotal, times[0]],
      [big, bigTotal, times[1]],
    ];
    if (i % 2 === 1) order.reverse();
    for (const [sized, total, into] of order) {
      const start = performance.now();
      sized.store.fork(sized.sessionId, Math.floor(total / 2) + i);
      into.push(performance.now() - start);
    }
  }
  return {
    small: { p50: median(times[0]), bytesPerFork: (usedBytes(small.dir) - (before[0] ?? 0)) / count },
    big: { p50: median(times[1]), bytesPerFork: (usedBytes(big.dir) - (before[1] ?? 0)) / count },
  };
}

export function benchScale(log: (line: string) => void, bigCount: number): Figure[] {
  const small = buildStore('1k', 1000, log);
  const big = buildStore(`${bigCount / 1e6}M`, bigCount, log);
  try {
    const smallQuery = queryP50(small, 1000, 3000);
    const bigQuery = queryP50(big, bigCount, 3000);
    const { small: smallFork, big: bigFork } = forkTimes(small, 1000, big, bigCount, 200);
    big.store.close();
    small.store.close();
    const onDisk = statSync(path.join(big.dir, DB_FILE)).size;
    const perEvent = onDisk / bigCount;
    const jsonPerEvent = big.jsonBytes / bigCount;
    const bigLabel = `${bigCount / 1e6}M`;
    return [
      { name: 'getEvents(limit 100) p50 at 1k events', value: smallQuery, unit: 'ms', target: '≤ 0.2 ms', pass: smallQuery <= 0.2 },
      {
        name: `getEvents(limit 100) p50 at ${bigLabel} events`,
        value: bigQuery,
        unit: 'ms',
        baseline: { name: 'same query at 1k events', value: smallQuery },
        ratio: bigQuery / smallQuery,
        target: `≤ 0.2 ms and ≤ 1.5× the 1k figure`,
        pass: bigQuery <= 0.2 && bigQuery / smallQuery <= 1.5,
      },
      {
        name: `fork p50 with ${bigLabel} events of history`,
        value: bigFork.p50,
        unit: 'ms',
        baseline: { name: 'fork with 1k events of history', value: smallFork.p50 },
        ratio: bigFork.p50 / smallFork.p50,
        target: '≤ 1.5× the 1k figure',
        pass: bigFork.p50 / smallFork.p50 <= 1.5,
      },
      {
        name: `bytes added per fork (${bigLabel} history)`,
        value: bigFork.bytesPerFork,
        unit: 'B',
        baseline: { name: 'bytes added per fork (1k history)', value: smallFork.bytesPerFork },
        target: '≤ 1024 B',
        pass: bigFork.bytesPerFork <= 1024,
      },
      {
        name: 'bytes on disk per event',
        value: perEvent,
        unit: 'B',
        baseline: { name: 'the event as JSON', value: jsonPerEvent },
        ratio: perEvent / jsonPerEvent,
        target: '≤ 1.5× its JSON',
        pass: perEvent / jsonPerEvent <= 1.5,
      },
    ];
  } finally {
    if (small.store) small.store.close();
    if (big.store) big.store.close();
    rmSync(small.dir, { recursive: true, force: true });
    rmSync(big.dir, { recursive: true, force: true });
  }
}

/**
 * The timeline's time scale over a whole session (issue 23, `sessions-time-density`): the number of
 * events in each slice of time, each slice's first event and the turns starting in it, read from
 * the session database without loading the session's events.
 *
 * An event's time lives inside its stored JSON (`ts`), not in a column, so counting by time over a
 * million events would read every row. Instead the reader relies on the log being appended in time
 * order (seq ascending ⇒ ts ascending; a clock that went back is flattened to the latest time seen):
 * the number of events before time t is the seq of the first event at or after t. It reads the ts
 * of evenly spaced seqs (one batched query per segment of the session's lineage, each a primary-key
 * lookup), then bisects — all the pairs at once, one batched query per round — every pair of
 * neighbouring samples that lies in different slices until they are neighbours in the log, so
 * each count is exact. A probe budget bounds the work; past it, the events between two samples that
 * straddle slices are split between their two slices (never smeared over the gap between them)
 * and the answer says it is not exact. Turn starts come from the landmark index.
 *
 * It reads over a connection of its own to the store's database (WAL: it sees what is committed),
 * like the search index's, kept open between calls and closed after 15 s without one; it never writes.
 */
import Database from 'better-sqlite3';
import { AppError } from '#shared/errors';
import type { TimeDensity, TimeDensityQuery } from '#shared/time-density';
import { lineageOf, type Segment } from './records.ts';
import { guardStorage } from './storage-errors.ts';

/** Timestamps read first (evenly spaced seqs); a session this short is read whole, exactly. */
const INITIAL_SAMPLES = 2048;
/** At most this many timestamps read per call (initial samples and bisection). */
const PROBE_BUDGET = 8_000;
/** The store's canonical JSON starts `{"seq":…,"id":"<uuid>","ts":"…"`: the ts is found in this prefix, else by JSON path. */
const TS_SQL = `CASE WHEN instr(substr(e.event, 1, 160), '"ts":"') > 0
  THEN substr(e.event, instr(substr(e.event, 1, 160), '"ts":"') + 6, 24) ELSE e.event ->> '$.ts' END`;

export interface TimeDensitySource {
  readonly dbPath: string;
  readonly nativeBinding: string | undefined;
}

/** How much a call may read (tests lower them to reach the sampled path on small sessions). */
export interface DensityLimits {
  initialSamples: number;
  probeBudget: number;
}
const DEFAULT_LIMITS: DensityLimits = { initialSamples: INITIAL_SAMPLES, probeBudget: PROBE_BUDGET };

export function readTimeDensity(source: TimeDensitySource, query: TimeDensityQuery, limits: DensityLimits = DEFAULT_LIMITS): TimeDensity {
  return guardStorage(source.dbPath, 'read the times of the session', () =>
    withConnection(source, (db) => new DensityReader(db, query.sessionId, limits).density(query)),
  );
}

/** A connection kept between calls (its pages stay cached and mapped: scrubbing asks again and again), closed once idle. */
const IDLE_CLOSE_MS = 15_000;
const connections = new Map<string, { db: Database.Database; timer: NodeJS.Timeout | null }>();

function withConnection<T>(source: TimeDensitySource, work: (db: Database.Database) => T): T {
  let entry = connections.get(source.dbPath);
  if (entry === undefined || !entry.db.open) {
    const options =
      source.nativeBinding === undefined ? { fileMustExist: true } : { fileMustExist: true, nativeBinding: source.nativeBinding };
    const db = new Database(source.dbPath, options);
    db.pragma('cache_size = -32000');
    db.pragma('mmap_size = 1073741824');
    entry = { db, timer: null };
    connections.set(source.dbPath, entry);
  }
  const current = entry;
  if (current.timer !== null) clearTimeout(current.timer);
  current.timer = null;
  try {
    // One read transaction: every query of the call sees the same log.
    return current.db.transaction(() => work(current.db)).deferred();
  } finally {
    current.timer = setTimeout(() => closeIdle(source.dbPath, current), IDLE_CLOSE_MS);
    current.timer.unref();
  }
}

function closeIdle(dbPath: string, entry: { db: Database.Database }): void {
  if (connections.get(dbPath) === entry) connections.delete(dbPath);
  entry.db.close();
}

interface SessionRow {
  pk: number;
  parent_pk: number | null;
  fork_seq: number | null;
}

class DensityReader {
  private readonly segments: Segment[];
  readonly lastSeq: number;
  private readonly probeStatement: Database.Statement<[string, number], { seq: number; ts: string | null }>;
  private probes = 0;

  constructor(
    private readonly db: Database.Database,
    sessionId: string,
    private readonly limits: DensityLimits,
  ) {
    const byId = db.prepare<[string], SessionRow>('SELECT pk, parent_pk, fork_seq FROM sessions WHERE id = ?');
    const byPk = db.prepare<[number], SessionRow>('SELECT pk, parent_pk, fork_seq FROM sessions WHERE pk = ?');
    const row = byId.get(sessionId);
    if (row === undefined) {
      throw new AppError('not-found', `There is no session ${sessionId}. It may have been deleted; pick one from the sessions list.`);
    }
    // The chain up to its root, then the lineage down (as the store resolves it: records.ts).
    const chain: SessionRow[] = [row];
    for (let parent = row.parent_pk; parent !== null;) {
      const next = byPk.get(parent);
      if (next === undefined) break;
      chain.push(next);
      parent = next.parent_pk;
    }
    let lineage: Segment[] = [];
    for (const each of chain.reverse()) {
      lineage =
        each.parent_pk === null || each.fork_seq === null
          ? lineageOf(each.pk)
          : lineageOf(each.pk, { parent: lineage, atSeq: each.fork_seq });
    }
    const own = db.prepare<[number], number | null>('SELECT max(seq) FROM events WHERE session_pk = ?').pluck().get(row.pk) ?? null;
    this.lastSeq = own ?? row.fork_seq ?? 0;
    this.segments = lineage
      .map((segment) => ({ ...segment, to: Math.min(segment.to, this.lastSeq) }))
      .filter((segment) => segment.from <= segment.to);
    this.probeStatement = db.prepare(
      `SELECT j.value AS seq, ${TS_SQL} AS ts FROM json_each(?) j CROSS JOIN events e ON e.session_pk = ? AND e.seq = j.value`,
    );
  }

  density(query: TimeDensityQuery): TimeDensity {
    const buckets = query.buckets;
    const samples = new Samples();
    const n = this.lastSeq;
    const initial = new Set<number>();
    const count = Math.min(n, this.limits.initialSamples);
    for (let index = 0; index < count; index++) initial.add(count === 1 ? 1 : 1 + Math.round((index * (n - 1)) / (count - 1)));
    samples.add(this.read([...initial]));
    samples.settle();
    const firstMs = samples.ms[0] ?? null;
    const lastMs = samples.ms.at(-1) ?? null;
    const from = query.from ?? firstMs ?? 0;
    const to = query.to ?? Math.max(lastMs ?? from + 1, from + 1);
    const bucketMs = (to - from) / buckets;
    const bucketOf = (ms: number): number =>
      ms < from ? -1 : ms > to ? buckets : Math.min(buckets - 1, Math.floor((ms - from) / bucketMs));

    /** Neighbouring samples with events between them in different slices (of the range): `far`, only those more than a slice apart. */
    const open = (far: boolean): Array<{ a: number; b: number }> => {
      const found: Array<{ a: number; b: number }> = [];
      for (let index = 0; index + 1 < samples.seqs.length; index++) {
        const a = samples.seqs[index] ?? 0;
        const b = samples.seqs[index + 1] ?? 0;
        if (b - a <= 1) continue;
        const low = bucketOf(samples.ms[index] ?? 0);
        const high = bucketOf(samples.ms[index + 1] ?? 0);
        if (low === high || high < 0 || low >= buckets || (far && high - low <= 1)) continue;
        found.push({ a, b });
      }
      return found;
    };
    // Bisect, all pairs at once (one query per round): first every pair more than a slice apart
    // (a pause: where does the stretch of events before it end and the next begin?), then, when
    // the budget allows, every pair in different slices, so each count is exact.
    const bisect = (far: boolean): void => {
      for (;;) {
        const pairs = open(far);
        if (pairs.length === 0 || this.probes + pairs.length > this.limits.probeBudget) return;
        samples.add(this.read(pairs.map(({ a, b }) => Math.floor((a + b) / 2))));
        samples.settle();
      }
    };
    bisect(true);
    const toExact = open(false).reduce((sum, { a, b }) => sum + Math.ceil(Math.log2(b - a)), 0);
    if (this.probes + toExact <= this.limits.probeBudget) bisect(false);

    const counts = new Array<number>(buckets).fill(0);
    const firstSeqs = new Array<number | null>(buckets).fill(null);
    const put = (bucket: number, seq: number, howMany: number): void => {
      if (bucket < 0 || bucket >= buckets || howMany <= 0) return;
      counts[bucket] = (counts[bucket] ?? 0) + howMany;
      if (firstSeqs[bucket] === null) firstSeqs[bucket] = seq;
    };
    for (let index = 0; index < samples.seqs.length; index++) {
      const seq = samples.seqs[index] ?? 0;
      const bucket = bucketOf(samples.ms[index] ?? 0);
      put(bucket, seq, 1);
      const next = samples.seqs[index + 1];
      if (next === undefined) break;
      const between = next - seq - 1;
      if (between <= 0) continue;
      const nextBucket = bucketOf(samples.ms[index + 1] ?? 0);
      if (nextBucket === bucket) {
        put(bucket, seq + 1, between);
        continue;
      }
      // Unresolved (past the budget): half with each neighbour, never spread over the slices between.
      const early = Math.ceil(between / 2);
      put(bucket, seq + 1, early);
      put(nextBucket, seq + early + 1, between - early);
    }
    return {
      lastSeq: n,
      firstMs,
      lastMs,
      from,
      to,
      bucketMs,
      counts,
      firstSeqs,
      turns: this.turns(bucketOf, buckets, samples),
      exact: samples.skipped === 0 && open(false).length === 0,
    };
  }

  /**
   * The first turn start in each slice, numbered over the whole session: their seqs from the
   * landmark index alone, their slices from the samples around them (exact where the samples are
   * neighbours or in one slice; else the nearer half's, as the counts split them), then the time
   * of each mark kept read from its event.
   */
  private turns(bucketOf: (ms: number) => number, buckets: number, samples: Samples): TimeDensity['turns'] {
    const code = this.db.prepare<[], number>("SELECT code FROM event_types WHERE name = 'user.message'").pluck().get();
    if (code === undefined) return [];
    const statement = this.db
      .prepare<[number, number, number, number], number>(
        `SELECT seq FROM events INDEXED BY events_landmarks WHERE session_pk = ? AND landmark = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
      )
      .pluck();
    const seen = new Set<number>();
    const turns: TimeDensity['turns'] = [];
    let turn = 0;
    for (const segment of this.segments) {
      for (const seq of statement.all(segment.sessionPk, code, segment.from, segment.to)) {
        turn += 1;
        const ms = samples.timeOf(seq, bucketOf);
        const bucket = bucketOf(ms);
        if (bucket < 0 || bucket >= buckets || seen.has(bucket)) continue;
        seen.add(bucket);
        turns.push({ seq, turn, ms });
      }
    }
    // The marks' own times (one batched read of at most one per slice).
    const read = new Map(this.read(turns.map((each) => each.seq)).map((row) => [row.seq, row.ms]));
    return turns.map((each) => {
      const ms = read.get(each.seq);
      return ms === undefined || !Number.isFinite(ms) ? each : { ...each, ms };
    });
  }

  /** The ts of these seqs (each in the segment that holds it), one query per segment. */
  private read(seqs: readonly number[]): Array<{ seq: number; ms: number }> {
    this.probes += seqs.length;
    const out: Array<{ seq: number; ms: number }> = [];
    for (const segment of this.segments) {
      const mine = seqs.filter((seq) => seq >= segment.from && seq <= segment.to);
      if (mine.length === 0) continue;
      for (const row of this.probeStatement.all(JSON.stringify(mine), segment.sessionPk)) {
        out.push({ seq: row.seq, ms: Date.parse(row.ts ?? '') });
      }
    }
    return out;
  }
}

/**
 * The timestamps read so far, ascending by seq, with each time flattened to the latest seen at or
 * before it (a clock that went back, or an unreadable ts, never makes time run backwards).
 */
class Samples {
  seqs: number[] = [];
  ms: number[] = [];
  skipped = 0;
  private raw = new Map<number, number>();

  add(rows: ReadonlyArray<{ seq: number; ms: number }>): void {
    for (const row of rows) this.raw.set(row.seq, row.ms);
  }

  settle(): void {
    const seqs = [...this.raw.keys()].sort((a, b) => a - b);
    const ms: number[] = [];
    let latest = -Infinity;
    let skipped = 0;
    for (const seq of seqs) {
      const value = this.raw.get(seq) ?? NaN;
      if (Number.isFinite(value)) latest = Math.max(latest, value);
      else skipped += 1;
      ms.push(latest);
    }
    // Leading unreadable times take the first readable one.
    const first = ms.find((value) => Number.isFinite(value));
    this.seqs = first === undefined ? [] : seqs;
    this.ms = first === undefined ? [] : ms.map((value) => (Number.isFinite(value) ? value : first));
    this.skipped = skipped;
  }

  /** The time of `seq` from the samples around it (see DensityReader.turns). */
  timeOf(seq: number, bucketOf: (ms: number) => number): number {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.seqs[middle] ?? Infinity) <= seq) low = middle + 1;
      else high = middle;
    }
    const a = this.seqs[low - 1];
    const b = this.seqs[low];
    const msA = this.ms[low - 1] ?? this.ms[0] ?? 0;
    const msB = this.ms[low] ?? msA;
    if (a === undefined || b === undefined || a === seq) return a === undefined ? msB : msA;
    if (bucketOf(msA) === bucketOf(msB)) return msA + ((msB - msA) * (seq - a)) / (b - a);
    return seq - a <= Math.ceil((b - a - 1) / 2) ? msA : msB;
  }
}

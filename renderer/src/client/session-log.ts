/**
 * One session's log as the UI holds it: the type of every event (from `sessions-timeline`, a
 * few bytes per event, so a 100k-event session's timeline is drawn at once) and payloads loaded
 * in chunks only where the user looks, kept live by the 'session-event' push.
 *
 * Memory stays bounded whatever the session's length: at most MAX_CHUNKS chunks of payloads are
 * kept, the least recently used go first. It holds nothing the main process did not send, and
 * never a secret.
 */
import { EVENT_TYPES, type EventType, type StoredEvent } from '#shared/events';
import type { TimeDensity, TimeDensityQuery } from '#shared/time-density';
import type { Transport } from './transport.ts';

/** Events per loaded chunk: chunk c holds seq c·CHUNK_SIZE+1 … (c+1)·CHUNK_SIZE. */
export const CHUNK_SIZE = 256;
/** Chunks of payloads kept (≈ 50k events): enough for any screen, bounded for any session. */
const MAX_CHUNKS = 200;

type Listener = () => void;

export class SessionLog {
  private types: readonly EventType[] = [];
  private typeIndex = new Map<EventType, number>();
  private codes = new Uint8Array(1024);
  private count = 0;
  private readonly turnSeqs: number[] = [];
  private readonly chunks = new Map<number, StoredEvent[]>();
  private readonly loading = new Set<number>();
  private readonly hands: StoredEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private version = 0;
  private disposed = false;
  private stopPush: (() => void) | null = null;
  /** Pushed events that arrived before the timeline; applied once it is in. */
  private early: StoredEvent[] | null = [];
  /** True once the timeline has loaded. */
  ready = false;
  /** Why the log could not be loaded, in the main process's words. */
  error: string | null = null;

  constructor(
    private readonly transport: Transport,
    readonly sessionId: string,
  ) {}

  /** Listens for new events, then loads the timeline, the newest chunk and the hand events. */
  start(): void {
    this.stopPush = this.transport.on('session-event', ({ sessionId, event }) => {
      if (sessionId !== this.sessionId) return;
      if (this.early !== null) this.early.push(event);
      else this.append(event);
    });
    void this.load();
  }

  /** Events per slice of time over the whole session (the time scale zoomed out past the loaded events). */
  timeDensity(range: Omit<TimeDensityQuery, 'sessionId'>): Promise<TimeDensity> {
    return this.transport.call('sessions-time-density', { sessionId: this.sessionId, ...range });
  }

  dispose(): void {
    this.disposed = true;
    this.stopPush?.();
    this.listeners.clear();
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Changes whenever anything the UI reads here changes (for useSyncExternalStore). */
  getVersion = (): number => this.version;

  get lastSeq(): number {
    return this.count;
  }

  typeAt(seq: number): EventType | undefined {
    if (seq < 1 || seq > this.count) return undefined;
    return this.types[this.codes[seq - 1] ?? 0];
  }

  /** Seqs of the user messages that start each turn, ascending. */
  get turnStarts(): readonly number[] {
    return this.turnSeqs;
  }

  /** The loaded event `seq`, or undefined while its chunk is not loaded. */
  event(seq: number): StoredEvent | undefined {
    const chunk = this.chunks.get(chunkOf(seq));
    return chunk?.[seq - 1 - chunkOf(seq) * CHUNK_SIZE];
  }

  /** Loaded events with from ≤ seq ≤ to, ascending (gaps where chunks are still loading). */
  eventsIn(from: number, to: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    const low = Math.max(1, from);
    const high = Math.min(this.count, to);
    for (let chunk = chunkOf(low); chunk <= chunkOf(high) && high >= low; chunk++) {
      const events = this.chunks.get(chunk);
      if (events === undefined) continue;
      this.touch(chunk, events);
      for (const event of events) if (event.seq >= low && event.seq <= high) out.push(event);
    }
    return out;
  }

  /** Whether every event with from ≤ seq ≤ to is loaded. */
  hasRange(from: number, to: number): boolean {
    const low = Math.max(1, from);
    const high = Math.min(this.count, to);
    for (let chunk = chunkOf(low); chunk <= chunkOf(high) && high >= low; chunk++) {
      const events = this.chunks.get(chunk);
      if (events === undefined || (events.at(-1)?.seq ?? 0) < Math.min(high, (chunk + 1) * CHUNK_SIZE)) return false;
    }
    return true;
  }

  /** Starts loading whatever is missing of from…to; listeners hear when it arrives. */
  ensure(from: number, to: number): void {
    const low = Math.max(1, from);
    const high = Math.min(this.count, to);
    if (high < low) return;
    for (let chunk = chunkOf(low); chunk <= chunkOf(high); chunk++) {
      const events = this.chunks.get(chunk);
      const complete = events !== undefined && (events.at(-1)?.seq ?? 0) >= Math.min(this.count, (chunk + 1) * CHUNK_SIZE);
      if (!complete) void this.loadChunk(chunk);
    }
  }

  /** The session's hand events (HAND_TYPES), ascending (they are few: the hands panel and the terminal spans fold them). */
  get handEvents(): readonly StoredEvent[] {
    return this.hands;
  }

  private async load(): Promise<void> {
    try {
      const [timeline, handEvents] = await Promise.all([
        this.transport.call('sessions-timeline', { sessionId: this.sessionId }),
        this.transport.call('sessions-events', {
          sessionId: this.sessionId,
          query: { types: [...HAND_TYPES], limit: 10_000 },
        }),
      ]);
      if (this.disposed) return;
      this.types = timeline.types;
      this.typeIndex = new Map(timeline.types.map((type, index) => [type, index]));
      this.codes = new Uint8Array(Math.max(1024, timeline.codes.length * 2));
      this.codes.set(timeline.codes);
      this.count = timeline.codes.length;
      const userCode = this.typeIndex.get('user.message');
      for (let index = 0; index < this.count; index++) if (this.codes[index] === userCode) this.turnSeqs.push(index + 1);
      for (const event of handEvents) this.hands.push(event);
      const early = this.early ?? [];
      this.early = null;
      for (const event of early) this.append(event);
      this.ready = true;
      this.changed();
      this.ensure(this.count - CHUNK_SIZE, this.count);
    } catch (reason) {
      if (this.disposed) return;
      this.error = reason instanceof Error ? reason.message : String(reason);
      this.changed();
    }
  }

  private async loadChunk(chunk: number): Promise<void> {
    if (this.loading.has(chunk)) return;
    this.loading.add(chunk);
    try {
      const have = this.chunks.get(chunk);
      const afterSeq = have?.at(-1)?.seq ?? chunk * CHUNK_SIZE;
      const page = await this.transport.call('sessions-events', {
        sessionId: this.sessionId,
        query: { afterSeq, beforeSeq: (chunk + 1) * CHUNK_SIZE + 1, limit: CHUNK_SIZE },
      });
      if (this.disposed) return;
      const merged = [...(this.chunks.get(chunk) ?? [])];
      for (const event of page) if ((merged.at(-1)?.seq ?? 0) < event.seq) merged.push(event);
      this.store(chunk, merged);
      this.changed();
    } catch (reason) {
      if (this.disposed) return;
      this.error = reason instanceof Error ? reason.message : String(reason);
      this.changed();
    } finally {
      this.loading.delete(chunk);
    }
  }

  private append(event: StoredEvent): void {
    if (event.seq !== this.count + 1) {
      // Already known (the timeline included it) or out of order: the timeline stays dense.
      if (event.seq <= this.count) this.placeLoaded(event);
      return;
    }
    if (this.count === this.codes.length) {
      const grown = new Uint8Array(this.codes.length * 2);
      grown.set(this.codes);
      this.codes = grown;
    }
    let code = this.typeIndex.get(event.type);
    if (code === undefined) {
      code = this.types.length;
      this.types = [...this.types, event.type];
      this.typeIndex.set(event.type, code);
    }
    this.codes[this.count] = code;
    this.count++;
    if (event.type === 'user.message') this.turnSeqs.push(event.seq);
    if (isHandEventType(event.type)) this.hands.push(event);
    this.placeLoaded(event);
    this.changed();
  }

  /** Adds a pushed event to its chunk when the chunk is loaded up to just before it. */
  private placeLoaded(event: StoredEvent): void {
    const chunk = chunkOf(event.seq);
    const events = this.chunks.get(chunk);
    if (events !== undefined && (events.at(-1)?.seq ?? chunk * CHUNK_SIZE) === event.seq - 1) events.push(event);
    else if (events === undefined && event.seq === chunk * CHUNK_SIZE + 1) this.store(chunk, [event]);
  }

  private store(chunk: number, events: StoredEvent[]): void {
    this.chunks.delete(chunk);
    this.chunks.set(chunk, events);
    while (this.chunks.size > MAX_CHUNKS) {
      const oldest = this.chunks.keys().next().value;
      if (oldest === undefined) break;
      this.chunks.delete(oldest);
    }
  }

  /** Marks a chunk as recently used (Map order is the eviction order). */
  private touch(chunk: number, events: StoredEvent[]): void {
    if (this.chunks.size < MAX_CHUNKS / 2) return;
    this.chunks.delete(chunk);
    this.chunks.set(chunk, events);
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }
}

/**
 * The events the log holds whole from the start (few per session): what the Hands panel folds for
 * a past event (hands, and which threads held them: hand-history.ts) and the timeline's terminal
 * spans (terminal-spans.ts). Every `hand.*` type, and the thread events the holders' fold reads.
 */
export const HAND_TYPES: readonly EventType[] = [
  ...EVENT_TYPES.filter((type) => type.startsWith('hand.')),
  'session.thread_created',
  'session.thread_status_terminated',
];
const HAND_TYPE_SET: ReadonlySet<EventType> = new Set(HAND_TYPES);

/** Whether the log keeps this type among its hand events (loaded at the start, appended as pushed). */
export function isHandEventType(type: EventType): boolean {
  return HAND_TYPE_SET.has(type);
}

function chunkOf(seq: number): number {
  return Math.floor((seq - 1) / CHUNK_SIZE);
}

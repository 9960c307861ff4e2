// The store's group-committed appends (appendDurable) on a real SQLite file: nothing is seen before
// it is durable, appends made together share fsyncs, seqs stay dense and in order across both kinds
// of append, a durable commit publishes what was committed before it, close makes everything
// durable, and a new process reads every acknowledged event.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import { tempDir } from '#test/support/system';
import { SessionStore } from './store.ts';

let dir: string;
let store: SessionStore;

const message = (text: string): NewEvent => ({ type: 'agent.message', payload: { content: [{ type: 'text', text }] } });

beforeEach(() => {
  dir = tempDir('drover-group-');
  store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group-committed appends', () => {
  it('are told to listeners and readers only once durable, in seq order, sharing fsyncs', async () => {
    const { id } = store.createSession({ title: 'group' });
    const heard: StoredEvent[] = [];
    store.subscribe(id, (event) => heard.push(event));
    const pending = Array.from({ length: 10 }, (_, i) => store.appendDurable(id, [message(`a${i}`), message(`b${i}`)]));
    // Committed to the WAL, not yet durable: nobody sees them.
    expect(heard).toEqual([]);
    expect(store.getSession(id).lastSeq).toBe(0);
    expect(store.getEvents(id)).toEqual([]);
    const results = await Promise.all(pending);
    expect(results.flat().map((event) => event.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(heard.map((event) => event.seq)).toEqual(results.flat().map((event) => event.seq));
    expect(store.getEvents(id).map((event) => event.id)).toEqual(results.flat().map((event) => event.id));
    // The first append's fsync, then one for the nine that arrived while it was in flight.
    expect(store.groupSyncs).toBe(2);
  });

  it('interleave with durable appends in one dense order; a durable commit publishes what came before it', async () => {
    const { id } = store.createSession({ title: 'mixed' });
    const heard: number[] = [];
    store.subscribe(id, (event) => heard.push(event.seq));
    const first = store.appendDurable(id, [message('grouped 1')]);
    const second = store.appendDurable(id, [message('grouped 2')]);
    // A durable commit's fsync covers both: they are told first, then it.
    const durable = store.emitEvent(id, message('durable'));
    expect(durable.seq).toBe(3);
    expect(heard).toEqual([1, 2, 3]);
    expect((await first).map((event) => event.seq)).toEqual([1]);
    expect((await second).map((event) => event.seq)).toEqual([2]);
    const third = await store.appendDurable(id, [message('grouped 3')]);
    expect(third[0]?.seq).toBe(4);
    expect(heard).toEqual([1, 2, 3, 4]);
  });

  it('refuses invalid input at once, writing nothing', async () => {
    const { id } = store.createSession({ title: 'bad' });
    expect(() =>
      store.appendDurable(id, [message('fine'), { type: 'agent.message', payload: { content: 'not blocks' } } as unknown as NewEvent]),
    ).toThrow(/Event 2 of the batch \(agent\.message\) is invalid/);
    await store.appendDurable(id, [message('after')]);
    expect(store.getEvents(id).map((event) => event.seq)).toEqual([1]);
  });

  it('close makes pending appends durable: a new process reads every acknowledged event', async () => {
    const { id } = store.createSession({ title: 'closing' });
    const acknowledged: string[] = [];
    const pending = Array.from({ length: 5 }, (_, i) =>
      store.appendDurable(id, [message(`m${i}`)]).then((events) => acknowledged.push(...events.map((event) => event.id))),
    );
    store.close();
    await Promise.all(pending);
    expect(acknowledged).toHaveLength(5);
    store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
    expect(store.getEvents(id).map((event) => event.id)).toEqual(acknowledged);
  });
});

// The renderer's SessionLog over the real RPC host (dispatcher, handlers, store in a temp dir):
// the compact timeline, chunked payloads, live appends and forks — without a browser, through a
// Transport that calls the host's dispatcher and receives its pushes, as serve mode's does.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import type { PushMessage } from '#shared/rpc';
import { createHost, type Host } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import { tempDir } from '#test/support/system';
import { CHUNK_SIZE, SessionLog } from '#renderer/client/session-log.ts';
import type { Transport } from '#renderer/client/transport.ts';

let dir: string;
let store: SessionStore;
let host: Host;
let transport: Transport;

beforeEach(() => {
  dir = tempDir('drover-ui-log-');
  store = SessionStore.open({ dataDir: dir });
  const listeners = new Set<(message: PushMessage) => void>();
  host = createHost({
    store,
    info: { version: 't', dataDir: dir, platform: 'linux' },
    push: (message) => listeners.forEach((listener) => listener(message)),
    keyProvider: () => null,
    log: () => undefined,
  });
  transport = {
    async call(name, arg) {
      const outcome = await host.dispatch(name, arg);
      if (!outcome.ok) throw new Error(outcome.error.message);
      return outcome.result as never;
    },
    on(name, callback) {
      const listener = (message: PushMessage) => {
        if (message.push === name) callback(message.arg as never);
      };
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
});

afterEach(async () => {
  await host.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function turn(index: number): NewEvent[] {
  return [
    { type: 'user.message', payload: { content: [{ type: 'text', text: `question ${index}` }] } },
    { type: 'agent.message', payload: { content: [{ type: 'text', text: `answer ${index}` }] } },
    { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
  ];
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('SessionLog', () => {
  it('loads the timeline, then payloads chunk by chunk where asked, and follows appends', async () => {
    const session = store.createSession({ title: 'Long' });
    for (let batch = 0; batch < 10; batch++)
      store.emitEvents(session.id, Array.from({ length: 40 }, (_, index) => turn(batch * 40 + index)).flat());
    const log = new SessionLog(transport, session.id);
    log.start();
    await until(() => log.ready, 'the timeline is in');
    expect(log.lastSeq).toBe(1200);
    expect(log.typeAt(1)).toBe('user.message');
    expect(log.typeAt(1200)).toBe('session.status_idle');
    expect(log.turnStarts).toHaveLength(400);
    expect(log.turnStarts[399]).toBe(1198);

    // The newest chunk comes first; the oldest only when asked.
    await until(() => log.hasRange(1200 - CHUNK_SIZE + 1, 1200), 'the newest chunk is loaded');
    expect(log.event(1)).toBeUndefined();
    log.ensure(1, 10);
    await until(() => log.hasRange(1, 10), 'the first chunk is loaded');
    expect(log.eventsIn(1, 3).map((event) => event.type)).toEqual(['user.message', 'agent.message', 'session.status_idle']);

    store.emitEvents(session.id, turn(400));
    await until(() => log.lastSeq === 1203, 'the append arrives');
    expect(log.event(1201)?.type).toBe('user.message');
    expect(log.turnStarts.at(-1)).toBe(1201);
    log.dispose();
  });

  it('reads a fork as its parent up to the fork point, then its own events', async () => {
    const parent = store.createSession({ title: 'Parent' });
    store.emitEvents(parent.id, [...turn(0), ...turn(1)]);
    const fork = store.rewind(parent.id, 3);
    store.emitEvents(fork.id, turn(9));
    const log = new SessionLog(transport, fork.id);
    log.start();
    await until(() => log.ready && log.hasRange(1, log.lastSeq), 'the fork is loaded');
    expect(log.eventsIn(1, 7).map((event) => event.type)).toEqual([
      'user.message',
      'agent.message',
      'session.status_idle',
      'session.forked',
      'user.message',
      'agent.message',
      'session.status_idle',
    ]);
    log.dispose();
  });

  it('says why when the session cannot be read', async () => {
    const log = new SessionLog(transport, '7f1c2d8e-0000-4000-8000-000000000000');
    log.start();
    await until(() => log.error !== null, 'the error is reported');
    expect(log.error).toMatch(/There is no session/);
    expect(log.ready).toBe(false);
  });
});

// A disk that fills mid-turn, for real: the data folder is a size-limited tmpfs, and a tool fills
// it while the turn runs (as a build writing its output to the same disk would). Driven through the
// host the UI talks to (the dispatcher and its pushes), with the real Harness and SQLite store and
// the local Messages API server. The turn must end where the user sees it — a session.error and an
// idle in the log when the log still takes them, or, when it takes nothing more, a push with the
// error — and the session must not claim to run; with room again, the next message carries on.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { PushMessage } from '#shared/rpc';
import { createHost } from '#rpc/host';
import { DB_FILE, SessionStore } from '#services/session/store';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { mountTmpfs, requirePart, tmpfsUnavailableReason } from '#test/support/system';

const KEY = 'sk-ant-test-key';
const hasTmpfs = requirePart('size-limited tmpfs mounts (the disk-full test)', tmpfsUnavailableReason());
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes `file` until the disk holding it is full. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 0x78);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** A tool use, then an answer once the tool's result arrives. */
function respond(request: RecordedRequest): Reply {
  const last = request.body.messages.at(-1);
  const answered = Array.isArray(last?.content) && last.content.some((block) => (block as { type: string }).type === 'tool_result');
  if (answered) return { kind: 'message', message: { content: [{ type: 'text', text: 'The sum is 5.' }], stop_reason: 'end_turn' } };
  return {
    kind: 'message',
    message: {
      content: [
        { type: 'text', text: 'Adding.' },
        { type: 'tool_use', name: 'add', input: { a: 2, b: 3 } },
      ],
      stop_reason: 'tool_use',
    },
  };
}

describe.skipIf(!hasTmpfs)('a disk that fills mid-turn (real tmpfs)', () => {
  it('ends the turn where the user sees it, never leaves it claiming to run, and works again with room', { timeout: 60_000 }, async () => {
    const disk = mountTmpfs('2m');
    cleanups.push(() => disk.unmount());
    const dataDir = path.join(disk.dir, 'drover');
    const filler = path.join(disk.dir, 'filler');
    const server = await startModelServer({ respond, apiKey: KEY });
    const store = SessionStore.open({ dataDir });
    const pushes: PushMessage[] = [];
    const hand = new MathHand({ onStart: () => fillDisk(filler) });
    const host = createHost({
      store,
      info: { version: 'test', dataDir, platform: process.platform },
      push: (message) => pushes.push(message),
      keyProvider: () => KEY,
      baseURL: server.url,
      handsFor: () => [hand],
      log: () => undefined,
    });
    cleanups.push(async () => {
      await host.close();
      store.close();
      await server.close();
    });
    const call = async (name: string, arg: unknown): Promise<unknown> => {
      const outcome = await host.dispatch(name, arg);
      if (!outcome.ok) throw new Error(`${name}: ${outcome.error.code}: ${outcome.error.message}`);
      return outcome.result;
    };

    const { id } = (await call('sessions-launch', { title: 'disk full' })) as { id: string };
    await call('sessions-send', { sessionId: id, text: 'add 2 and 3' });
    await expect(host.harness.wake(id)).rejects.toMatchObject({ code: 'storage-full' });
    expect(hand.runs).toHaveLength(1); // the disk filled while the tool ran

    // The turn is over and says why: in the log if it still took the record, else in a push.
    const [status] = store.getEvents(id, { types: ['session.status_running', 'session.status_idle'], direction: 'backward', limit: 1 });
    const faults = pushes.flatMap((push) => (push.push === 'session-fault' ? [push.arg] : []));
    const recorded = status?.type === 'session.status_idle';
    if (recorded) {
      const [error] = store.getEvents(id, { types: ['session.error'], direction: 'backward', limit: 1 });
      expect(error?.type === 'session.error' ? error.payload.error.type : null).toBe('storage_full');
      expect(status.payload.stop_reason.message).toMatch(/disk holding .* is full.*send a message/s);
      expect(faults).toEqual([]);
    } else {
      expect(faults).toHaveLength(1);
      expect(faults[0]?.sessionId).toBe(id);
      expect(faults[0]?.message).toContain(`the disk holding ${path.join(dataDir, DB_FILE)} is full`);
      expect(faults[0]?.message).toMatch(/Free some disk space.*send a message \(or restart Drover\)/s);
    }
    console.log(`disk full mid-turn: the failure was ${recorded ? 'recorded in the log' : 'pushed to the UI (the log took nothing more)'}`);
    expect(host.harness.isRunning(id)).toBe(false);
    expect(await call('sessions-get', { sessionId: id })).toMatchObject({ status: 'error', stopReason: 'storage_full' });
    expect(
      pushes.some((push) => push.push === 'session-live' && push.arg.sessionId === id && push.arg.update.type === 'response_discarded'),
    ).toBe(true);

    // Room again: the next message carries on from the log (the cut tool is recorded as lost, not re-run).
    rmSync(filler);
    await call('sessions-send', { sessionId: id, text: 'and now?' });
    await host.harness.wake(id);
    expect(hand.runs).toHaveLength(1);
    const events: StoredEvent[] = store.getEvents(id);
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result?.type === 'agent.tool_result' ? result.payload.status : null).toBe('interrupted');
    const last = events.at(-1);
    expect(last?.type === 'session.status_idle' ? last.payload.stop_reason.type : last?.type).toBe('end_turn');
    expect(await call('sessions-get', { sessionId: id })).toMatchObject({ status: 'idle', stopReason: null });
  });
});

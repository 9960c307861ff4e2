// A damaged database page that only shows up after start-up, while interrupted sessions resume:
// serve mode stays up, says what is damaged and what to do, and keeps serving the rest.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createHost, type Host } from '#rpc/host';
import { DB_FILE, SessionStore } from '#services/session/store';
import { tempDir } from '#test/support/system';
import { startServe, type RunningServer } from './server.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Overwrites the one page of `file` that holds `needle` (an event's id) with garbage. */
function damagePageHolding(file: string, needle: string): void {
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const bytes = readFileSync(file);
  const at = bytes.indexOf(needle);
  if (at < 0) throw new Error(`${needle} is not in ${file}`);
  const page = Math.floor(at / pageSize);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, page * pageSize);
  closeSync(fd);
}

describe('serve mode with a page damaged after start-up', () => {
  it('stays up and reports the damage when resuming an interrupted session hits it', async () => {
    const dir = tempDir('drover-resume-damage-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = path.join(dir, 'data');
    const staticDir = path.join(dir, 'ui');
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Drover</title>');

    // A session that was mid-turn when Drover stopped: its status event sits on a page of its own
    // among many others, so listing sessions still works and only resuming meets the damage.
    const setup = SessionStore.open({ dataDir });
    const victim = setup.createSession({ title: 'Interrupted' });
    const filler = (i: number) => ({
      type: 'agent.message' as const,
      payload: { content: [{ type: 'text' as const, text: `before ${i} `.repeat(60) }] },
    });
    setup.emitEvents(
      victim.id,
      Array.from({ length: 60 }, (_, i) => filler(i)),
    );
    const running = setup.emitEvent(victim.id, { type: 'session.status_running', payload: {} });
    setup.emitEvents(
      victim.id,
      Array.from({ length: 60 }, (_, i) => filler(i)),
    );
    setup.createSession({ title: 'Untouched' });
    setup.close();
    damagePageHolding(path.join(dataDir, DB_FILE), running.id);

    const store = SessionStore.open({ dataDir });
    cleanups.push(() => store.close());
    const logged: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(() => process.off('unhandledRejection', onUnhandled));
    const live: { server?: RunningServer } = {};
    const host: Host = createHost({
      store,
      info: { version: 't', dataDir, platform: 'linux' },
      push: (message) => live.server?.push(message),
      keyProvider: () => null,
      log: (message, error) => logged.push(`${message}${error === undefined ? '' : ` ${String(error)}`}`),
    });
    cleanups.push(() => host.close());
    const server = await startServe({
      host: '127.0.0.1',
      port: 0,
      token: 'a-token-for-the-test-only',
      staticDir,
      dispatch: host.dispatch,
      log: (line) => logged.push(line),
    });

    live.server = server;
    cleanups.push(() => server.close());
    for (let waited = 0; !logged.some((line) => line.includes('damaged')) && waited < 10_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
    const report = logged.find((line) => line.includes('damaged')) ?? '';
    expect(report).toContain('could not resume');
    expect(report).toContain(path.join(dataDir, DB_FILE));
    expect(report).toMatch(/move the file aside/);
    expect(report).not.toMatch(/^\s+at /m);

    // Still serving: the UI; the page sees the same damage report where it lists sessions, and
    // what does not touch the damaged page still works.
    expect((await fetch(`${server.origin}/`)).status).toBe(200);
    const listed = await host.dispatch('sessions-list', undefined);
    expect(listed).toMatchObject({ ok: false, error: { code: 'storage-corrupt' } });
    expect(listed.ok ? '' : listed.error.message).toContain(path.join(dataDir, DB_FILE));
    expect(await host.dispatch('sessions-create', { title: 'After the damage' })).toMatchObject({
      ok: true,
      result: { title: 'After the damage' },
    });
  });
});

// SessionStore under real faults: a second process, SIGKILL mid-append, damaged files, a
// read-only folder and a full disk (size-limited tmpfs). Each must leave earlier events intact.
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import type { NewEvent } from '#shared/events';
import { startReadyChild } from '#test/support/ready-child';
import { mountTmpfs, requirePart, tempDir, tmpfsUnavailableReason } from '#test/support/system';
import { DB_FILE, SessionStore } from './store.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const childScript = path.join(root, 'test/support/store-child.ts');
const hasTmpfs = requirePart('size-limited tmpfs mounts (disk-full and read-only tests)', tmpfsUnavailableReason());

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function text(value: string): NewEvent {
  return { type: 'agent.message', payload: { content: [{ type: 'text', text: value }] } };
}

function caught(work: () => unknown): AppError {
  try {
    work();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

function openStore(dataDir: string): SessionStore {
  const store = SessionStore.open({ dataDir, appVersion: '1.0.0-test' });
  cleanups.push(() => store.close());
  return store;
}

function scratch(): string {
  const dir = tempDir('drover-faults-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the helper process and resolves once it printed "ready"; lines after that go to `onLine`. */
function startChild(args: string[], onLine: (line: string) => void = () => undefined): Promise<ChildProcessWithoutNullStreams> {
  return startReadyChild('test/support/store-child.ts', args, { label: 'store', cleanups, onLine });
}

function exited(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('one process per data folder', () => {
  it('refuses a second store in the same process', () => {
    const dir = scratch();
    openStore(dir);
    const error = caught(() => SessionStore.open({ dataDir: dir }));
    expect(error.code).toBe('storage-locked');
    expect(error.message).toContain(dir);
    expect(error.message).toContain(`pid ${process.pid}`);
  });

  it('refuses a second process clearly, and frees the folder when the holder is SIGKILLed', async () => {
    const dir = scratch();
    const holder = await startChild(['hold', dir]);
    const error = caught(() => SessionStore.open({ dataDir: dir }));
    expect(error.code).toBe('storage-locked');
    expect(error.message).toContain(`pid ${holder.pid}`);
    expect(error.message).toMatch(/DROVER_DATA_DIR/);
    holder.kill('SIGKILL');
    await exited(holder);
    const store = openStore(dir);
    expect(store.listSessions()).toEqual([]);
  });
});

describe('crash safety', () => {
  it('loses no acknowledged event when the writer is SIGKILLed mid-append', async () => {
    const dir = scratch();
    const setup = SessionStore.open({ dataDir: dir });
    const session = setup.createSession({ title: 'Crash' });
    setup.close();

    const acked = new Map<number, string>();
    let child: ChildProcessWithoutNullStreams | undefined;
    let killed = false;
    const enough = new Promise<void>((resolve) => {
      void startChild(['append', dir, session.id], (line) => {
        const match = /^ack (\d+) (\S+)$/.exec(line);
        if (!match) return;
        acked.set(Number(match[1]), String(match[2]));
        if (acked.size >= 300 && !killed && child) {
          killed = true;
          child.kill('SIGKILL');
          resolve();
        }
      }).then((started) => (child = started));
    });
    await enough;
    if (child) await exited(child);
    expect(child?.signalCode).toBe('SIGKILL');

    const store = openStore(dir);
    const events = store.getEvents(session.id, { limit: 10_000 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const [seq, id] of acked) expect(events[seq - 1]?.id).toBe(id);
    expect(events.length).toBeGreaterThanOrEqual(acked.size);
    expect(store.emitEvent(session.id, text('after the crash')).seq).toBe(events.length + 1);
  });
});

describe('damaged database files', () => {
  it('refuses a file that is not a database, names it, and leaves it untouched', () => {
    const dir = scratch();
    const file = path.join(dir, DB_FILE);
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(file);
    const error = caught(() => SessionStore.open({ dataDir: dir }));
    expect(error.code).toBe('storage-corrupt');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/move the file aside/);
    expect(readFileSync(file).equals(before)).toBe(true);
    // The lock was released: a fixed folder opens at once.
    rmSync(file);
    openStore(dir);
  });

  it('reports a damaged page when it is read, naming the file, and keeps other sessions readable', () => {
    const dir = scratch();
    const store = SessionStore.open({ dataDir: dir });
    const victim = store.createSession({ title: 'Victim' });
    store.emitEvents(
      victim.id,
      Array.from({ length: 400 }, (_, i) => text(`victim ${i} `.repeat(40))),
    );
    store.close();

    const file = path.join(dir, DB_FILE);
    const db = new Database(file, { readonly: true });
    const page = db
      .prepare("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno ASC LIMIT 1")
      .pluck()
      .get() as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
    closeSync(fd);

    const reopened = openStore(dir);
    const survivor = reopened.createSession({ title: 'Survivor' });
    reopened.emitEvent(survivor.id, text('still fine'));
    const error = caught(() => reopened.getEvents(victim.id, { limit: 10_000 }));
    expect(error.code).toBe('storage-corrupt');
    expect(error.message).toContain(file);
    expect(reopened.getEvents(survivor.id).map((e) => e.seq)).toEqual([1]);
  });
});

describe.skipIf(!hasTmpfs)('read-only and full disks (real tmpfs mounts)', () => {
  it('refuses an unwritable data folder, naming it, with every saved event intact', () => {
    const disk = mountTmpfs('8m');
    cleanups.push(() => disk.unmount());
    const dir = path.join(disk.dir, 'drover');
    const store = SessionStore.open({ dataDir: dir });
    const session = store.createSession({ title: 'Saved' });
    const saved = store.emitEvents(session.id, [text('one'), text('two')]);
    store.close();

    disk.remount('ro');
    const error = caught(() => SessionStore.open({ dataDir: dir }));
    expect(error.code).toBe('storage-unwritable');
    expect(error.message).toContain(dir);
    expect(error.message).toMatch(/read-only|DROVER_DATA_DIR/);

    disk.remount('rw');
    expect(openStore(dir).getEvents(session.id)).toEqual(saved);
  });

  it('refuses a data folder it cannot create, naming it', () => {
    const disk = mountTmpfs('1m');
    cleanups.push(() => disk.unmount());
    disk.remount('ro');
    const dir = path.join(disk.dir, 'nested', 'drover');
    const error = caught(() => SessionStore.open({ dataDir: dir }));
    expect(error.code).toBe('storage-unwritable');
    expect(error.message).toContain(dir);
    expect(error.message).toMatch(/DROVER_DATA_DIR/);
  });

  it('says the disk is full, loses nothing saved before, and carries on once there is space', () => {
    const disk = mountTmpfs('1m');
    cleanups.push(() => disk.unmount());
    const dir = path.join(disk.dir, 'drover');
    const store = openStore(dir);
    const session = store.createSession({ title: 'Big outputs' });
    const saved = [];
    let full: AppError | undefined;
    for (let i = 0; i < 500 && !full; i++) {
      try {
        saved.push(store.emitEvent(session.id, text(`${i}:`.padEnd(16_000, 'x'))));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        full = error;
      }
    }
    expect(full?.code).toBe('storage-full');
    expect(full?.message).toContain(path.join(dir, DB_FILE));
    expect(full?.message).toMatch(/Free some disk space/);
    expect(saved.length).toBeGreaterThan(5);
    expect(store.getEvents(session.id, { limit: 10_000 })).toEqual(saved);

    disk.remount('size=16m');
    const next = store.emitEvent(session.id, text('room again'));
    expect(next.seq).toBe(saved.length + 1);
    store.close();
    cleanups.pop();
    expect(openStore(dir).getEvents(session.id, { limit: 10_000 })).toEqual([...saved, next]);
  });
});

describe('permissions', () => {
  it('refuses a data folder without write permission, naming it', () => {
    const dir = scratch();
    chmodSync(dir, 0o555);
    cleanups.push(() => chmodSync(dir, 0o700));
    // Root ignores file modes, so as root the attempt is made by a process running as nobody.
    const asRoot = process.getuid?.() === 0;
    const result = spawnSync(process.execPath, ['--import', 'tsx', childScript, 'open', dir], {
      cwd: root,
      encoding: 'utf8',
      ...(asRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } } : {}),
    });
    const outcome = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; code?: string; message?: string };
    expect(outcome, result.stderr).toMatchObject({ ok: false, code: 'storage-unwritable' });
    expect(outcome.message).toContain(dir);
    expect(outcome.message).toMatch(/DROVER_DATA_DIR/);
  });
});

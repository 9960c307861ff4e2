// The data folder's files are the user's alone: the session database, its -wal and -shm (which
// SQLite creates itself), the lock and its owner note are 0600 whatever the umask, files an older
// Drover left 0644 are tightened, and a data folder others can read is reported.
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataDirExposure } from '#services/data-dir';
import { tempDir } from '#test/support/system';
import { DB_FILE, SessionStore } from './store.ts';
import { LOCK_FILE } from './lock.ts';

const dirs: string[] = [];
let previousUmask: number | undefined;

afterEach(() => {
  if (previousUmask !== undefined) process.umask(previousUmask);
  previousUmask = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function modeOf(file: string): string {
  return (statSync(file).mode & 0o777).toString(8);
}

function dataFiles(dir: string): string[] {
  return [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, LOCK_FILE, 'drover.lock.owner.json'].map((name) => path.join(dir, name));
}

describe.skipIf(process.platform === 'win32')('data file permissions', () => {
  it('creates the database, its -wal/-shm and the lock files 0600 and the folder 0700 under a permissive umask', () => {
    previousUmask = process.umask(0o022);
    const parent = tempDir('drover-perms-');
    dirs.push(parent);
    const dir = path.join(parent, 'data');
    const store = SessionStore.open({ dataDir: dir });
    try {
      const session = store.createSession({ title: 'private' });
      store.emitEvent(session.id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'hello' }] } });
      for (const file of dataFiles(dir)) {
        expect(existsSync(file), `${file} exists while the store is open`).toBe(true);
        expect(`${path.basename(file)} ${modeOf(file)}`).toBe(`${path.basename(file)} 600`);
      }
      expect(modeOf(dir)).toBe('700');
    } finally {
      store.close();
    }
  });

  it('tightens files an older Drover left readable by others (0644) when it opens them', () => {
    const dir = tempDir('drover-perms-old-');
    dirs.push(dir);
    SessionStore.open({ dataDir: dir }).close();
    for (const name of [DB_FILE, LOCK_FILE]) chmodSync(path.join(dir, name), 0o644);
    writeFileSync(path.join(dir, 'drover.lock.owner.json'), '{}', { mode: 0o644 }); // left by a crash
    chmodSync(path.join(dir, 'drover.lock.owner.json'), 0o644);
    const store = SessionStore.open({ dataDir: dir });
    try {
      store.emitEvent(store.createSession({ title: 'again' }).id, { type: 'user.interrupt', payload: {} });
      for (const file of dataFiles(dir)) expect(`${path.basename(file)} ${modeOf(file)}`).toBe(`${path.basename(file)} 600`);
    } finally {
      store.close();
    }
  });

  it('warns, naming the folder and the fix, when an existing data folder is readable by group or others', () => {
    const dir = tempDir('drover-perms-shared-');
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    const warnings: string[] = [];
    SessionStore.open({ dataDir: dir, warn: (message) => warnings.push(message) }).close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dir);
    expect(warnings[0]).toContain('755');
    expect(warnings[0]).toContain(`chmod 700 '${dir}'`);
    expect(dataDirExposure(dir)).toBe(warnings[0]);

    chmodSync(dir, 0o700);
    const none: string[] = [];
    SessionStore.open({ dataDir: dir, warn: (message) => none.push(message) }).close();
    expect(none).toEqual([]);
    expect(dataDirExposure(dir)).toBeNull();
  });
});

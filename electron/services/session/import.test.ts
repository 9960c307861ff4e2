// What an import records about itself: how many events came from the file (kept across a reopen,
// cut at each fork point), so their hands can stay off until reviewed.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';
import { SessionStore } from './store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(count: number): string {
  const header = {
    drover_session_export: 1,
    session: { id: randomUUID(), title: 'From a file', created_at: new Date().toISOString(), parent_id: null, fork_seq: null },
    event_count: count,
  };
  const events = Array.from({ length: count }, (_, index) => ({
    seq: index + 1,
    id: randomUUID(),
    ts: new Date().toISOString(),
    type: 'user.message',
    payload: { content: [{ type: 'text', text: `m${index + 1}` }] },
  }));
  return [header, ...events].map((line) => JSON.stringify(line)).join('\n');
}

describe('an imported session', () => {
  it('is marked with how many events came from the file, across a reopen and cut at each fork point', () => {
    const dir = tempDir('drover-import-mark-');
    dirs.push(dir);
    let store = SessionStore.open({ dataDir: dir });
    const imported = store.importSession([file(4)]);
    expect(imported.importedSeq).toBe(4);
    store.emitEvent(imported.id, { type: 'user.interrupt', payload: {} });
    const early = store.fork(imported.id, 2);
    const late = store.fork(imported.id, 5);
    const none = store.fork(imported.id, 0);
    const branch = store.rewind(early.id, 3);
    const mine = store.createSession({ title: 'Mine' });
    const check = (): void => {
      expect(store.getSession(imported.id).importedSeq).toBe(4);
      expect(store.getSession(early.id).importedSeq).toBe(2);
      expect(store.getSession(late.id).importedSeq).toBe(4);
      expect(store.getSession(none.id).importedSeq).toBeUndefined();
      expect(store.getSession(branch.id).importedSeq).toBe(2);
      expect(store.getSession(mine.id).importedSeq).toBeUndefined();
    };
    check();
    store.close();
    store = SessionStore.open({ dataDir: dir });
    check();
    store.close();
  });
});

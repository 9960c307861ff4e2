// SessionStore forks, rewind and branches on real SQLite files in temp dirs (split from store.test.ts).
// Never copies history in a fork or lets one branch see another's events; these tests must never weaken that.
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import { appError } from '#test/support/app-error';
import { tempDir } from '#test/support/system';
import { DB_FILE, SessionStore } from './store.ts';

function text(value: string): NewEvent {
  return { type: 'agent.message', payload: { content: [{ type: 'text', text: value }] } };
}

function userText(value: string): NewEvent {
  return { type: 'user.message', payload: { content: [{ type: 'text', text: value }] } };
}

let dir: string;
let store: SessionStore;

beforeEach(() => {
  dir = tempDir('drover-store-');
  store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('forks', () => {
  it('reads the parent up to the fork point, then its own events; neither side sees the other', () => {
    const parent = store.createSession({ title: 'Parent' });
    const base = store.emitEvents(parent.id, [userText('1'), text('2'), text('3'), text('4')]);
    const child = store.fork(parent.id, 2);
    expect(child).toMatchObject({ parentId: parent.id, forkSeq: 2, lastSeq: 3, title: 'Parent (fork at 2)' });
    const own = store.emitEvent(child.id, userText('child 4'));
    store.emitEvent(parent.id, text('parent 5'));
    const view = store.getEvents(child.id);
    expect(view.slice(0, 2)).toEqual(base.slice(0, 2));
    expect(view[2]).toMatchObject({ seq: 3, type: 'session.forked', payload: { parent_session_id: parent.id, at_seq: 2 } });
    expect(view[3]).toEqual(own);
    expect(store.getEvents(parent.id).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(store.getEvents(parent.id)[3]).toEqual(base[3]);
  });

  it('supports forks of forks, at points inside inherited history, and slices across segments', () => {
    const a = store.createSession({ title: 'A' });
    store.emitEvents(
      a.id,
      Array.from({ length: 10 }, (_, i) => text(`a${i + 1}`)),
    );
    const b = store.fork(a.id, 6);
    store.emitEvents(b.id, [text('b8'), text('b9')]);
    const c = store.fork(b.id, 8);
    store.emitEvent(c.id, text('c10'));
    const d = store.fork(c.id, 3);
    const label = (e: StoredEvent) => (e.type === 'agent.message' ? e.payload.content[0]?.text : e.type);
    expect(store.getEvents(c.id).map(label)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'session.forked', 'b8', 'session.forked', 'c10']);
    expect(store.getEvents(d.id).map(label)).toEqual(['a1', 'a2', 'a3', 'session.forked']);
    expect(store.getEvents(c.id, { afterSeq: 5, limit: 4 }).map((e) => e.seq)).toEqual([6, 7, 8, 9]);
    expect(store.getEvents(c.id, { beforeSeq: 10, limit: 5, direction: 'backward' }).map(label)).toEqual([
      'a5',
      'a6',
      'session.forked',
      'b8',
      'session.forked',
    ]);
    expect(store.getEvents(c.id, { types: ['session.forked'] }).map((e) => e.seq)).toEqual([7, 9]);

    const tree = store.getTree(d.id);
    expect(tree.map((n) => [n.title, n.depth, n.parentId, n.forkSeq])).toEqual([
      ['A', 0, null, null],
      ['A (fork at 6)', 1, a.id, 6],
      ['A (fork at 6) (fork at 8)', 2, b.id, 8],
      ['A (fork at 6) (fork at 8) (fork at 3)', 3, c.id, 3],
    ]);
    expect(store.getTree(a.id)).toEqual(tree);
  });

  it('is copy-free: a fork adds one session row and one event, whatever the history', () => {
    const parent = store.createSession({ title: 'Long' });
    store.emitEvents(
      parent.id,
      Array.from({ length: 500 }, (_, i) => text(`event ${i}`)),
    );
    const child = store.fork(parent.id, 400);
    store.close();
    const db = new Database(path.join(dir, DB_FILE), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(501);
      expect(
        db.prepare('SELECT count(*) FROM events WHERE session_pk = (SELECT pk FROM sessions WHERE id = ?)').pluck().get(child.id),
      ).toBe(1);
    } finally {
      db.close();
      store = SessionStore.open({ dataDir: dir });
    }
    expect(store.getEvents(child.id, { limit: 10_000 })).toHaveLength(401);
  });

  it('keeps the tree after reopening', () => {
    const a = store.createSession({ title: 'A' });
    store.emitEvents(a.id, [text('1'), text('2')]);
    const b = store.fork(a.id, 1);
    const c = store.fork(b.id, 2);
    const before = store.getEvents(c.id);
    store.close();
    store = SessionStore.open({ dataDir: dir });
    expect(store.getEvents(c.id)).toEqual(before);
    expect(store.getTree(a.id).map((n) => n.id)).toEqual([a.id, b.id, c.id]);
  });

  it('refuses a fork point outside the session, saying what the range is', () => {
    const session = store.createSession({ title: 'Short' });
    store.emitEvents(session.id, [text('1'), text('2')]);
    const error = appError(() => store.fork(session.id, 3));
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toContain('events 1 to 2');
    expect(store.fork(session.id, 0).lastSeq).toBe(1);
  });

  it('deletes a leaf session and refuses to delete one whose forks read it', () => {
    const parent = store.createSession({ title: 'Parent' });
    store.emitEvents(parent.id, [text('1'), text('2')]);
    const child = store.fork(parent.id, 1);
    const error = appError(() => store.deleteSession(parent.id));
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/1 fork that still/);
    store.deleteSession(child.id);
    expect(appError(() => store.getSession(child.id)).code).toBe('not-found');
    store.deleteSession(parent.id);
    expect(store.listSessions()).toEqual([]);
  });
});

describe('rewind and branches', () => {
  it('continues a conversation on a new branch that becomes current; the old branch keeps its events', () => {
    const root = store.createSession({ title: 'Fix the build' });
    store.emitEvents(root.id, [userText('go'), text('1'), text('2'), text('3')]);
    expect(root.kind).toBe('root');
    expect(store.getSession(root.id)).toMatchObject({ conversationId: root.id, currentBranchId: root.id });

    const branch = store.rewind(root.id, 2);
    expect(branch).toMatchObject({
      kind: 'rewind',
      parentId: root.id,
      forkSeq: 2,
      conversationId: root.id,
      currentBranchId: null,
      title: 'Fix the build',
    });
    expect(store.getSession(root.id).currentBranchId).toBe(branch.id);
    expect(store.getEvents(branch.id).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.getEvents(root.id)).toHaveLength(4);

    // A rewind of a rewind stays in the same conversation; a fork starts a new one.
    store.emitEvent(branch.id, text('b'));
    const again = store.rewind(branch.id, 1);
    expect(again.conversationId).toBe(root.id);
    const fork = store.fork(branch.id, 3);
    expect(fork).toMatchObject({ kind: 'fork', conversationId: fork.id, currentBranchId: fork.id });
    expect(store.getSession(root.id).currentBranchId).toBe(again.id);

    // Switching is one call, and survives a restart.
    store.switchBranch(branch.id);
    store.close();
    store = SessionStore.open({ dataDir: dir });
    expect(store.getSession(root.id).currentBranchId).toBe(branch.id);
    expect(store.getSession(again.id).conversationId).toBe(root.id);
    const tree = store.getTree(again.id);
    expect(tree.map((node) => [node.kind, node.depth])).toEqual([
      ['root', 0],
      ['rewind', 1],
      ['rewind', 2],
      ['fork', 2],
    ]);
    expect(tree[1]).toMatchObject({ lastSeq: 4 });
    store.switchBranch(root.id);
    expect(store.getSession(root.id).currentBranchId).toBe(root.id);
  });

  it('shows the branch a deleted current branch was taken from', () => {
    const root = store.createSession({ title: 'R' });
    store.emitEvents(root.id, [text('1'), text('2')]);
    const first = store.rewind(root.id, 1);
    const second = store.rewind(first.id, 1);
    expect(store.getSession(root.id).currentBranchId).toBe(second.id);
    store.deleteSession(second.id);
    expect(store.getSession(root.id).currentBranchId).toBe(first.id);
    store.deleteSession(first.id);
    expect(store.getSession(root.id).currentBranchId).toBe(root.id);
    store.close();
    store = SessionStore.open({ dataDir: dir });
    expect(store.getSession(root.id).currentBranchId).toBe(root.id);
  });

  it('names what a delete would orphan as branches and forks, and deletes a branch with its descendants', () => {
    const root = store.createSession({ title: 'R' });
    store.emitEvents(root.id, [text('1'), text('2'), text('3')]);
    const branch = store.rewind(root.id, 2);
    store.emitEvent(branch.id, text('b'));
    const deeper = store.rewind(branch.id, 3);
    const fork = store.fork(branch.id, 2);
    store.emitEvent(fork.id, text('f'));
    const other = store.rewind(root.id, 1);
    store.switchBranch(deeper.id);

    const error = appError(() => store.deleteSession(branch.id));
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('"R" has 1 branch and 1 fork that still read its events. Delete them first, or delete it with them.');
    expect(appError(() => store.deleteSession(root.id)).message).toContain('has 3 branches and 1 fork');

    const deleted = store.deleteSession(branch.id, { withDescendants: true });
    expect(deleted).toHaveLength(3);
    expect(deleted.at(-1)).toBe(branch.id);
    expect(new Set(deleted)).toEqual(new Set([branch.id, deeper.id, fork.id]));
    for (const id of deleted) expect(appError(() => store.getSession(id)).code).toBe('not-found');
    // The conversation showed the deepest branch: it now shows its root; the other branch stays.
    expect(store.getSession(root.id).currentBranchId).toBe(root.id);
    expect(store.getTree(root.id).map((node) => node.id)).toEqual([root.id, other.id]);
    expect(store.getEvents(root.id)).toHaveLength(3);
    store.close();
    store = SessionStore.open({ dataDir: dir });
    expect(store.getSession(root.id).currentBranchId).toBe(root.id);
    expect(
      store
        .listSessions()
        .map((session) => session.id)
        .sort(),
    ).toEqual([root.id, other.id].sort());
  });

  it('refuses to change how a session was made, in the database itself', () => {
    const root = store.createSession({ title: 'R' });
    store.emitEvent(root.id, text('1'));
    store.rewind(root.id, 1);
    const db = new Database(path.join(dir, DB_FILE));
    try {
      expect(() => db.prepare("UPDATE sessions SET kind = 'fork'").run()).toThrow(/cannot be changed/);
      expect(() => db.prepare("INSERT INTO sessions (id, title, created_at, kind) VALUES ('x', 't', 0, 'rewind')").run()).toThrow(
        /root session has no parent/,
      );
    } finally {
      db.close();
    }
  });

  it('renames a conversation, its rewinds with it; a fork keeps its own title; the name survives a reopen', () => {
    const root = store.createSession({ title: 'Before' });
    store.emitEvent(root.id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } });
    const branch = store.rewind(root.id, 1);
    const fork = store.fork(root.id, 1, { title: 'A fork' });
    expect(store.renameSession(branch.id, 'After').title).toBe('After');
    expect(store.getSession(root.id).title).toBe('After');
    expect(store.getSession(fork.id).title).toBe('A fork');
    store.close();
    store = SessionStore.open({ dataDir: dir });
    expect(store.getSession(root.id).title).toBe('After');
    expect(store.getSession(branch.id).title).toBe('After');
    expect(() => store.renameSession('00000000-0000-4000-8000-000000000000', 'x')).toThrow(/not|no session/i);
  });
});

// Storage caps and the retention rule (issue 20 item 5) through Settings → Storage's RPC handlers,
// a real registry and store in a temp dir, the real Docker engine (BUSYBOX_IMAGE) and real blobs:
// - a session over its cap is thinned exactly as the rule says (every checkpoint of the last N
//   turns, then each turn's last, never a fork's restore checkpoint nor one a rewind names); the
//   pruned checkpoints' own blobs are gone, the kept ones load; a fork at a pruned event restores the
//   nearest kept earlier one (`restored_from` says which), a fork at a protected one restores it;
//   the changes view reads the files at a pruned event from that same kept checkpoint;
// - after a capture over the cap the session is thinned at once; when thinning cannot get under,
//   captures pause with a reason the usage shows, and resume when the cap is raised;
// - limits out of range are refused in words; "Thin old checkpoints" thins by the rule.
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { rpcMethods } from '#shared/rpc';
import { createStorageHandlers } from './storage-handlers.ts';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { storageRig } from '#test/support/storage-rig';
import { blobsOf, loadManifest } from '#services/checkpoints/manifest';
import { keptCheckpoints } from '#services/checkpoints/retention-log';
import { findRestoreSource } from '#services/checkpoints/hand-checkpoints';
import { checkpointAt as filesAt } from '#services/checkpoints/changes';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MiB = 1024 ** 2;

function rig() {
  const { dir, store, engine, hands, sessionId, exec: run } = storageRig({ prefix: 'drover-retention-', title: 'retention', cleanups });
  const rpc = createStorageHandlers({ store, hands, engine });
  const events = <K extends EventType>(type: K, id = sessionId) =>
    store.getEvents(id, { types: [type], limit: 10_000 }) as Array<EventOf<K>>;
  function turn(id = sessionId): number {
    return store.emitEvent(id, { type: 'user.message', payload: { content: [{ type: 'text', text: 'go on' }] } }).seq;
  }
  /** A tool call that writes `bytes` of fresh random data over /workspace/scratch and its name into /workspace/marker. */
  const write = (name: string, bytes: number, id = sessionId) =>
    run(`head -c ${bytes} /dev/urandom > /workspace/scratch && echo ${name} > /workspace/marker`, id).then((result) => result.seq);
  return { dir, store, engine, hands, rpc, sessionId, events, turn, run, write };
}

type Rig = ReturnType<typeof rig>;

/** The at_seqs of a session's checkpoints that still count. */
const kept = (r: Rig, id = r.sessionId) => keptCheckpoints(r.store, id).map((event) => event.payload.at_seq);

/** The marker file a fresh container of `box` in `id` starts with (the hand restores from its checkpoint). */
async function markerIn(r: Rig, id: string): Promise<string> {
  return (await r.run('cat /workspace/marker', id)).output.split('\n')[0] ?? '';
}

describe.runIf(ready)('Storage caps and retention', () => {
  it('a session over its cap is thinned by the rule; a fork’s restore checkpoint and a rewind’s are kept; forks at pruned events restore the nearest kept one', async () => {
    const r = rig();
    // Five turns of three tool calls, each writing 200 KB of its own: 15 checkpoints, each with a blob only it reaches.
    const at: Record<string, number> = {};
    for (let t = 1; t <= 5; t += 1) {
      r.turn();
      for (let c = 1; c <= 3; c += 1) at[`T${t}c${c}`] = await r.write(`T${t}c${c}`, 200_000);
    }
    expect(kept(r)).toHaveLength(15);
    // A fork at T2c1's result: its hands restore T2c1's checkpoint. A rewind (keep 'conversation') names T1c1's.
    const fork = r.store.fork(r.sessionId, at.T2c1 ?? 0, { title: 'fork at T2c1' });
    const rewound = r.store.fork(r.sessionId, r.store.getSession(r.sessionId).lastSeq, { title: 'rewound', kind: 'rewind' });
    const named = r.events('hand.checkpoint').find((event) => event.payload.at_seq === at.T1c1);
    r.store.emitEvent(rewound.id, {
      type: 'hand.checkpoint',
      payload: {
        ...(named?.payload ?? ({} as EventOf<'hand.checkpoint'>['payload'])),
        at_seq: r.store.getSession(rewound.id).lastSeq + 1,
        rewind: { keep: 'conversation', session_id: r.sessionId, at_seq: at.T1c1 ?? 0 },
      },
    });
    const before = await r.rpc['storage-usage'](undefined);
    const row = before.sessions.find((session) => session.sessionId === r.sessionId);
    expect(row?.checkpointBytes).toBeGreaterThan(2.9e6);
    const scratchOf = async (seq: number | undefined): Promise<string> => {
      const event = r.events('hand.checkpoint').find((candidate) => candidate.payload.at_seq === seq);
      const manifest = await loadManifest(r.hands.blobs, event?.payload.manifest ?? '');
      const entry = manifest.entries.find((candidate) => candidate.path === '/workspace/scratch');
      if (entry?.type !== 'file' || entry.hash === undefined) throw new Error('no scratch file');
      return entry.hash;
    };
    const scratch = new Map<string, string>();
    for (const [name, seq] of Object.entries(at)) scratch.set(name, await scratchOf(seq));

    // Keep every checkpoint of the last 2 turns; a cap the session is over.
    const usage = await r.rpc['storage-set-limits']({ sessionCapBytes: 2.5 * MiB, totalCapBytes: null, keepTurns: 2 });
    // The rule: T4 and T5 whole; before them each turn's last (c3); T2c1 (the fork's) and T1c1 (the rewind's) too.
    const expected = ['T1c1', 'T1c3', 'T2c1', 'T2c3', 'T3c3', 'T4c1', 'T4c2', 'T4c3', 'T5c1', 'T5c2', 'T5c3'];
    const pruned = ['T1c2', 'T2c2', 'T3c1', 'T3c2'];
    expect(kept(r)).toEqual(expected.map((name) => at[name]));
    const [event, ...more] = r.events('hand.checkpoints_pruned');
    expect(more).toHaveLength(0);
    expect(event?.payload.hand_id).toBe('box');
    expect(event?.payload.at_seqs).toEqual(pruned.map((name) => at[name]));
    expect(event?.payload.reason).toMatch(/^Storage cap: its checkpoint data is .* over the cap per session of 2\.5 MiB$/);
    // The pruned checkpoints' own blobs are gone; every kept checkpoint still loads whole.
    for (const name of pruned) expect(await r.hands.blobs.has(scratch.get(name) ?? '')).toBe(false);
    for (const checkpoint of keptCheckpoints(r.store, r.sessionId))
      for (const hash of await blobsOf(r.hands.blobs, checkpoint.payload.manifest)) expect(await r.hands.blobs.has(hash)).toBe(true);
    const after = usage.sessions.find((session) => session.sessionId === r.sessionId);
    expect(after?.checkpointBytes).toBeLessThanOrEqual(2.5 * MiB);
    expect(after?.capPaused).toBeNull();
    expect(after?.thinned).toEqual({ checkpoints: 4 });
    expect(usage.limits).toEqual({ sessionCapBytes: 2.5 * MiB, totalCapBytes: null, keepTurns: 2 });
    expect(
      (before.sessions.find((session) => session.sessionId === r.sessionId)?.checkpointBytes ?? 0) - (after?.checkpointBytes ?? 0),
    ).toBeGreaterThan(4 * 200_000);
    // The log stays append-only: the pruned checkpoint events are still there.
    expect(r.events('hand.checkpoint').filter((checkpoint) => checkpoint.seq <= (event?.seq ?? 0))).toHaveLength(15);

    // A fork at a pruned event restores the nearest kept earlier checkpoint, and says so.
    const atPruned = r.store.fork(r.sessionId, at.T3c2 ?? 0, { title: 'fork at T3c2' });
    expect(findRestoreSource(r.store, atPruned.id, 'box', 0)).toMatchObject({ kind: 'checkpoint', atSeq: at.T2c3 });
    // The changes view (and one-file restore, files-only rewinds) read the files at a pruned event from the same one.
    expect(filesAt(r.store, r.sessionId, 'box', at.T3c2 ?? 0)).toMatchObject({ sessionId: r.sessionId, atSeq: at.T2c3 });
    expect(filesAt(r.store, atPruned.id, 'box', at.T3c2 ?? 0)).toMatchObject({ atSeq: at.T2c3 });
    expect(filesAt(r.store, r.sessionId, 'box', at.T3c3 ?? 0)).toMatchObject({ atSeq: at.T3c3 });
    expect(await markerIn(r, atPruned.id)).toBe('T2c3');
    const ready = r.events('hand.ready', atPruned.id).at(-1);
    expect(ready?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: at.T2c3 });
    // The fork made before restores its own fork point's checkpoint, which the rule kept.
    expect(await markerIn(r, fork.id)).toBe('T2c1');
    expect(r.events('hand.ready', fork.id).at(-1)?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: at.T2c1 });

    // Thinning again changes nothing (nothing more the rule allows).
    expect(await r.rpc['storage-thin'](undefined)).toEqual({ checkpoints: 0, sessions: 0, freedBytes: 0 });
    // With N = 1, "Thin old checkpoints" takes T4c1 and T4c2 too, and says what it freed.
    await r.rpc['storage-set-limits']({ sessionCapBytes: null, totalCapBytes: null, keepTurns: 1 });
    const thin = await r.rpc['storage-thin'](undefined);
    expect(thin).toMatchObject({ checkpoints: 2, sessions: 1 });
    expect(thin.freedBytes).toBeGreaterThan(2 * 200_000);
    expect(kept(r)).toEqual(['T1c1', 'T1c3', 'T2c1', 'T2c3', 'T3c3', 'T4c3', 'T5c1', 'T5c2', 'T5c3'].map((name) => at[name]));
    expect(r.events('hand.checkpoints_pruned').at(-1)?.payload.reason).toMatch(/^Thin old checkpoints/);
  });

  it('a capture over the cap thins at once; when thinning cannot get under, captures pause with a reason and resume when the cap is raised', async () => {
    const r = rig();
    await r.rpc['storage-set-limits']({ sessionCapBytes: 2 * MiB, totalCapBytes: null, keepTurns: 1 });
    r.turn();
    const t1 = [await r.write('T1c1', 600_000), await r.write('T1c2', 600_000), await r.write('T1c3', 600_000)];
    expect(r.events('hand.checkpoints_pruned')).toHaveLength(0); // 1.8 MB: under the cap
    r.turn();
    const t2c1 = await r.write('T2c1', 600_000);
    // 2.4 MB: over; T1's first two go at once (T1c3 is its turn's last).
    const [pruned] = r.events('hand.checkpoints_pruned');
    expect(pruned?.payload.at_seqs).toEqual(t1.slice(0, 2));
    expect(kept(r)).toEqual([t1[2], t2c1]);
    expect((await r.rpc['storage-usage'](undefined)).sessions[0]?.capPaused).toBeNull();

    // Within the last turn nothing can be thinned: over the cap again, captures pause.
    const t2c2 = await r.write('T2c2', 600_000);
    const t2c3 = await r.write('T2c3', 600_000);
    expect(kept(r)).toEqual([t1[2], t2c1, t2c2, t2c3]);
    const paused = await r.rpc['storage-usage'](undefined);
    expect(paused.sessions[0]?.capPaused).toMatch(
      /^Checkpoints of this session are paused: its checkpoint data is .*, over the cap per session of 2\.0 MiB, even after thinning/,
    );
    await r.write('T2c4', 1000);
    expect(kept(r)).toEqual([t1[2], t2c1, t2c2, t2c3]); // nothing recorded while paused

    // A cap raised: captures resume, and the next one takes every change since (T2c4's marker, T2c5's scratch).
    const resumed = await r.rpc['storage-set-limits']({ sessionCapBytes: 100 * MiB, totalCapBytes: null, keepTurns: 1 });
    expect(resumed.sessions[0]?.capPaused).toBeNull();
    const t2c5 = await r.run('head -c 1000 /dev/urandom > /workspace/more', r.sessionId);
    expect(kept(r).at(-1)).toBe(t2c5.seq);
    const last = r.events('hand.checkpoint').at(-1);
    const manifest = await loadManifest(r.hands.blobs, last?.payload.manifest ?? '');
    expect(manifest.entries.map((entry) => entry.path).filter((entry) => entry.startsWith('/workspace/'))).toEqual([
      '/workspace/marker',
      '/workspace/more',
      '/workspace/scratch',
    ]);
    const marker = manifest.entries.find((entry) => entry.path === '/workspace/marker');
    if (marker?.type !== 'file' || marker.hash === undefined) throw new Error('no marker');
    expect((await r.hands.blobs.get(marker.hash)).toString()).toBe('T2c4\n');
  });

  it('the overall cap counts every session: a session that cannot get under it pauses', async () => {
    const r = rig();
    const other = r.store.createSession({ title: 'other' });
    r.store.emitEvent(other.id, {
      type: 'hand.attached',
      payload: { hand_id: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } },
    });
    r.turn(other.id);
    await r.write('other', 1_500_000, other.id);
    await r.rpc['storage-set-limits']({ sessionCapBytes: null, totalCapBytes: 2 * MiB, keepTurns: 10 });
    r.turn();
    await r.write('mine', 800_000);
    const usage = await r.rpc['storage-usage'](undefined);
    expect(usage.sessions.find((session) => session.sessionId === r.sessionId)?.capPaused).toMatch(
      /all sessions' checkpoint data is .* over the overall cap of 2\.0 MiB/,
    );
    // Deleting the other session frees the room: the next check lets captures resume.
    r.store.deleteSession(other.id);
    await r.hands.sessionDeleted(other.id);
    const resumed = await r.rpc['storage-set-limits']({ sessionCapBytes: null, totalCapBytes: 2 * MiB, keepTurns: 10 });
    expect(resumed.sessions.find((session) => session.sessionId === r.sessionId)?.capPaused).toBeNull();
  });

  it('refuses nonsense limits in words', () => {
    const parse = (value: unknown) => rpcMethods['storage-set-limits'].arg.safeParse(value);
    expect(parse({ sessionCapBytes: 1000, totalCapBytes: null, keepTurns: 10 }).error?.issues[0]?.message).toBe(
      'give at least 1 MiB, or no cap',
    );
    expect(parse({ sessionCapBytes: null, totalCapBytes: null, keepTurns: 0 }).error?.issues[0]?.message).toBe('keep at least 1 turn');
    expect(parse({ sessionCapBytes: null, totalCapBytes: null, keepTurns: 2.5 }).error?.issues[0]?.message).toBe(
      'give a whole number of turns',
    );
    expect(parse({ sessionCapBytes: 10 * MiB, totalCapBytes: 5 * MiB, keepTurns: 10 }).error?.issues[0]?.message).toMatch(
      /^the cap per session is larger than the overall cap/,
    );
    expect(parse({ sessionCapBytes: null, totalCapBytes: null, keepTurns: 10, extra: 1 }).success).toBe(false);
    expect(parse({ sessionCapBytes: 10 * MiB, totalCapBytes: null, keepTurns: 10 }).success).toBe(true);
  });
});

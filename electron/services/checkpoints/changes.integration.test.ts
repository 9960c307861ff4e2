// The changes view on real parts (issue 20): a real container of the test busybox image changed step
// by step, a real capture after each step recorded as a `hand.checkpoint` event in a real session
// log. Between any two events the files added/changed/deleted/mode-changed/renamed equal the diff of
// two full walks of the container (the `diff -r` of the two trees); a fork sees its parent's
// checkpoint for a tool call before its fork point even though that event is after it; one file's
// diff is jsdiff's unified diff (binary and big files summarised); restoring one file puts it back
// and records a checkpoint.
import { rmSync } from 'node:fs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandChanges } from '#shared/changes';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { BlobStore } from './blob-store.ts';
import { changesBetween, checkpointAt, fileDiff } from './changes.ts';
import { restoreFileAt } from './changes-restore.ts';
import { captureContainer } from './docker-capture.ts';
import { restoreContainer } from './docker-restore.ts';
import { walkContainer } from './full-walk.ts';
import { diffManifests, storeManifest, type Checkpoint, type Manifest, type ManifestDiff } from './manifest.ts';
import { TestContainers } from './test-containers.ts';

const ready = await requireDocker();
const HAND = 'box';

let dir: string;
let store: SessionStore;
let blobs: BlobStore;
let engine: DockerEngine;
let containers: TestContainers;

beforeAll(() => {
  if (!ready) return;
  dir = tempDir('drover-changes-');
  store = SessionStore.open({ dataDir: dir });
  blobs = new BlobStore(dir);
  engine = new DockerEngine({ instance: instanceIdOf(dir) });
  containers = new TestContainers(engine, BUSYBOX_IMAGE);
});

afterAll(async () => {
  await containers?.removeAll();
  store?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** What happened at one step: the "tool result" event, the checkpoint event, and a full walk of the tree then. */
interface Step {
  toolSeq: number;
  checkpointSeq: number;
  walk: Manifest;
  checkpoint: Checkpoint;
}

/** Runs `script` in the container as a tool call would, records a tool-result stand-in event, captures, records the checkpoint. */
async function step(sessionId: string, container: Docker.Container, script: string, previous: Checkpoint | null): Promise<Step> {
  await containers.sh(container, script);
  const tool = store.emitEvent(sessionId, { type: 'system.message', payload: { content: [{ type: 'text', text: script }] } });
  const capture = await captureContainer({ engine, blobs, container, previous });
  const image = (await container.inspect()).Image;
  const recorded = store.emitEvent(sessionId, {
    type: 'hand.checkpoint',
    payload: {
      hand_id: HAND,
      at_seq: tool.seq,
      manifest: capture.checkpoint.manifest,
      parent: previous?.manifest ?? null,
      base: image,
      captured_at: capture.checkpoint.captured_at,
      changed_paths: capture.stats.changed_paths,
      bytes_stored: capture.stats.bytes_stored,
      duration_ms: capture.stats.duration_ms,
    },
  });
  return { toolSeq: tool.seq, checkpointSeq: recorded.seq, walk: await walkContainer(engine, container), checkpoint: capture.checkpoint };
}

/** Paths by kind, the way the changes view reports them. */
function kindsOf(changes: HandChanges): Record<string, string[]> {
  const out: Record<string, string[]> = { added: [], changed: [], deleted: [], mode_changed: [], renamed: [] };
  for (const file of changes.files) out[file.kind]?.push(file.kind === 'renamed' ? `${file.fromPath ?? ''} → ${file.path}` : file.path);
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** The same from a diff of two full walks (whole trees: the `diff -r` of the two). */
function expectedOf(diff: ManifestDiff): Record<string, string[]> {
  return {
    added: diff.added.map((change) => change.path).sort(),
    changed: diff.changed.map((change) => change.path).sort(),
    deleted: diff.deleted.map((change) => change.path).sort(),
    mode_changed: diff.modeChanged.map((change) => change.path).sort(),
    renamed: diff.renamed.map((rename) => `${rename.from} → ${rename.to}`).sort(),
  };
}

async function only(sessionId: string, fromSeq: number, toSeq: number): Promise<HandChanges> {
  const [changes, ...others] = await changesBetween(store, blobs, engine, sessionId, null, fromSeq, toSeq);
  expect(others).toEqual([]);
  if (!changes) throw new Error('no changes for the hand');
  return changes;
}

const SCRIPTS = [
  `mkdir -p /work/dir && printf 'one\\ntwo\\nthree\\n' > /work/a.txt && printf 'A\\0B' > /work/bin.dat && echo keep > /work/keep.txt &&
   echo gone > /work/gone.txt && echo run > /work/run.sh && ln -s a.txt /work/link`,
  `sed -i 's/two/TWO/' /work/a.txt && rm /work/gone.txt && mv /work/keep.txt /work/dir/moved.txt && chmod 750 /work/run.sh &&
   echo 'x:x:1000:1000::/home/x:/bin/sh' >> /etc/passwd && printf 'A\\0C' > /work/bin.dat && ln -sfn run.sh /work/link`,
  `dd if=/dev/zero of=/work/big.bin bs=1024 count=2048 2>/dev/null && rm /etc/group && echo four >> /work/a.txt && mkdir /work/empty`,
];

describe.runIf(ready)('the changes view between checkpoints', () => {
  let sessionId: string;
  let container: Docker.Container;
  let start: Manifest;
  const steps: Step[] = [];

  beforeAll(async () => {
    sessionId = store.createSession({ title: 'changes' }).id;
    container = await containers.start();
    start = await walkContainer(engine, container);
    let previous: Checkpoint | null = null;
    for (const script of SCRIPTS) {
      const done = await step(sessionId, container, script, previous);
      steps.push(done);
      previous = done.checkpoint;
    }
  }, 180_000);

  it('finds the checkpoint at an event by the tool call it follows, not where it was recorded', () => {
    const [first, second] = steps;
    if (!first || !second) throw new Error('steps missing');
    expect(checkpointAt(store, sessionId, HAND, first.toolSeq - 1)).toBeNull();
    expect(checkpointAt(store, sessionId, HAND, first.toolSeq)?.seq).toBe(first.checkpointSeq);
    expect(checkpointAt(store, sessionId, HAND, second.toolSeq - 1)?.seq).toBe(first.checkpointSeq);
    expect(checkpointAt(store, sessionId, HAND, second.toolSeq)?.seq).toBe(second.checkpointSeq);
    expect(checkpointAt(store, sessionId, 'other', second.toolSeq)).toBeNull();
  });

  it('between any two events equals the diff of the two trees', async () => {
    // Event 0 (no checkpoint yet) is the fresh container's tree: the folder Docker made for it (/work, its
    // working directory, which the image lacks) is no change of the hand's (engine-paths.ts).
    const points: Array<{ seq: number; walk: Manifest }> = [
      { seq: 0, walk: start },
      ...steps.map((s) => ({ seq: s.toolSeq, walk: s.walk })),
    ];
    for (const [i, from] of points.entries()) {
      for (const to of points.slice(i + 1)) {
        const changes = await only(sessionId, from.seq, to.seq);
        const expected = expectedOf(diffManifests(from.walk, to.walk));
        expect(kindsOf(changes), `events ${from.seq} → ${to.seq}`).toEqual(expected);
      }
    }
    // Sizes and modes come with each path.
    const [, second] = steps;
    const changes = await only(sessionId, steps[0]?.toolSeq ?? 0, second?.toolSeq ?? 0);
    const run = changes.files.find((file) => file.path === '/work/run.sh');
    expect(run).toMatchObject({ kind: 'mode_changed', before: { mode: '644', size: 4 }, after: { mode: '750', size: 4 } });
    expect(changes.files.find((file) => file.path === '/work/dir/moved.txt')).toMatchObject({
      kind: 'renamed',
      fromPath: '/work/keep.txt',
    });
  });

  it('without an engine, paths as in the image are reported unknown, never guessed', async () => {
    const [first, second] = steps;
    const [changes] = await changesBetween(store, blobs, undefined, sessionId, HAND, first?.toolSeq ?? 0, second?.toolSeq ?? 0);
    expect(changes?.files.find((file) => file.path === '/etc/passwd')).toMatchObject({ kind: 'changed', before: { type: 'unknown' } });
    expect(changes?.note).toMatch(/as in the image on one side, which was not read/);
  });

  it("gives one file's unified diff; binary and big files are summarised", async () => {
    const [first, second, third] = steps;
    const text = await fileDiff(store, blobs, engine, sessionId, HAND, '/work/a.txt', first?.toolSeq ?? 0, third?.toolSeq ?? 0);
    expect(text.kind).toBe('text');
    expect(text.patch).toContain('--- a/work/a.txt\tevent');
    expect(text.patch?.split('\n').filter((line) => /^[-+][^-+]/.test(line))).toEqual(['-two', '+TWO', '+four']);
    // An image file: the before side read from the image.
    const passwd = await fileDiff(store, blobs, engine, sessionId, HAND, '/etc/passwd', first?.toolSeq ?? 0, second?.toolSeq ?? 0);
    expect(passwd.kind).toBe('text');
    expect(passwd.patch).toContain('+x:x:1000:1000::/home/x:/bin/sh');
    expect(passwd.patch).toContain(' root:x:0:0');
    const created = await fileDiff(store, blobs, engine, sessionId, HAND, '/work/a.txt', 0, first?.toolSeq ?? 0);
    expect(created.patch).toContain('--- /dev/null');
    const binary = await fileDiff(store, blobs, engine, sessionId, HAND, '/work/bin.dat', first?.toolSeq ?? 0, second?.toolSeq ?? 0);
    expect(binary).toMatchObject({ kind: 'binary', patch: null, before: { size: 3 }, after: { size: 3 } });
    expect(binary.summary).toMatch(/sha256 [0-9a-f]{12}/);
    const big = await fileDiff(store, blobs, engine, sessionId, HAND, '/work/big.bin', second?.toolSeq ?? 0, third?.toolSeq ?? 0);
    expect(big).toMatchObject({ kind: 'too_big', after: { size: 2 * 1024 * 1024 } });
    expect(big.summary).toMatch(/Over 1 MiB/);
    const same = await fileDiff(store, blobs, engine, sessionId, HAND, '/work/run.sh', first?.toolSeq ?? 0, second?.toolSeq ?? 0);
    expect(same.kind).toBe('same');
  });

  it('refuses a range backwards or past the log, in words', async () => {
    await expect(changesBetween(store, blobs, engine, sessionId, null, 5, 2)).rejects.toThrow(/give the earlier event first/);
    await expect(changesBetween(store, blobs, engine, sessionId, null, 0, 10_000)).rejects.toThrow(/no event 10000/);
  });

  it("a fork's changes across its fork point", async () => {
    const [first, second] = steps;
    if (!first || !second) throw new Error('steps missing');
    // Forked at the second tool call: its checkpoint event is after the fork point, not in the fork's log.
    const fork = store.fork(sessionId, second.toolSeq);
    expect(store.getEvents(fork.id, { types: ['hand.checkpoint'] }).map((event) => event.seq)).toEqual([first.checkpointSeq]);
    const crossing = await only(fork.id, first.toolSeq, second.toolSeq);
    expect(crossing.to?.sessionId).toBe(sessionId);
    expect(kindsOf(crossing)).toEqual(expectedOf(diffManifests(first.walk, second.walk)));
    // The fork's hand: a fresh container with the files at the fork point, changed once more.
    const forked = await containers.start();
    await restoreContainer({ engine, blobs, container: forked, target: second.checkpoint.manifest, current: null });
    const own = await step(fork.id, forked, 'echo fork >> /work/a.txt && rm /work/link', second.checkpoint);
    expect(kindsOf(await only(fork.id, second.toolSeq, own.toolSeq))).toEqual(expectedOf(diffManifests(second.walk, own.walk)));
    expect(kindsOf(await only(fork.id, 0, own.toolSeq))).toEqual(expectedOf(diffManifests(start, own.walk)));
    // The parent is untouched by the fork's change.
    expect(kindsOf(await only(sessionId, second.toolSeq, steps[2]?.toolSeq ?? 0)).deleted).not.toContain('/work/link');
  }, 120_000);

  it('restores one file as it was at an event and records a checkpoint', async () => {
    const [first] = steps;
    if (!first) throw new Error('steps missing');
    const before = store.getSession(sessionId).lastSeq;
    const restored = await restoreFileAt({
      store,
      blobs,
      engine,
      container,
      sessionId,
      hand: HAND,
      path: '/work/a.txt',
      atSeq: first.toolSeq,
    });
    expect(await containers.sh(container, 'cat /work/a.txt')).toBe('one\ntwo\nthree\n');
    expect(restored.checkpointSeq).toBe(before + 1);
    expect(restored.from?.seq).toBe(first.checkpointSeq);
    // A deleted file comes back; an image file as the image has it (no checkpoint before the first tool call).
    await restoreFileAt({ store, blobs, engine, container, sessionId, hand: HAND, path: '/work/gone.txt', atSeq: first.toolSeq });
    expect(await containers.sh(container, 'cat /work/gone.txt')).toBe('gone\n');
    await restoreFileAt({ store, blobs, engine, container, sessionId, hand: HAND, path: '/etc/group', atSeq: 1 });
    expect(await containers.sh(container, 'head -1 /etc/group')).toMatch(/^root:x:0:/);
    // The log now says so: between the first tool call and now, a.txt and gone.txt did not change.
    const last = store.getSession(sessionId).lastSeq;
    const paths = (await only(sessionId, first.toolSeq, last)).files.map((file) => file.path);
    expect(paths).not.toContain('/work/a.txt');
    expect(paths).not.toContain('/work/gone.txt');
    expect(paths).not.toContain('/etc/group');
    expect(kindsOf(await only(sessionId, first.toolSeq, last))).toEqual(
      expectedOf(diffManifests(first.walk, await walkContainer(engine, container))),
    );
    // Restoring what already is records nothing.
    const again = await restoreFileAt({
      store,
      blobs,
      engine,
      container,
      sessionId,
      hand: HAND,
      path: '/work/a.txt',
      atSeq: first.toolSeq,
    });
    expect(again.checkpointSeq).toBeNull();
    expect(store.getSession(sessionId).lastSeq).toBe(last);
  }, 120_000);

  it('an image that cannot be read (removed since) leaves its side unknown, said so', async () => {
    const other = store.createSession({ title: 'image gone' }).id;
    const base = `sha256:${'0'.repeat(64)}`;
    const content = await blobs.put(Buffer.from('hi\n'));
    const entry = { path: '/etc/motd', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 3, hash: content.hash, mtime: 1 };
    const manifest = await storeManifest(blobs, { version: 1, base, entries: [entry] });
    const tool = store.emitEvent(other, { type: 'system.message', payload: { content: [{ type: 'text', text: 'edit' }] } });
    store.emitEvent(other, {
      type: 'hand.checkpoint',
      payload: {
        hand_id: HAND,
        at_seq: tool.seq,
        manifest: manifest.id,
        parent: null,
        base,
        captured_at: 1,
        changed_paths: 1,
        bytes_stored: 3,
        duration_ms: 1,
      },
    });
    const [changes] = await changesBetween(store, blobs, engine, other, null, 0, tool.seq);
    expect(changes?.files).toEqual([
      {
        path: '/etc/motd',
        kind: 'changed',
        fromPath: null,
        before: expect.objectContaining({ type: 'unknown' }),
        after: expect.objectContaining({ size: 3, mode: '644' }),
      },
    ]);
    expect(changes?.note).toMatch(/which could not be read/);
    expect(await fileDiff(store, blobs, engine, other, HAND, '/etc/motd', 0, tool.seq)).toMatchObject({ kind: 'unknown', patch: null });
  });
});

/**
 * A Docker hand on another machine's engine (issue 22) in the changes view, one-file restore,
 * files-only rewinds and Settings → Storage — through the host's RPC, on real parts: a second
 * dockerd in a network namespace of its own (test/support/second-engine.ts) with an OpenSSH server
 * beside it, reached as `ssh://` with a key from a real vault and a host key trusted in Drover's
 * known-hosts list (as electron/services/hands/docker/remote-engine.integration.test.ts does).
 *
 * The hand's image exists on the second engine only (committed there by the test), so reading the
 * image for an exact diff, finding the container for a restore or a rewind, and measuring its
 * container all fail on this computer's engine: each must reach the hand's engine.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Changes, FileDiff, RestoredFile } from '#shared/changes';
import type { StorageUsage } from '#shared/storage';
import type { SessionSummary } from '#shared/sessions';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { startFarEngineRig, type FarEngineRig } from '#test/support/far-engine-rig';
import { secondEngineUnavailableReason } from '#test/support/second-engine';
import { sshdUnavailableReason } from '#test/support/sshd';
import { requirePart } from '#test/support/system';

const ready =
  (await requireDocker()) &&
  requirePart('a second Docker engine', secondEngineUnavailableReason()) &&
  requirePart('OpenSSH server', sshdUnavailableReason());

describe.runIf(ready)("a hand on another machine's engine: changes, restore, rewind, storage", () => {
  let rig: FarEngineRig;
  let sessionId: string;
  const seqs: number[] = [];
  const rpc = <T>(name: string, arg: unknown): Promise<T> => rig.rpc<T>(name, arg);
  /** The session's containers on the second engine and on this computer's. */
  const where = () => rig.where(sessionId);

  /** A bash call as the harness records it (tool use with the hand, the run, the result), once its checkpoint settled: the result's seq and output. */
  async function call(command: string): Promise<{ seq: number; text: string }> {
    const toolUseId = `toolu_${randomBytes(6).toString('hex')}`;
    const input = { command };
    rig.store.emitEvent(sessionId, {
      type: 'agent.tool_use',
      payload: { tool_use_id: toolUseId, name: 'box__bash', input, hand_id: 'box' },
    });
    const [hand] = await rig.host.hands.handsFor(sessionId);
    const outcome = await hand?.execute('box__bash', input, { signal: AbortSignal.timeout(120_000) });
    if (!outcome || outcome.isError) throw new Error(`${command} failed: ${JSON.stringify(outcome?.content)}`);
    const result = rig.store.emitEvent(sessionId, {
      type: 'agent.tool_result',
      payload: { tool_use_id: toolUseId, content: outcome.content, is_error: false },
    });
    await rig.host.hands.settled();
    return { seq: result.seq, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
  }

  const run = async (command: string): Promise<number> => (await call(command)).seq;

  function cat(file: string): string {
    const [container] = where().remote;
    if (!container) throw new Error('the hand has no container on the second engine');
    return rig.second.docker('exec', container, 'sh', '-c', `cat ${file} 2>/dev/null || echo '(none)'`);
  }

  beforeAll(async () => {
    // An image only the second engine has: busybox with a file of its own.
    rig = await startFarEngineRig({
      prefix: 'far-files',
      base: BUSYBOX_IMAGE,
      prepare: "mkdir -p /srv && printf 'far\\nimage\\n' > /srv/far.txt",
      keepContainersMs: 10 * 60_000,
    });
    const launched = await rpc<SessionSummary>('sessions-launch', {
      title: 'remote files',
      hands: [{ name: 'box', config: { kind: 'docker', image: rig.image, network: 'none', engine: 'far' } }],
    });
    sessionId = launched.id;
    seqs.push(await run("mkdir -p /work && printf 'one\\n' > /work/a.txt"));
    seqs.push(await run("printf 'two\\n' > /work/a.txt && echo b > /work/b.txt && printf 'far\\nIMAGE\\nmore\\n' > /srv/far.txt"));
  }, 300_000);

  afterAll(async () => {
    await rig?.close();
  }, 120_000);

  it('runs on the second engine, and its checkpoints are recorded there', () => {
    expect(where().remote).toHaveLength(1);
    expect(where().local).toEqual([]);
    const checkpoints = rig.store.getEvents(sessionId, { types: ['hand.checkpoint'] });
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
  });

  it("the changes view reads the image on the hand's engine: an exact diff of a file as in the image", async () => {
    const [, last] = seqs;
    const changes = await rpc<Changes>('sessions-changes', { sessionId, fromSeq: 0, toSeq: last });
    const box = changes.hands.find((hand) => hand.hand === 'box');
    expect(box?.files.map((file) => [file.kind, file.path])).toEqual(
      [
        ['added', '/work'],
        ['added', '/work/a.txt'],
        ['added', '/work/b.txt'],
        ['changed', '/srv/far.txt'],
      ].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
    );
    expect(box?.note ?? '').not.toMatch(/unknown/);
    const diff = await rpc<FileDiff>('sessions-file-diff', { sessionId, hand: 'box', path: '/srv/far.txt', fromSeq: 0, toSeq: last });
    expect(diff.kind).toBe('text');
    expect(diff.patch).toContain('-image');
    expect(diff.patch).toContain('+IMAGE');
    expect(diff.patch).toContain('+more');
  });

  it('restores one file in the container on the second engine', async () => {
    const [first] = seqs;
    const restored = await rpc<RestoredFile>('hands-restore-file', { sessionId, hand: 'box', path: '/work/a.txt', atSeq: first });
    expect(restored.summary).toMatch(/is back as it was at event/);
    expect(cat('/work/a.txt')).toBe('one');
    expect(cat('/work/b.txt')).toBe('b'); // only that file
    const restoredImage = await rpc<RestoredFile>('hands-restore-file', { sessionId, hand: 'box', path: '/srv/far.txt', atSeq: 1 });
    expect(restoredImage.from).toBeNull(); // no checkpoint then: as in the image (on the second engine)
    expect(cat('/srv/far.txt')).toBe('far\nimage');
  });

  it("rewinds the files only, in place on the second engine, and Settings → Storage measures the hand's container there", async () => {
    await run("echo late > /work/late.txt && printf 'three\\n' > /work/a.txt");
    const [first] = seqs;
    await rpc<SessionSummary>('sessions-rewind', { sessionId, atSeq: first, keep: 'files' });
    expect(cat('/work/a.txt')).toBe('one');
    expect(cat('/work/b.txt')).toBe('(none)');
    expect(cat('/work/late.txt')).toBe('(none)');
    expect(cat('/srv/far.txt')).toBe('far\nimage');
    const last = rig.store.getEvents(sessionId, { types: ['hand.checkpoint'], direction: 'backward', limit: 1 })[0];
    expect(last?.type === 'hand.checkpoint' && last.payload.rewind).toEqual({ keep: 'files', session_id: sessionId, at_seq: first });

    const usage = await rpc<StorageUsage>('storage-usage', undefined);
    const mine = usage.sessions.find((session) => session.sessionId === sessionId);
    const box = mine?.hands.find((hand) => hand.hand === 'box');
    expect(box?.containerBytes ?? 0).toBeGreaterThan(0); // the container's writable layer, measured on the second engine
    expect(usage.totals.containerBytes).toBeGreaterThanOrEqual(box?.containerBytes ?? 1);
  });

  it('a container kept across a restart is reused on the second engine, with its files', async () => {
    await run('echo kept > /work/kept.txt');
    const before = where().remote;
    expect(before).toHaveLength(1);
    await rig.host.close(); // a quit: the container is kept running, listed in kept-containers.json
    expect(where().remote).toEqual(before);

    rig.host = rig.makeHost(); // the next start
    await rig.host.hands.cleanUp(); // what a crash left goes; a kept container stays until its time
    expect(where().remote).toEqual(before);
    const { text } = await call('cat /work/kept.txt');
    expect(text).toContain('kept');
    expect(where()).toEqual({ remote: before, local: [] });
    const [ready] = rig.store.getEvents(sessionId, { types: ['hand.ready'], direction: 'backward', limit: 1 });
    expect(ready?.type === 'hand.ready' && ready.payload.detail).toMatch(/kept from before Drover restarted/);
  });
});

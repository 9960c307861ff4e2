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
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Changes, FileDiff, RestoredFile } from '#shared/changes';
import type { StorageUsage } from '#shared/storage';
import type { SessionSummary } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { LABELS } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { FileKeySource } from '#test/support/file-key-source';
import { secondEngineUnavailableReason, startSecondEngine, type SecondEngine } from '#test/support/second-engine';
import { makeKey, sshdUnavailableReason, TestSshd, testUser } from '#test/support/sshd';
import { requirePart, tempDir } from '#test/support/system';

const ready =
  (await requireDocker()) &&
  requirePart('a second Docker engine', secondEngineUnavailableReason()) &&
  requirePart('OpenSSH server', sshdUnavailableReason());

/** An image only the second engine has: busybox with a file of its own. */
const FAR_IMAGE = `drover-test/far-only:${randomBytes(4).toString('hex')}`;

describe.runIf(ready)("a hand on another machine's engine: changes, restore, rewind, storage", () => {
  let second: SecondEngine;
  let sshd: TestSshd;
  let vault: Vault;
  let store: SessionStore;
  let host: Host;
  let sessionId: string;
  const dir = tempDir('drover-remote-files-');
  const keyDir = tempDir('drover-remote-files-key-');
  const seqs: number[] = [];

  async function rpc<T>(name: string, arg: unknown): Promise<T> {
    const outcome = await host.dispatch(name, arg);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result as T;
  }

  /** The host as the app makes it, keeping containers across a quit (to be reused by the next start). */
  function makeHost(): Host {
    return createHost({
      store,
      vault,
      info: { version: 'test', dataDir: dir, platform: process.platform },
      push: () => undefined,
      keepContainersMs: 10 * 60_000,
      log: () => undefined,
    });
  }

  /** A bash call as the harness records it (tool use with the hand, the run, the result), once its checkpoint settled: the result's seq and output. */
  async function call(command: string): Promise<{ seq: number; text: string }> {
    const toolUseId = `toolu_${randomBytes(6).toString('hex')}`;
    const input = { command };
    store.emitEvent(sessionId, { type: 'agent.tool_use', payload: { tool_use_id: toolUseId, name: 'box__bash', input, hand_id: 'box' } });
    const [hand] = await host.hands.handsFor(sessionId);
    const outcome = await hand?.execute('box__bash', input, { signal: AbortSignal.timeout(120_000) });
    if (!outcome || outcome.isError) throw new Error(`${command} failed: ${JSON.stringify(outcome?.content)}`);
    const result = store.emitEvent(sessionId, {
      type: 'agent.tool_result',
      payload: { tool_use_id: toolUseId, content: outcome.content, is_error: false },
    });
    await host.hands.settled();
    return { seq: result.seq, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
  }

  const run = async (command: string): Promise<number> => (await call(command)).seq;

  /** The session's containers on the second engine and on this computer's (docker CLI). */
  function where(): { remote: string[]; local: string[] } {
    const ids = (text: string): string[] => text.split('\n').filter((line) => line !== '');
    const filter = `label=${LABELS.session}=${sessionId}`;
    return { remote: ids(second.docker('ps', '-q', '--filter', filter)), local: ids(dockerCli('ps', '-q', '--filter', filter)) };
  }

  function cat(file: string): string {
    const [container] = where().remote;
    if (!container) throw new Error('the hand has no container on the second engine');
    return second.docker('exec', container, 'sh', '-c', `cat ${file} 2>/dev/null || echo '(none)'`);
  }

  beforeAll(async () => {
    second = await startSecondEngine({ link: true });
    const address = second.address ?? '';
    second.loadImages(BUSYBOX_IMAGE);
    const maker = `drover-far-maker-${randomBytes(4).toString('hex')}`;
    second.docker('run', '--name', maker, BUSYBOX_IMAGE, 'sh', '-c', "mkdir -p /srv && printf 'far\\nimage\\n' > /srv/far.txt");
    second.docker('commit', maker, FAR_IMAGE);
    second.docker('rm', '-f', maker);
    chmodSync(path.dirname(second.socket), 0o755);
    chmodSync(second.socket, 0o666);
    sshd = await TestSshd.start({ netns: second.netns, address });
    const key = makeKey(dir);
    sshd.authorize(key);
    vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(keyDir, 'vault.key')) });
    const keySecret = (await vault.create({ name: 'engine key', kind: 'ssh-private-key', value: key.privateKey })).id;
    store = SessionStore.open({ dataDir: dir });
    host = makeHost();
    host.hands.knownHosts.trust({ host: address, port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
    await rpc('engines-put', {
      engine: {
        id: 'far',
        kind: 'ssh',
        name: 'Far box',
        url: `ssh://${testUser().user}@${address}:${sshd.port}`,
        auth: { method: 'key', key_secret_id: keySecret },
        socket_path: second.socket,
        labels: ['far'],
      },
    });
    const launched = await rpc<SessionSummary>('sessions-launch', {
      title: 'remote files',
      hands: [{ name: 'box', config: { kind: 'docker', image: FAR_IMAGE, network: 'none', engine: 'far' } }],
    });
    sessionId = launched.id;
    seqs.push(await run("mkdir -p /work && printf 'one\\n' > /work/a.txt"));
    seqs.push(await run("printf 'two\\n' > /work/a.txt && echo b > /work/b.txt && printf 'far\\nIMAGE\\nmore\\n' > /srv/far.txt"));
  }, 300_000);

  afterAll(async () => {
    if (host) {
      await host.hands.settled();
      for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
      await host.close();
      await host.hands.close();
    }
    await sshd?.stop();
    await second?.close();
    await vault?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  }, 120_000);

  it('runs on the second engine, and its checkpoints are recorded there', () => {
    expect(where().remote).toHaveLength(1);
    expect(where().local).toEqual([]);
    const checkpoints = store.getEvents(sessionId, { types: ['hand.checkpoint'] });
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
    const last = store.getEvents(sessionId, { types: ['hand.checkpoint'], direction: 'backward', limit: 1 })[0];
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
    await host.close(); // a quit: the container is kept running, listed in kept-containers.json
    expect(where().remote).toEqual(before);

    host = makeHost(); // the next start
    await host.hands.cleanUp(); // what a crash left goes; a kept container stays until its time
    expect(where().remote).toEqual(before);
    const { text } = await call('cat /work/kept.txt');
    expect(text).toContain('kept');
    expect(where()).toEqual({ remote: before, local: [] });
    const [ready] = store.getEvents(sessionId, { types: ['hand.ready'], direction: 'backward', limit: 1 });
    expect(ready?.type === 'hand.ready' && ready.payload.detail).toMatch(/kept from before Drover restarted/);
  });
});

// Docker hands' checkpoints when things go wrong (issue 20), through the registry and a real store
// in a temp dir, the real Docker engine (BUSYBOX_IMAGE). Tool calls are recorded as the harness
// records them (`agent.tool_use` with the hand, then the run, then `agent.tool_result`).
// - A crash between a tool's result and its checkpoint: the log has the result and no checkpoint;
//   after the restart the next capture (in the kept container) still holds that change.
// - A capture that fails: logged, nothing recorded, the tool's result stands; the turn end keeps the
//   files as a snapshot instead, and the next capture takes the change.
// - A log with snapshots only (from before checkpoints): a fork starts from the snapshot; the new
//   hand's checkpoints are laid over the snapshot's image.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { BlobStore } from '#services/checkpoints/blob-store';
import { walkContainer } from '#services/checkpoints/full-walk';
import { loadManifest } from '#services/checkpoints/manifest';
import { HandRegistry, type HandRegistryOptions } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { DockerEngine, instanceIdOf, LABELS } from './engine.ts';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function rig(options: Partial<HandRegistryOptions> = {}, config: Record<string, unknown> = {}) {
  const dir = tempDir('drover-hand-checkpoints-');
  const store = SessionStore.open({ dataDir: dir });
  const engine = new DockerEngine({ instance: instanceIdOf(dir) });
  const logged: string[] = [];
  const keepFile = path.join(dir, 'kept.json');
  const registries: HandRegistry[] = [];
  const registry = (more: Partial<HandRegistryOptions> = {}): HandRegistry => {
    const made = new HandRegistry({ store, docker: engine, keepFile, log: (message) => logged.push(message), ...options, ...more });
    registries.push(made);
    return made;
  };
  const { id: sessionId } = store.createSession({ title: 'checkpoints' });
  store.emitEvent(sessionId, {
    type: 'hand.attached',
    payload: { hand_id: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', ...config } },
  });
  const events = <K extends EventType>(type: K, id = sessionId) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
  const containers = () => dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${engine.instance}`).split('\n').filter(Boolean);

  /** A tool call as the harness records it; the caller records the result with `answer` (a crash may come first). */
  async function use(hands: HandRegistry, name: string, input: Record<string, unknown>, id = sessionId): Promise<{ answer: () => number }> {
    const toolUseId = `toolu_${randomBytes(6).toString('hex')}`;
    store.emitEvent(id, { type: 'agent.tool_use', payload: { tool_use_id: toolUseId, name, input, hand_id: 'box' } });
    const [hand] = await hands.handsFor(id);
    const outcome = await hand?.execute(name, input, { signal: new AbortController().signal });
    if (!outcome || outcome.isError) throw new Error(`${name} ${JSON.stringify(input)} failed: ${JSON.stringify(outcome?.content)}`);
    return {
      answer: () =>
        store.emitEvent(id, { type: 'agent.tool_result', payload: { tool_use_id: toolUseId, content: outcome.content, is_error: false } })
          .seq,
    };
  }
  const call = (hands: HandRegistry, command: string, id = sessionId) => use(hands, 'box__bash', { command }, id);
  async function run(hands: HandRegistry, command: string, id = sessionId): Promise<number> {
    const seq = (await call(hands, command, id)).answer();
    await hands.settled();
    return seq;
  }
  const containerOf = (hands: HandRegistry, id = sessionId) => engine.docker.getContainer(hands.statuses(id)[0]?.container ?? 'none');

  cleanups.push(async () => {
    for (const made of registries) await made.close();
    await new HandRegistry({ store, docker: engine, log: () => undefined }).sessionDeleted(sessionId);
    for (const session of store.listSessions())
      await new HandRegistry({ store, docker: engine, log: () => undefined }).sessionDeleted(session.id);
    for (const container of containers()) dockerCli('rm', '-f', container);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, engine, sessionId, logged, registry, events, containers, use, call, run, containerOf };
}

describe.runIf(ready)('Docker hand checkpoints when things go wrong', () => {
  it('a crash between a tool result and its checkpoint: the next capture still holds the change', async () => {
    const r = rig({ keepAliveMs: 60_000 });
    const first = r.registry();
    const a = await r.run(first, 'echo a > /workspace/a');
    const [checkpointA] = r.events('hand.checkpoint');
    expect(checkpointA?.payload.at_seq).toBe(a);

    // The tool runs; Drover "crashes" (the registry goes, the container is kept) before its checkpoint.
    const pending = await r.call(first, 'echo b > /workspace/b && rm /workspace/a');
    await first.close();
    const b = pending.answer();
    expect(r.events('hand.checkpoint').map((event) => event.payload.at_seq)).toEqual([a]);

    // After the restart: the kept container, whose next capture diffs against the last checkpoint in the log.
    const second = r.registry();
    const c = await r.run(second, 'echo c > /workspace/c');
    expect(r.events('hand.ready').at(-1)?.payload.detail).toContain('kept from before Drover restarted');
    const checkpointC = r.events('hand.checkpoint').at(-1);
    expect(checkpointC?.payload).toMatchObject({ at_seq: c, parent: checkpointA?.payload.manifest });
    const manifest = await loadManifest(new BlobStore(r.dir), checkpointC?.payload.manifest ?? '');
    const paths = manifest.entries.filter((entry) => entry.path.startsWith('/workspace/')).map((entry) => [entry.path, entry.type]);
    expect(paths).toEqual([
      ['/workspace/b', 'file'],
      ['/workspace/c', 'file'],
    ]);
    // The engine's init program (the hand runs with Init: true) is the engine's, never the hand's files.
    expect(manifest.entries.map((entry) => entry.path)).not.toContain('/sbin/docker-init');
    const live = await walkContainer(r.engine, r.containerOf(second));

    // A fork at the crashed call's result has the files of the checkpoint before it (the log says so); one at c's, all of them.
    const atB = r.store.fork(r.sessionId, b);
    await r.run(second, 'true', atB.id);
    expect(r.events('hand.ready', atB.id).at(-1)?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: a });
    expect((await r.engine.exec(r.containerOf(second, atB.id), ['ls', '/workspace'])).stdout.toString()).toBe('a\n');
    const atC = r.store.fork(r.sessionId, c);
    const [hand] = await second.handsFor(atC.id);
    await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
    expect((await walkContainer(r.engine, r.containerOf(second, atC.id))).entries).toEqual(live.entries);
  });

  it('a capture that fails is logged and recorded nowhere; the turn end snapshots instead, the next capture takes the change', async () => {
    const r = rig();
    const hands = r.registry();
    const a = await r.run(hands, 'echo a > /workspace/a');
    // The blob store cannot be written: its folder is a file.
    const blobs = path.join(r.dir, 'checkpoints', 'blobs');
    rmSync(blobs, { recursive: true, force: true });
    writeFileSync(blobs, 'not a folder');
    const b = await r.run(hands, 'echo b > /workspace/b');
    expect(r.events('hand.checkpoint').map((event) => event.payload.at_seq)).toEqual([a]);
    expect(r.logged).toContain(`Hand box of session ${r.sessionId}: checkpoint after event ${b} failed`);
    const result = r.events('agent.tool_result').at(-1);
    expect(result?.payload.is_error).toBe(false); // the tool's result stands

    // The turn ends: what no checkpoint holds is kept as a snapshot image.
    const idle = r.store.emitEvent(r.sessionId, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    await hands.settled();
    expect(r.events('hand.snapshot').map((event) => event.payload.at_seq)).toEqual([idle.seq]);

    rmSync(blobs, { force: true });
    mkdirSync(blobs, { recursive: true });
    const c = await r.run(hands, 'echo c > /workspace/c');
    const last = r.events('hand.checkpoint').at(-1);
    expect(last?.payload.at_seq).toBe(c);
    const manifest = await loadManifest(new BlobStore(r.dir), last?.payload.manifest ?? '');
    expect(manifest.entries.filter((entry) => entry.path.startsWith('/workspace/')).map((entry) => entry.path)).toEqual([
      '/workspace/a',
      '/workspace/b',
      '/workspace/c',
    ]);
    // A fork at b's result starts from the snapshot (later than a's checkpoint): b is there.
    const atB = r.store.fork(r.sessionId, idle.seq);
    await r.run(hands, 'true', atB.id);
    expect(r.events('hand.ready', atB.id).at(-1)?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: idle.seq });
    expect((await r.engine.exec(r.containerOf(hands, atB.id), ['ls', '/workspace'])).stdout.toString()).toBe('a\nb\n');
  });

  it('a log with snapshots only (from before checkpoints) forks from its snapshot; the fork checkpoints over that image', async () => {
    const r = rig();
    const old = r.registry({ checkpoints: false });
    await r.run(old, 'echo old > /workspace/old');
    const idle = r.store.emitEvent(r.sessionId, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    await old.settled();
    const [snapshot] = r.events('hand.snapshot');
    expect(snapshot?.payload.at_seq).toBe(idle.seq);
    expect(r.events('hand.checkpoint')).toEqual([]);
    await old.close();

    const hands = r.registry();
    const fork = r.store.fork(r.sessionId, idle.seq);
    const next = await r.run(hands, 'echo new > /workspace/new', fork.id);
    expect(r.events('hand.ready', fork.id).at(-1)?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: idle.seq });
    const [checkpoint] = r.events('hand.checkpoint', fork.id);
    const snapshotId = dockerCli('image', 'inspect', '--format', '{{.Id}}', snapshot?.payload.image ?? '').trim();
    expect(checkpoint?.payload).toMatchObject({ at_seq: next, parent: null, base: snapshotId });
    const live = await walkContainer(r.engine, r.containerOf(hands, fork.id));

    // A fork of the fork restores that checkpoint over the snapshot's image: the same files.
    const grandchild = r.store.fork(fork.id, next);
    await r.run(hands, 'true', grandchild.id);
    expect(r.events('hand.ready', grandchild.id).at(-1)?.payload.restored_from).toEqual({ session_id: fork.id, at_seq: next });
    expect((await walkContainer(r.engine, r.containerOf(hands, grandchild.id))).entries).toEqual(live.entries);
  });

  it("the toolset's bash, write and edit are checkpointed; read, glob and grep are not", async () => {
    const r = rig({}, { toolset: { type: 'agent_toolset_20260401', tools: ['bash', 'read', 'write', 'edit', 'glob', 'grep'] } });
    const hands = r.registry();
    const step = async (name: string, input: Record<string, unknown>) => {
      const seq = (await r.use(hands, name, input)).answer();
      await hands.settled();
      return seq;
    };
    const write = await step('write', { file_path: '/workspace/a.txt', content: 'one\n' });
    await step('read', { file_path: '/workspace/a.txt' });
    await step('glob', { pattern: '*.txt' });
    await step('grep', { pattern: 'one' });
    const edit = await step('edit', { file_path: '/workspace/a.txt', old_string: 'one', new_string: 'two' });
    const bash = await step('bash', { command: 'mkdir /workspace/d && ln -s ../a.txt /workspace/d/link' });
    const checkpoints = r.events('hand.checkpoint');
    expect(checkpoints.map((event) => event.payload.at_seq)).toEqual([write, edit, bash]);
    const [first, second, third] = checkpoints.map((event) => event.payload.changed_paths);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(second).toBe(1); // a.txt
    expect(third).toBeGreaterThanOrEqual(2); // d and d/link (and /workspace, whose folder changed)
    const live = await walkContainer(r.engine, r.containerOf(hands));
    const fork = r.store.fork(r.sessionId, bash);
    const [hand] = await hands.handsFor(fork.id);
    const read = await hand?.execute('read', { file_path: '/workspace/a.txt' }, { signal: new AbortController().signal });
    expect(JSON.stringify(read?.content)).toContain('two');
    expect((await walkContainer(r.engine, r.containerOf(hands, fork.id))).entries).toEqual(live.entries);
  });

  it("a checkpoint whose files cannot be restored: the fork's container starts from the image, and the call says so", async () => {
    const r = rig();
    const hands = r.registry();
    const a = await r.run(hands, 'echo a > /workspace/a');
    expect(r.events('hand.checkpoint').map((event) => event.payload.at_seq)).toEqual([a]);
    rmSync(path.join(r.dir, 'checkpoints', 'blobs'), { recursive: true, force: true });
    const fork = r.store.fork(r.sessionId, a);
    const [hand] = await hands.handsFor(fork.id);
    const listed = await hand?.execute('box__bash', { command: 'ls /workspace | wc -l' }, { signal: new AbortController().signal });
    const text = listed?.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') ?? '';
    expect(listed?.isError).toBe(false);
    expect(text).toMatch(
      new RegExp(
        `^Note: the files of event ${a} could not be restored \\(.+\\), so this container starts from ${BUSYBOX_IMAGE} without them\\.\\n0\\n`,
      ),
    );
    expect(r.events('hand.ready', fork.id).at(-1)?.payload.restored_from).toBeUndefined();
    expect(r.events('hand.failed', fork.id).filter((event) => event.seq > a)).toEqual([]);
    expect(r.containers()).toHaveLength(2); // the parent's and the fork's: the failed one was removed
  });
});

// Sessions with Docker hands end to end: the real harness and SDK against the local Messages API
// server, the real Docker engine, a real store in a temp dir, and a real local registry (Debian's
// docker-registry) for pulls with progress.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import type { HandProgress } from '#shared/hands';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, BUSYBOX_IMAGE, dockerCli, registryUnavailableReason, requireDocker, startRegistry } from '#test/support/docker';
import { startModelServer, type ScriptedMessage } from '#test/support/model-server';
import { requirePart, tempDir } from '#test/support/system';
import { bash, say } from '#test/support/tool-script';
import { Harness } from './harness.ts';

const KEY = 'sk-ant-test-key';
const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `checkpoints: false`: the turn-end snapshot path (logs from before checkpoints). */
async function rig(image = BASH_IMAGE, { checkpoints = true }: { checkpoints?: boolean } = {}) {
  const replies: ScriptedMessage[] = [];
  const server = await startModelServer({
    apiKey: KEY,
    respond: () => {
      const next = replies.shift();
      return next
        ? { kind: 'message', message: next }
        : { kind: 'http-error', status: 500, type: 'api_error', message: 'the test script has no more replies' };
    },
  });
  const dir = tempDir('drover-docker-hands-');
  const store = SessionStore.open({ dataDir: dir });
  const engine = new DockerEngine({ instance: instanceIdOf(dir) });
  const progress: HandProgress[] = [];
  const hands = new HandRegistry({ store, docker: engine, checkpoints, onProgress: (_id, p) => progress.push(p), log: () => undefined });
  const harness = new Harness({
    store,
    keyProvider: () => KEY,
    baseURL: server.url,
    handsFor: (id) => hands.handsFor(id),
    log: () => undefined,
  });
  cleanups.push(async () => {
    await harness.close();
    await hands.close();
    // Forks first: a session with forks cannot be deleted.
    const sessions = store.listSessions();
    while (sessions.length > 0) {
      const leaf = sessions.findIndex((session) => !sessions.some((other) => other.parentId === session.id));
      const [session] = sessions.splice(leaf, 1);
      if (!session) break;
      store.deleteSession(session.id);
      await hands.sessionDeleted(session.id);
    }
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { id } = store.createSession({ title: 'files' });
  hands.attach(id, { name: 'box', config: { kind: 'docker', image, network: 'none' } });

  /** Sends a message with the replies that answer it, and waits for the turn (and its snapshot) to end. */
  async function turn(sessionId: string, text: string, ...script: ScriptedMessage[]) {
    replies.push(...script);
    const before = store.getEvents(sessionId, { types: ['session.status_idle'] }).length;
    const idle = new Promise<EventOf<'session.status_idle'>>((resolve) => {
      const stop = store.subscribe(sessionId, (event) => {
        if (event.type !== 'session.status_idle' || store.getEvents(sessionId, { types: ['session.status_idle'] }).length <= before) return;
        stop();
        resolve(event);
      });
    });
    harness.send(sessionId, text);
    const done = await idle;
    await hands.settled();
    return done;
  }
  const events = <K extends EventType>(sessionId: string, type: K) => store.getEvents(sessionId, { types: [type] }) as Array<EventOf<K>>;
  const lastResult = (sessionId: string) => {
    const content = events(sessionId, 'agent.tool_result').at(-1)?.payload.content[0];
    return content?.type === 'text' ? content.text : '';
  };
  return { store, hands, harness, engine, server, sessionId: id, progress, turn, events, lastResult };
}

describe.runIf(ready)('files follow forks', () => {
  it.each([
    ['checkpoints', true],
    ['turn-end snapshots', false],
  ])('with %s: a fork at turn 1 has the files of turn 1; a fork at turn 2 those of turn 2', async (_mode, checkpoints) => {
    const r = await rig(BASH_IMAGE, { checkpoints });
    const idle1 = await r.turn(r.sessionId, 'write a', bash('echo one > /workspace/a.txt'), say('wrote a'));
    const idle2 = await r.turn(r.sessionId, 'write b', bash('echo two > /workspace/b.txt && ls /workspace'), say('wrote b'));
    expect(r.lastResult(r.sessionId)).toMatch(/^a\.txt\nb\.txt\n/);

    const snapshots = r.events(r.sessionId, 'hand.snapshot');
    const results = r.events(r.sessionId, 'agent.tool_result').map((event) => event.seq);
    // Where each turn's files are kept: the checkpoint at its tool's result, or the snapshot at its end.
    const [at1, at2] = checkpoints ? results : [idle1.seq, idle2.seq];
    if (checkpoints) {
      expect(snapshots).toEqual([]);
      expect(r.events(r.sessionId, 'hand.checkpoint').map((c) => c.payload.at_seq)).toEqual(results);
    } else {
      expect(snapshots.map((s) => s.payload.at_seq)).toEqual([idle1.seq, idle2.seq]);
      expect(r.events(r.sessionId, 'hand.checkpoint')).toEqual([]);
    }
    for (const snapshot of snapshots) {
      expect(snapshot.payload.bytes).toBeGreaterThan(0);
      expect(snapshot.payload.image).toBe(`${r.engine.snapshotRepository}:${r.sessionId}-box-${snapshot.payload.at_seq}`);
    }

    const atTurn1 = r.store.fork(r.sessionId, idle1.seq);
    await r.turn(atTurn1.id, 'what is there?', bash('ls /workspace; cat /workspace/a.txt'), say('one file'));
    expect(r.lastResult(atTurn1.id)).toMatch(/^a\.txt\none\n\[exit code 0/);
    expect(r.events(atTurn1.id, 'hand.ready').at(-1)?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: at1 });
    expect(r.events(atTurn1.id, 'hand.provisioning').at(-1)?.payload).toMatchObject({
      phase: 'restoring',
      message: `Creating a container with the files of event ${at1}`,
    });

    const atTurn2 = r.store.fork(r.sessionId, idle2.seq);
    await r.turn(atTurn2.id, 'and here?', bash('ls /workspace'), say('two files'));
    expect(r.lastResult(atTurn2.id)).toMatch(/^a\.txt\nb\.txt\n\[exit code 0/);
    expect(r.events(atTurn2.id, 'hand.ready').at(-1)?.payload.restored_from).toEqual({ session_id: r.sessionId, at_seq: at2 });

    // Before turn 1's snapshot: the image as it was.
    const atStart = r.store.fork(r.sessionId, 1);
    await r.turn(atStart.id, 'and before?', bash('ls /workspace | wc -l'), say('nothing'));
    expect(r.lastResult(atStart.id)).toMatch(/^0\n/);
    expect(r.events(atStart.id, 'hand.ready').at(-1)?.payload.restored_from).toBeUndefined();

    // A fork of a fork goes up the tree: turn 1's files, plus what the fork wrote.
    await r.turn(atTurn1.id, 'add c', bash('echo three > /workspace/c.txt'), say('ok'));
    const grandchild = r.store.fork(atTurn1.id, r.store.getSession(atTurn1.id).lastSeq);
    await r.turn(grandchild.id, 'list', bash('ls /workspace'), say('ok'));
    expect(r.lastResult(grandchild.id)).toMatch(/^a\.txt\nc\.txt\n/);

    // The original goes on in its own container, untouched by the forks.
    await r.turn(r.sessionId, 'list', bash('ls /workspace'), say('ok'));
    expect(r.lastResult(r.sessionId)).toMatch(/^a\.txt\nb\.txt\n\[exit/);
  });

  it('takes no snapshot for a turn that ran nothing in the hand', async () => {
    const r = await rig(BUSYBOX_IMAGE, { checkpoints: false });
    await r.turn(r.sessionId, 'hello', say('hi'));
    await r.turn(r.sessionId, 'write', bash('echo x > /tmp/x'), say('ok'));
    await r.turn(r.sessionId, 'chat', say('just talking'));
    expect(r.events(r.sessionId, 'hand.snapshot')).toHaveLength(1);
  });

  it('deleting sessions removes their containers and snapshots', async () => {
    const r = await rig(BUSYBOX_IMAGE, { checkpoints: false });
    const idle = await r.turn(r.sessionId, 'write', bash('echo x > /tmp/x'), say('ok'));
    const fork = r.store.fork(r.sessionId, idle.seq);
    await r.turn(fork.id, 'write more', bash('echo y > /tmp/y'), say('ok'));
    const images = () => dockerCli('images', '-q', '--filter', `reference=${r.engine.snapshotRepository}`).split('\n').filter(Boolean);
    const containers = () =>
      dockerCli('ps', '-aq', '--filter', `label=app.drover.instance=${r.engine.instance}`).split('\n').filter(Boolean);
    expect(images()).toHaveLength(2);
    expect(containers()).toHaveLength(2);

    r.store.deleteSession(fork.id);
    await r.hands.sessionDeleted(fork.id);
    expect(images()).toHaveLength(1); // the parent's stays: it may be forked again
    expect(containers()).toHaveLength(1);
    // A "crash" between the deletion and the clean-up: the next start removes what is left.
    await r.hands.close();
    expect(containers()).toEqual([]);
    r.store.deleteSession(r.sessionId);
    const next = new HandRegistry({ store: r.store, docker: r.engine, log: () => undefined });
    expect(await next.cleanUp()).toEqual({ containers: 0, images: 1 });
    expect(images()).toEqual([]);
    await next.close();
  });
});

describe.runIf(ready)('image pulls', () => {
  it('pulls a missing image from a registry, recording the pull and pushing per-layer progress', async () => {
    if (!requirePart('docker-registry', registryUnavailableReason())) return;
    const registry = await startRegistry();
    const reference = `${registry.host}/drover-test/layers:${Date.now()}`;
    cleanups.push(() => {
      registry.close();
      spawnSync('docker', ['rmi', '-f', reference], { stdio: 'ignore' });
    });
    // An image of three layers: the bash image, then two commits of 2 MiB each on top of each other.
    const layer = (from: string, file: string, to: string): void => {
      const builder = dockerCli('run', '-d', '--entrypoint', 'sh', from, '-c', `head -c 2097152 /dev/urandom > /${file}; sleep 600`);
      try {
        for (
          let i = 0;
          i < 200 && dockerCli('exec', builder, 'sh', '-c', `wc -c < /${file} 2>/dev/null || echo 0`).trim() !== '2097152';
          i++
        )
          spawnSync('sleep', ['0.05']);
        dockerCli('commit', builder, to);
      } finally {
        dockerCli('rm', '-f', builder);
      }
    };
    layer(BASH_IMAGE, 'one', `${reference}-a`);
    layer(`${reference}-a`, 'two', reference);
    dockerCli('push', reference);
    dockerCli('rmi', reference, `${reference}-a`);

    const r = await rig(reference);
    await r.turn(r.sessionId, 'go', bash('ls -la /two | cut -c1-10'), say('ok'));
    expect(r.lastResult(r.sessionId)).toMatch(/^-rw-r--r--\n\[exit code 0/);
    const pulling = r.events(r.sessionId, 'hand.provisioning').find((e) => e.payload.phase === 'pulling');
    expect(pulling?.payload.message).toBe(`Pulling ${reference}`);
    const pulls = r.progress.filter((p) => p.phase === 'pulling');
    expect(pulls.length).toBeGreaterThan(0);
    const last = pulls.at(-1);
    // The base layer is here already; the two new ones (2 MiB of noise each, compressed) are pulled.
    expect(last?.layers?.map((l) => l.status).sort()).toEqual(['Already exists', 'Pull complete', 'Pull complete']);
    expect(last?.total).toBeGreaterThan(4 * 1024 * 1024);
    expect(last?.current).toBe(last?.total);
    expect(last?.message).toMatch(/^Pulling .*: (\d+)\/\1 layers$/);

    // A missing image is a clear error the model reads.
    const missing = await rig(`${registry.host}/drover-test/none:1`);
    await missing.turn(missing.sessionId, 'go', bash('true'), say('could not'));
    expect(missing.lastResult(missing.sessionId)).toMatch(
      /The container for this hand could not start: .*not found.*\nThe next call tries again\./s,
    );
    expect(missing.events(missing.sessionId, 'hand.failed')).toHaveLength(1);
  });
});

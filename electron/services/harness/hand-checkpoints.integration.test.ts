// Checkpoints after every tool call on a Docker hand, end to end (issue 20): the real harness and
// registry against the local Messages API server, the real Docker engine (BUSYBOX_IMAGE), a real
// store in a temp dir. A scripted session of three turns, several tool calls each (creates, edits
// through bash and the editor, deletes, renames, chmod, symbolic links, a call that changes nothing,
// an editor view); the container's whole tree is walked (full-walk.ts, independent of captures)
// after every tool call. Then a fork at EVERY event, and a rewind at every event up to the last
// tool result: each forked hand's tree equals the walk after the last tool call at or before the event,
// and `hand.ready.restored_from` names the checkpoint. No snapshot image is taken; containers go.
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { walkContainer } from '#services/checkpoints/full-walk';
import type { Manifest, ManifestEntry } from '#services/checkpoints/manifest';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer, type ScriptedMessage } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { bash, editor, say, turnRunner } from '#test/support/tool-script';
import { Harness } from './harness.ts';

const KEY = 'sk-ant-test-key';
const ready = await requireDocker();

/** The turns: several tool calls each; every kind of change a checkpoint must restore. */
const TURNS: ScriptedMessage[][] = [
  [
    bash('mkdir -p /workspace/src /workspace/empty && echo one > /workspace/a.txt && echo b > /workspace/src/b.txt'),
    editor({ command: 'create', path: '/workspace/notes.md', file_text: 'first line\nsecond line\n' }),
    bash('ln -s a.txt /workspace/link && printf "#!/bin/sh\\necho run\\n" > /workspace/run.sh && chmod 755 /workspace/run.sh'),
    say('turn one done'),
  ],
  [
    bash('echo two >> /workspace/a.txt && mv /workspace/src/b.txt /workspace/src/c.txt'),
    bash('ls -la /workspace > /dev/null'), // changes nothing: no checkpoint
    editor({ command: 'view', path: '/workspace/notes.md' }), // reads only
    editor({ command: 'str_replace', path: '/workspace/notes.md', old_str: 'second line', new_str: 'second line, edited' }),
    bash('rm -r /workspace/empty && chmod 600 /workspace/a.txt && ln -sfn run.sh /workspace/link && rm /etc/motd 2>/dev/null; true'),
    say('turn two done'),
  ],
  [
    bash('mkdir -p /workspace/src/deep/er && echo deep > /workspace/src/deep/er/d.txt && rm /workspace/src/c.txt'),
    bash('mv /workspace/src /workspace/lib && chmod 700 /workspace/lib/deep'),
    editor({ command: 'insert', path: '/workspace/notes.md', insert_line: 0, insert_text: 'a title' }),
    bash('echo replaced > /workspace/run.sh && rm /workspace/link && ln -s /workspace/lib/deep /workspace/deeplink'),
    say('turn three done'),
  ],
];

function tree(manifest: Manifest): ManifestEntry[] {
  return manifest.entries;
}

describe.runIf(ready)('checkpoints after every tool call, restored at any event', () => {
  let server: ModelServer;
  let dir: string;
  let store: SessionStore;
  let engine: DockerEngine;
  let hands: HandRegistry;
  let harness: Harness;
  let sessionId: string;
  const replies: ScriptedMessage[] = [];
  /** How long a branch's first call took (container started, checkpoint restored, `true` run), ms. */
  const startTimes: number[] = [];
  /** The container's tree after each tool call, by the seq of the call's result. */
  const walks = new Map<number, Manifest>();

  const events = <K extends EventType>(id: string, type: K) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
  const containerOf = (id: string) => {
    const container = hands.statuses(id)[0]?.container;
    if (!container) throw new Error(`session ${id}: the hand has no container`);
    return engine.docker.getContainer(container);
  };

  const turn = turnRunner({
    store: () => store,
    replies,
    send: (id, text) => harness.send(id, text),
    settled: () => hands.settled(),
  });

  beforeAll(async () => {
    server = await startModelServer({
      apiKey: KEY,
      respond: async () => {
        // The request after a tool result: the tree the calls so far left (the hand is between calls).
        const result = sessionId ? events(sessionId, 'agent.tool_result').at(-1) : undefined;
        if (result && !walks.has(result.seq)) walks.set(result.seq, await walkContainer(engine, containerOf(sessionId)));
        const next = replies.shift();
        return next
          ? { kind: 'message', message: next }
          : { kind: 'http-error', status: 500, type: 'api_error', message: 'the test script has no more replies' };
      },
    });
    dir = tempDir('drover-hand-checkpoints-');
    store = SessionStore.open({ dataDir: dir });
    engine = new DockerEngine({ instance: instanceIdOf(dir) });
    hands = new HandRegistry({ store, docker: engine, log: () => undefined });
    harness = new Harness({
      store,
      keyProvider: () => KEY,
      baseURL: server.url,
      handsFor: (id) => hands.handsFor(id),
      log: () => undefined,
    });
    sessionId = store.createSession({ title: 'checkpoints' }).id;
    hands.attach(sessionId, { name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } });
    for (const [index, script] of TURNS.entries()) await turn(sessionId, `turn ${index + 1}`, script);
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await hands?.close();
    const sessions = store?.listSessions() ?? [];
    while (sessions.length > 0) {
      const leaf = sessions.findIndex((session) => !sessions.some((other) => other.parentId === session.id));
      const [session] = sessions.splice(leaf, 1);
      if (!session) break;
      store.deleteSession(session.id);
      await hands.sessionDeleted(session.id);
    }
    if (engine) expect(dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${engine.instance}`).trim()).toBe('');
    store?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records a checkpoint after each tool call that changed files, at its result, and no snapshot', () => {
    const results = events(sessionId, 'agent.tool_result');
    expect(results).toHaveLength(TURNS.flat().length - TURNS.length);
    expect(results.every((result) => !result.payload.is_error)).toBe(true);
    const checkpoints = events(sessionId, 'hand.checkpoint');
    // Every call but the `ls` and the editor's view changed something.
    const changing = results.filter((_, index) => index !== 4 && index !== 5).map((result) => result.seq);
    expect(checkpoints.map((event) => event.payload.at_seq)).toEqual(changing);
    for (const [index, checkpoint] of checkpoints.entries()) {
      expect(checkpoint.payload.parent).toBe(index === 0 ? null : checkpoints[index - 1]?.payload.manifest);
      expect(checkpoint.payload.changed_paths).toBeGreaterThan(0);
      expect(checkpoint.payload.base).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(events(sessionId, 'hand.snapshot')).toEqual([]);
    expect(dockerCli('images', '-q', '--filter', `reference=${engine.snapshotRepository}`).trim()).toBe('');
    expect([...walks.keys()]).toEqual(results.map((result) => result.seq));
  });

  /** Starts the branch's hand (a `true` through it, outside the harness), checks where it came from, and walks it. */
  async function branchTree(id: string, atSeq: number): Promise<ManifestEntry[]> {
    const [hand] = await hands.handsFor(id);
    const started = performance.now();
    const ran = await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
    startTimes.push(performance.now() - started);
    expect(ran?.isError, `branch at ${atSeq}`).toBe(false);
    const checkpoint = events(sessionId, 'hand.checkpoint')
      .filter((event) => event.payload.at_seq <= atSeq)
      .at(-1);
    const readyEvent = events(id, 'hand.ready').at(-1);
    expect(readyEvent?.payload.restored_from, `branch at ${atSeq}`).toEqual(
      checkpoint ? { session_id: sessionId, at_seq: checkpoint.payload.at_seq } : undefined,
    );
    return tree(await walkContainer(engine, containerOf(id)));
  }

  /** The tree after the last tool call at or before `atSeq`; null before the first (the image's, checked apart). */
  function expectedAt(atSeq: number): ManifestEntry[] | null {
    const at = [...walks.keys()].filter((seq) => seq <= atSeq).at(-1);
    return at === undefined ? null : tree(walks.get(at) as Manifest);
  }

  async function checkBranches(seqs: number[], make: (seq: number) => string): Promise<void> {
    let before: ManifestEntry[] | null = null;
    for (let i = 0; i < seqs.length; i += 6) {
      const batch = seqs.slice(i, i + 6);
      const trees = await Promise.all(batch.map((seq) => branchTree(make(seq), seq)));
      for (const [index, seq] of batch.entries()) {
        const got = trees[index] as ManifestEntry[];
        const expected = expectedAt(seq);
        if (expected) expect(got, `branch at event ${seq}`).toEqual(expected);
        else {
          // Before any tool call: the image's files, the same in every such branch, none a tool wrote.
          expect(
            got.filter((entry) => entry.path.startsWith('/workspace/')),
            `branch at event ${seq}`,
          ).toEqual([]);
          before ??= got;
          expect(got, `branch at event ${seq}`).toEqual(before);
        }
      }
      await hands.close().catch(() => undefined);
      // Containers of the batch go (the registry is made again for the next one).
      hands = new HandRegistry({ store, docker: engine, log: () => undefined });
    }
  }

  it('a fork at every event has the files of the last tool call at or before it', async () => {
    const last = store.getSession(sessionId).lastSeq;
    const seqs = Array.from({ length: last }, (_, index) => index + 1);
    await checkBranches(seqs, (seq) => store.fork(sessionId, seq).id);
    const sorted = [...startTimes].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `${seqs.length} forks, 6 at a time: fork → first call done (container, restore, a command) p50 ${p50.toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`,
    );
  }, 600_000);

  it('a rewind at every event (to the last result) has the files of the last tool call at or before it', async () => {
    const last = Math.max(...events(sessionId, 'agent.tool_result').map((event) => event.seq)) + 1;
    const seqs = Array.from({ length: last }, (_, index) => index + 1);
    await checkBranches(seqs, (seq) => store.rewind(sessionId, seq).id);
  }, 600_000);
});

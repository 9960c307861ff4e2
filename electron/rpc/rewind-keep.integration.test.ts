// "Rewind to here" with a choice (issue 20 item 3), end to end: the real harness and registry against
// the local Messages API server, the real Docker engine (BUSYBOX_IMAGE), a real store, the real
// `sessions-rewind` handler. Two turns change a Docker hand's files; each choice is checked by the
// container's whole tree (full-walk.ts) and by the conversation the model receives next:
// 'both' — the files and the conversation of turn one; 'conversation' — turn one's conversation with
// turn two's files, recorded in the log so a fork of that branch keeps them; 'files' — no branch,
// turn two's conversation with turn one's files. Refusals (a turn running, an event past the end, an
// unknown choice) record nothing.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { rpcMethods } from '#shared/rpc';
import { walkContainer } from '#services/checkpoints/full-walk';
import type { ManifestEntry } from '#services/checkpoints/manifest';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { Harness } from '#services/harness/harness';
import { SessionStats } from '#services/harness/session-stats';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer, type ScriptedMessage } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { bash, say, turnRunner } from '#test/support/tool-script';
import { createRewindHandler } from './rewind-handler.ts';

const KEY = 'sk-ant-test-key';
const ready = await requireDocker();

const TURN_ONE = [bash('echo one > /workspace/a.txt && mkdir /workspace/dir && echo keep > /workspace/dir/k.txt'), say('turn one done')];
const TURN_TWO = [bash('echo two > /workspace/a.txt && rm -r /workspace/dir && echo new > /workspace/b.txt'), say('turn two done')];

describe.runIf(ready)('rewind the conversation, the files, or both', () => {
  let server: ModelServer;
  let dir: string;
  let store: SessionStore;
  let engine: DockerEngine;
  let hands: HandRegistry;
  let harness: Harness;
  let rewind: ReturnType<typeof createRewindHandler>['sessions-rewind'];
  const replies: ScriptedMessage[] = [];
  /** The text of every request's messages, in order. */
  const requests: string[] = [];
  /** Holds the model's answer while set (a turn that stays running). */
  let gate: Promise<void> | null = null;

  const events = <K extends EventType>(id: string, type: K) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
  const treeOf = async (id: string): Promise<ManifestEntry[]> => {
    const container = hands.statuses(id)[0]?.container;
    if (!container) throw new Error(`session ${id}: the hand has no container`);
    return (await walkContainer(engine, engine.docker.getContainer(container))).entries;
  };
  const files = (tree: ManifestEntry[]) => tree.filter((entry) => entry.path.startsWith('/workspace/')).map((entry) => entry.path);

  const turn = turnRunner({
    store: () => store,
    replies,
    send: (id, text) => harness.send(id, text),
    settled: () => hands.settled(),
  });

  /** A session with the two turns: the tree after each, and the idle event of turn one (the rewind point). */
  async function twoTurns(title: string): Promise<{ id: string; one: ManifestEntry[]; two: ManifestEntry[]; point: number }> {
    const id = store.createSession({ title }).id;
    hands.attach(id, { name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } });
    await turn(id, 'turn 1', TURN_ONE);
    const one = await treeOf(id);
    const point = store.getSession(id).lastSeq;
    await turn(id, 'turn 2', TURN_TWO);
    const two = await treeOf(id);
    expect(files(one)).toEqual(['/workspace/a.txt', '/workspace/dir', '/workspace/dir/k.txt']);
    expect(files(two)).toEqual(['/workspace/a.txt', '/workspace/b.txt']);
    return { id, one, two, point };
  }

  /** Runs a turn on the branch that starts its hand (`true` changes nothing) and returns the request the model saw first. */
  async function nextTurn(id: string): Promise<string> {
    const first = requests.length;
    await turn(id, 'after the rewind', [bash('true'), say('ok')]);
    return requests[first] ?? '';
  }

  beforeAll(async () => {
    server = await startModelServer({
      apiKey: KEY,
      respond: async (request) => {
        requests.push(JSON.stringify(request.body.messages));
        if (gate) await gate;
        const next = replies.shift();
        return next
          ? { kind: 'message', message: next }
          : { kind: 'http-error', status: 500, type: 'api_error', message: 'the test script has no more replies' };
      },
    });
    dir = tempDir('drover-rewind-keep-');
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
    const stats = new SessionStats(store, (id) => harness.fault(id));
    rewind = createRewindHandler({
      store,
      harness,
      hands,
      summarize: (session) => stats.summarize(session),
    })['sessions-rewind'];
  }, 60_000);

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

  it("'both' (the default): turn one's conversation and files", async () => {
    const { id, one, point } = await twoTurns('both');
    const branch = await rewind({ sessionId: id, atSeq: point });
    expect(branch.id).not.toBe(id);
    const request = await nextTurn(branch.id);
    expect(request).toContain('turn 1');
    expect(request).not.toContain('turn 2');
    expect(await treeOf(branch.id)).toEqual(one);
    expect(events(branch.id, 'hand.checkpoint').filter((event) => event.payload.rewind !== undefined)).toEqual([]);
  }, 180_000);

  it("'conversation': turn one's conversation with turn two's files, and a fork of that branch keeps them", async () => {
    const { id, two, point } = await twoTurns('conversation');
    const branch = await rewind({ sessionId: id, atSeq: point, keep: 'conversation' });
    const kept = events(branch.id, 'hand.checkpoint').filter((event) => event.seq > point);
    expect(kept.map((event) => event.payload.rewind)).toEqual([
      { keep: 'conversation', session_id: id, at_seq: events(id, 'hand.checkpoint').at(-1)?.payload.at_seq },
    ]);
    const request = await nextTurn(branch.id);
    expect(request).toContain('turn 1');
    expect(request).not.toContain('turn 2');
    expect(await treeOf(branch.id)).toEqual(two);
    expect(events(branch.id, 'hand.ready').at(-1)?.payload.restored_from).toEqual({
      session_id: branch.id,
      at_seq: kept[0]?.payload.at_seq,
    });

    // A fork after the kept checkpoint has the kept files; a fork before it, the rewind point's.
    const after = store.fork(branch.id, store.getSession(branch.id).lastSeq);
    await nextTurn(after.id);
    expect(await treeOf(after.id)).toEqual(two);
    const before = store.fork(branch.id, point);
    await nextTurn(before.id);
    expect(files(await treeOf(before.id))).toEqual(['/workspace/a.txt', '/workspace/dir', '/workspace/dir/k.txt']);
  }, 240_000);

  it("'files': no new branch, turn two's conversation with turn one's files, recorded as a checkpoint", async () => {
    const { id, one, point } = await twoTurns('files');
    const branches = store.listSessions().length;
    const summary = await rewind({ sessionId: id, atSeq: point, keep: 'files' });
    expect(summary.id).toBe(id);
    expect(store.listSessions()).toHaveLength(branches);
    expect(await treeOf(id)).toEqual(one);
    const recorded = events(id, 'hand.checkpoint').at(-1);
    expect(recorded?.payload.rewind).toEqual({ keep: 'files', session_id: id, at_seq: point });
    expect(recorded?.payload.manifest).toBe(
      events(id, 'hand.checkpoint')
        .filter((event) => event.seq <= point)
        .at(-1)?.payload.manifest,
    );
    const request = await nextTurn(id);
    expect(request).toContain('turn 1');
    expect(request).toContain('turn 2');
    expect(await treeOf(id)).toEqual(one);
    // A fork after the rewind starts from the rewound files.
    const fork = store.fork(id, store.getSession(id).lastSeq);
    await nextTurn(fork.id);
    expect(await treeOf(fork.id)).toEqual(one);
  }, 240_000);

  it('refuses bad input and a files rewind during a turn, recording nothing', async () => {
    const { id, two, point } = await twoTurns('refusals');
    expect(rpcMethods['sessions-rewind'].arg.safeParse({ sessionId: id, atSeq: point, keep: 'sideways' }).success).toBe(false);
    const last = store.getSession(id).lastSeq;
    const sessions = store.listSessions().length;
    await expect(rewind({ sessionId: id, atSeq: last + 5, keep: 'files' })).rejects.toThrow(/no event/);
    await expect(rewind({ sessionId: id, atSeq: last + 5, keep: 'conversation' })).rejects.toThrow(/events 1 to/);
    expect(store.getSession(id).lastSeq).toBe(last);
    expect(store.listSessions()).toHaveLength(sessions);

    let open = (): void => undefined;
    gate = new Promise<void>((resolve) => (open = resolve));
    const running = new Promise<void>((resolve) => {
      const stop = store.subscribe(id, (event) => {
        if (event.type !== 'session.status_running') return;
        stop();
        resolve();
      });
    });
    const done = turn(id, 'turn 3', [say('turn three done')]);
    await running;
    const during = store.getSession(id).lastSeq;
    await expect(rewind({ sessionId: id, atSeq: point, keep: 'files' })).rejects.toThrow(/stop it/);
    expect(store.getSession(id).lastSeq).toBe(during);
    gate = null;
    open();
    await done;
    expect(await treeOf(id)).toEqual(two);
  }, 180_000);
});

// Files at any event (issue 20), the acceptance test: a scripted 10-turn session through the real
// host (its harness, registry and RPC dispatcher) against the local Messages API server, one Docker
// hand of the test busybox image on the real engine, a real store in a temp dir. Several tool calls
// a turn — creates, edits (bash and the editor), deletes, renames, chmod, symbolic links (a dangling
// one too), empty folders, type changes (file ↔ folder ↔ link), a name with a space, a 50 MiB file
// changed by one byte in a later turn. After each tool call the test records the container's tree
// (full-walk.ts: paths, types, modes, owners, sha256, link targets, mtimes) and copies /workspace out
// with `docker cp`. Then:
// - a fork (`sessions-fork`) at EVERY event of the session has the tree of the last tool call at or
//   before it (mid-turn included), and its `hand.ready.restored_from` names that checkpoint;
// - `sessions-changes` between two events — one drawn at random in each stretch between tool calls,
//   for every pair of stretches — equals the real `diff -rq --no-dereference` of the two copies
//   (added, changed, deleted; mode-only changes against the walks, which diff cannot see);
// - the one-byte change of the 50 MiB file stores ≤ 1.2× one chunk + 16 KiB;
// - `hands-restore-file` puts exactly one path back (the rest of the tree unchanged);
// - `sessions-rewind` with keep 'conversation' and 'files' behave as docs/architecture.md says.
// Containers, the temp dirs and the copies are removed at the end.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Changes, RestoredFile } from '#shared/changes';
import type { EventOf, EventType } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { walkContainer } from '#services/checkpoints/full-walk';
import { CHUNK_BYTES, type ManifestEntry } from '#services/checkpoints/manifest';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer, type ScriptedMessage } from '#test/support/model-server';
import { prng } from '#test/support/prng';
import { tempDir } from '#test/support/system';
import { bash, editor, say, turnRunner } from '#test/support/tool-script';
import { diffTrees, type TreeDiff } from '#test/support/tree-diff';
import { createHost, type Host } from './host.ts';

const KEY = 'sk-ant-test-key';
const ready = await requireDocker();
const run = promisify(execFile);

const W = '/workspace';
const BIG = 50 * 1024 * 1024;
/** The tool call that changes one byte of the 50 MiB file: turn 5, first call. */
const ONE_BYTE = { turn: 4, call: 0 };

/** Ten turns, several tool calls each (the last reply of each ends the turn). */
const TURNS: ScriptedMessage[][] = [
  [
    bash(`mkdir -p ${W}/src ${W}/empty && echo one > ${W}/a.txt && echo b > ${W}/src/b.txt && echo h > ${W}/.hidden`),
    editor({ command: 'create', path: `${W}/notes.md`, file_text: 'first line\nsecond line\n' }),
    bash(`ln -s a.txt ${W}/link && printf '#!/bin/sh\\necho run\\n' > ${W}/run.sh && chmod 755 ${W}/run.sh`),
    say('turn one done'),
  ],
  [
    bash(`echo two >> ${W}/a.txt && mv ${W}/src/b.txt ${W}/src/c.txt`),
    bash(`ls -la ${W} > /dev/null`), // changes nothing
    editor({ command: 'str_replace', path: `${W}/notes.md`, old_str: 'second line', new_str: 'second line, edited' }),
    bash(`rm -r ${W}/empty && chmod 600 ${W}/a.txt && ln -sfn run.sh ${W}/link`),
    say('turn two done'),
  ],
  [
    bash(`mkdir -p ${W}/src/deep/er && echo deep > ${W}/src/deep/er/d.txt && rm ${W}/src/c.txt`),
    bash(`mv ${W}/src ${W}/lib && chmod 700 ${W}/lib/deep`),
    editor({ command: 'insert', path: `${W}/notes.md`, insert_line: 0, insert_text: 'a title' }),
    bash(`mkdir -p ${W}/empty2 ${W}/x/y/z`),
    say('turn three done'),
  ],
  [
    bash(`head -c ${BIG} /dev/urandom > ${W}/big.bin`),
    bash(`ln -s ${W}/lib/deep ${W}/deeplink && echo replaced > ${W}/run.sh`),
    editor({ command: 'view', path: `${W}/notes.md` }), // reads only
    say('turn four done'),
  ],
  [
    bash(`printf Z | dd of=${W}/big.bin bs=1 seek=31000000 conv=notrunc 2>/dev/null`),
    bash(`chmod 711 ${W}/run.sh && chmod 755 ${W}/x/y`),
    say('turn five done'),
  ],
  [
    bash(`ln -s /nowhere ${W}/dangling && rm ${W}/link`),
    bash(`mv ${W}/notes.md ${W}/docs.md`),
    editor({ command: 'create', path: `${W}/lib/new.ts`, file_text: 'export const answer = 42;\n' }),
    say('turn six done'),
  ],
  [
    bash(`rm ${W}/a.txt && mkdir ${W}/a.txt && echo inside > ${W}/a.txt/inner`),
    bash(`rm -r ${W}/empty2 && echo now-a-file > ${W}/empty2`),
    bash(`rm ${W}/deeplink && echo was-a-link > ${W}/deeplink && rm ${W}/.hidden`),
    say('turn seven done'),
  ],
  [
    bash(`echo s > '${W}/with space.txt' && : > ${W}/lib/new.ts`),
    bash(`rm -r ${W}/x/y/z && ln -s ../docs.md ${W}/x/y/z`),
    say('turn eight done'),
  ],
  [
    bash(`cp -a ${W}/lib ${W}/lib2 && chmod 444 ${W}/lib2/deep/er/d.txt`),
    editor({ command: 'str_replace', path: `${W}/docs.md`, old_str: 'first line', new_str: 'first line (again)' }),
    say('turn nine done'),
  ],
  [bash(`rm -r ${W}/lib2 && rm ${W}/big.bin`), bash(`echo final > ${W}/final.txt && chmod 4755 ${W}/final.txt`), say('turn ten done')],
];

const turnText = (index: number) => `[turn ${String(index + 1).padStart(2, '0')} of 10]`;

/** The tree a walk gives, with mtimes, owners, hashes and targets. */
type Tree = ManifestEntry[];

interface State {
  /** The tool result after which the tree is so (0: before the first tool call). */
  atSeq: number;
  /** The container's tree then (null before the first tool call: the image's, checked apart). */
  tree: Tree | null;
  /** A copy of /workspace then (`docker cp`). */
  copy: string;
}

describe.runIf(ready)('files at any event: the acceptance test', () => {
  let server: ModelServer;
  let dir: string;
  let copies: string;
  let store: SessionStore;
  let host: Host;
  let engine: DockerEngine;
  let sessionId: string;
  /** Its last event once the ten turns are done (later tests add events). */
  let lastSeq: number;
  const replies: ScriptedMessage[] = [];
  /** Every request's messages, as JSON text, in order. */
  const requests: string[] = [];
  const states: State[] = [];
  /** Whether tool results are recorded as states (during the ten turns only). */
  let recording = true;
  const timings: string[] = [];
  /** Paths `sessions-changes` reported outside /workspace (no tool call wrote there), by pair of events. */
  const outside: string[] = [];

  const events = <K extends EventType>(id: string, type: K) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
  const containerIdOf = (id: string): string => {
    const container = host.hands.statuses(id)[0]?.container;
    if (!container) throw new Error(`session ${id}: the hand has no container`);
    return container;
  };
  const treeOf = async (id: string): Promise<Tree> => (await walkContainer(engine, engine.docker.getContainer(containerIdOf(id)))).entries;

  async function dispatch<T>(name: string, arg: unknown): Promise<T> {
    const outcome = await host.dispatch(name, arg);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result as T;
  }

  const turn = turnRunner({
    store: () => store,
    replies,
    send: (id, text) => dispatch('sessions-send', { sessionId: id, text }),
    settled: () => host.hands.settled(),
  });

  /** After a tool result of the main session: its tree and a copy of /workspace, once per result. */
  async function record(): Promise<void> {
    const result = sessionId ? events(sessionId, 'agent.tool_result').at(-1) : undefined;
    if (!recording || !result || states.some((state) => state.atSeq === result.seq)) return;
    const container = containerIdOf(sessionId);
    const tree = (await walkContainer(engine, engine.docker.getContainer(container))).entries;
    const copy = path.join(copies, String(result.seq));
    mkdirSync(copy);
    await run('docker', ['cp', `${container}:${W}/.`, copy]);
    states.push({ atSeq: result.seq, tree, copy });
  }

  /** The state of the last tool call at or before `seq`. */
  const stateAt = (seq: number): State => states.filter((state) => state.atSeq <= seq).at(-1) as State;

  beforeAll(async () => {
    server = await startModelServer({
      apiKey: KEY,
      respond: async (request) => {
        requests.push(JSON.stringify(request.body.messages));
        await record();
        const next = replies.shift();
        return next
          ? { kind: 'message', message: next }
          : { kind: 'http-error', status: 500, type: 'api_error', message: 'the test script has no more replies' };
      },
    });
    dir = tempDir('drover-checkpoints-acceptance-');
    copies = tempDir('drover-checkpoints-copies-');
    const empty = path.join(copies, '0');
    mkdirSync(empty);
    states.push({ atSeq: 0, tree: null, copy: empty });
    store = SessionStore.open({ dataDir: dir });
    host = createHost({
      store,
      info: { version: 'test', dataDir: dir, platform: process.platform },
      push: () => undefined,
      keyProvider: () => KEY,
      baseURL: server.url,
      log: () => undefined,
    });
    engine = new DockerEngine({ instance: instanceIdOf(dir) });
    const launched = await dispatch<SessionSummary>('sessions-launch', {
      title: 'acceptance',
      hands: [{ name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } }],
    });
    sessionId = launched.id;
    const started = performance.now();
    for (const [index, script] of TURNS.entries()) await turn(sessionId, turnText(index), script);
    timings.push(`10 turns: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    lastSeq = store.getSession(sessionId).lastSeq;
    recording = false;
  }, 300_000);

  afterAll(async () => {
    console.log(`checkpoints acceptance: ${timings.join('; ')}`);
    await host?.close();
    const sessions = store?.listSessions() ?? [];
    while (sessions.length > 0) {
      const leaf = sessions.findIndex((session) => !sessions.some((other) => other.parentId === session.id));
      const [session] = sessions.splice(leaf, 1);
      if (!session) break;
      store.deleteSession(session.id);
      await host.hands.sessionDeleted(session.id);
    }
    const left = engine ? dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${engine.instance}`).trim() : '';
    store?.close();
    await server?.close();
    // The folders go even when containers were left (the check below then fails the file).
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (copies) rmSync(copies, { recursive: true, force: true });
    expect(left, 'containers left behind').toBe('');
  }, 120_000);

  it('records a checkpoint after each tool call that changed files; one byte of 50 MiB stores about one chunk', () => {
    const results = events(sessionId, 'agent.tool_result');
    const calls = TURNS.flat().filter((message) => message.stop_reason === 'tool_use');
    expect(results).toHaveLength(calls.length);
    expect(results.filter((result) => result.payload.is_error)).toEqual([]);
    expect(states.map((state) => state.atSeq)).toEqual([0, ...results.map((result) => result.seq)]);
    const checkpoints = events(sessionId, 'hand.checkpoint');
    // Every call but the `ls` and the editor's view changed something.
    const readOnly = new Set([calls.indexOf(TURNS[1]?.[1] as ScriptedMessage), calls.indexOf(TURNS[3]?.[2] as ScriptedMessage)]);
    expect(checkpoints.map((event) => event.payload.at_seq)).toEqual(
      results.filter((_, index) => !readOnly.has(index)).map((result) => result.seq),
    );
    const oneByteCall = calls.indexOf(TURNS[ONE_BYTE.turn]?.[ONE_BYTE.call] as ScriptedMessage);
    const oneByte = checkpoints.find((event) => event.payload.at_seq === results[oneByteCall]?.seq);
    expect(oneByte?.payload.changed_paths).toBe(1);
    const limit = 1.2 * CHUNK_BYTES + 16 * 1024;
    timings.push(`one byte of 50 MiB: ${oneByte?.payload.bytes_stored} B stored (limit ${limit})`);
    expect(oneByte?.payload.bytes_stored).toBeLessThanOrEqual(limit);
    // The big file is in the trees it should be in, with its one byte changed between them.
    const bigAt = (index: number) => states[index + 1]?.tree?.find((entry) => entry.path === `${W}/big.bin`);
    const before = bigAt(oneByteCall - 1);
    const after = bigAt(oneByteCall);
    expect(before?.size).toBe(BIG);
    expect(after?.size).toBe(BIG);
    expect(after?.type === 'file' && before?.type === 'file' && after.hash !== before.hash).toBe(true);
  });

  it('a fork at every event has the tree of the last tool call at or before it, and says which checkpoint', async () => {
    const started = performance.now();
    const checkpoints = events(sessionId, 'hand.checkpoint');
    const attachedAt = events(sessionId, 'hand.attached')[0]?.seq ?? 0;
    const seqs = Array.from({ length: lastSeq }, (_, index) => index + 1);
    let imageTree: Tree | null = null;
    const forkMs: number[] = [];
    const check = async (seq: number): Promise<void> => {
      const began = performance.now();
      const fork = await dispatch<SessionSummary>('sessions-fork', { sessionId, atSeq: seq });
      const [hand] = await host.hands.handsFor(fork.id);
      if (seq < attachedAt) {
        // Before the launch attached the hand: the fork has none.
        expect(hand, `fork at ${seq}`).toBeUndefined();
        store.deleteSession(fork.id);
        return;
      }
      const ran = await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
      forkMs.push(performance.now() - began);
      expect(ran?.isError, `fork at ${seq}`).toBe(false);
      const checkpoint = checkpoints.filter((event) => event.payload.at_seq <= seq).at(-1);
      expect(events(fork.id, 'hand.ready').at(-1)?.payload.restored_from, `fork at ${seq}`).toEqual(
        checkpoint ? { session_id: sessionId, at_seq: checkpoint.payload.at_seq } : undefined,
      );
      const got = await treeOf(fork.id);
      const expected = stateAt(seq).tree;
      if (expected) expect(got, `fork at event ${seq}`).toEqual(expected);
      else {
        // Before any tool call: the image's files, the same in every such fork, none a tool wrote.
        expect(
          got.filter((entry) => entry.path.startsWith(`${W}/`)),
          `fork at event ${seq}`,
        ).toEqual([]);
        imageTree ??= got;
        expect(got, `fork at event ${seq}`).toEqual(imageTree);
      }
      store.deleteSession(fork.id);
      await host.hands.sessionDeleted(fork.id);
    };
    const queue = [...seqs];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let seq = queue.shift(); seq !== undefined; seq = queue.shift()) {
          // A failure stops the other workers too (none goes on forking behind the next test).
          await check(seq).catch((error: unknown) => {
            queue.length = 0;
            throw error;
          });
        }
      }),
    );
    const sorted = [...forkMs].sort((a, b) => a - b);
    timings.push(
      `${seqs.length} forks (4 at a time) checked in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `fork → first call p50 ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(0)} ms`,
    );
  }, 1_200_000);

  it('sessions-changes between two events equals diff -r of the two trees, for every pair of stretches', async () => {
    const started = performance.now();
    const random = prng(20);
    /** A random event in the stretch where state `index` holds (from its tool result to the next one). */
    const eventIn = (index: number): number => {
      const from = states[index]?.atSeq ?? 0;
      const to = (states[index + 1]?.atSeq ?? lastSeq + 1) - 1;
      return from + Math.floor(random() * (to - from + 1));
    };
    const under = (paths: string[]) => paths.filter((file) => file.startsWith(`${W}/`));
    let pairs = 0;

    for (let i = 0; i < states.length; i++) {
      for (let j = i; j < states.length; j++) {
        const from = eventIn(i);
        const to = Math.max(from, eventIn(j));
        const changes = await dispatch<Changes>('sessions-changes', { sessionId, fromSeq: from, toSeq: to, hand: 'box' });
        const files = changes.hands[0]?.files ?? [];
        const got: TreeDiff = { added: [], changed: [], deleted: [] };
        const modeOnly: string[] = [];
        for (const file of files) {
          if (file.kind === 'renamed') {
            if (file.fromPath) got.deleted.push(file.fromPath);
            got.added.push(file.path);
          } else if (file.kind === 'mode_changed') modeOnly.push(file.path);
          else got[file.kind].push(file.path);
        }
        for (const file of files) if (!file.path.startsWith(`${W}/`)) outside.push(`${from} → ${to}: ${file.kind} ${file.path}`);
        const a = states[i] as State;
        const b = states[j] as State;
        const label = `events ${from} → ${to} (after tool results ${a.atSeq} and ${b.atSeq})`;
        expect({ added: under(got.added).sort(), changed: under(got.changed).sort(), deleted: under(got.deleted).sort() }, label).toEqual(
          diffTrees(a.copy, b.copy, W),
        );
        // What diff cannot see: a path of the same type on both sides whose mode alone changed.
        const before = new Map((a.tree ?? []).map((entry) => [entry.path, entry]));
        const modes = (b.tree ?? [])
          .filter((entry) => entry.path.startsWith(`${W}/`))
          .filter((entry) => {
            const old = before.get(entry.path);
            if (!old || old.type !== entry.type || old.mode === entry.mode) return false;
            const same =
              entry.type === 'file'
                ? old.type === 'file' && old.hash === entry.hash
                : entry.type === 'symlink'
                  ? old.type === 'symlink' && old.target === entry.target
                  : true;
            return same;
          })
          .map((entry) => entry.path);
        expect(under(modeOnly).sort(), `${label}: modes`).toEqual(modes.sort());
        pairs++;
      }
    }
    timings.push(`${pairs} pairs diffed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('sessions-changes names no path outside the folder the tools wrote (the engine-made /sbin and /workspace are not changes)', () => {
    expect(states.length).toBeGreaterThan(1);
    expect(outside.slice(0, 6), `${outside.length} paths reported outside ${W}`).toEqual([]);
  });

  it('hands-restore-file puts exactly that path back as it was, the rest unchanged', async () => {
    const results = events(sessionId, 'agent.tool_result');
    const entriesAt = (tree: Tree | null, file: string) => (tree ?? []).filter((entry) => entry.path === file);
    const cases: Array<{ file: string; atSeq: number }> = [
      // Renamed away in turn six: back with turn three's contents (a title inserted).
      { file: `${W}/notes.md`, atSeq: results[10]?.seq ?? 0 },
      // Deleted in turn ten: 50 MiB back with its one byte changed.
      { file: `${W}/big.bin`, atSeq: results[14]?.seq ?? 0 },
      // Made in turn ten: absent at turn one, so it goes.
      { file: `${W}/final.txt`, atSeq: results[2]?.seq ?? 0 },
    ];
    for (const { file, atSeq } of cases) {
      const before = await treeOf(sessionId);
      const restored = await dispatch<RestoredFile>('hands-restore-file', { sessionId, hand: 'box', path: file, atSeq });
      expect(restored.checkpointSeq, file).toBe(store.getSession(sessionId).lastSeq);
      const expected = [...before.filter((entry) => entry.path !== file), ...entriesAt(stateAt(atSeq).tree, file)].sort((x, y) =>
        x.path < y.path ? -1 : 1,
      );
      const after = await treeOf(sessionId);
      expect(
        after.map((entry) => entry.path),
        file,
      ).toEqual(expected.map((entry) => entry.path).sort((x, y) => (x < y ? -1 : 1)));
      const byPath = new Map(after.map((entry) => [entry.path, entry]));
      for (const entry of expected) expect(byPath.get(entry.path), `${file}: ${entry.path}`).toEqual(entry);
    }
    expect(entriesAt(await treeOf(sessionId), `${W}/notes.md`)[0]).toMatchObject({ type: 'file' });
  }, 120_000);

  it("a 'conversation' rewind keeps the files as they are now, with the conversation up to the event", async () => {
    const now = await treeOf(sessionId);
    const point = events(sessionId, 'session.status_idle')[4]?.seq ?? 0; // the end of turn five
    const branch = await dispatch<SessionSummary>('sessions-rewind', { sessionId, atSeq: point, keep: 'conversation' });
    expect(branch.id).not.toBe(sessionId);
    const kept = events(branch.id, 'hand.checkpoint').filter((event) => event.seq > point);
    expect(kept.map((event) => event.payload.rewind)).toEqual([
      { keep: 'conversation', session_id: sessionId, at_seq: events(sessionId, 'hand.checkpoint').at(-1)?.payload.at_seq },
    ]);
    const first = requests.length;
    await turn(branch.id, 'after the conversation rewind', [bash('true'), say('ok')]);
    expect(requests[first]).toContain(turnText(4));
    expect(requests[first]).not.toContain(turnText(5));
    expect(await treeOf(branch.id)).toEqual(now);
    expect(events(branch.id, 'hand.ready').at(-1)?.payload.restored_from).toEqual({
      session_id: branch.id,
      at_seq: kept[0]?.payload.at_seq,
    });
  }, 120_000);

  it("a 'files' rewind puts the files back as at a mid-turn event, in place, keeping the whole conversation", async () => {
    const results = events(sessionId, 'agent.tool_result');
    const point = (results[11]?.seq ?? 0) + 1; // mid turn four: after the 50 MiB file was written
    const sessions = store.listSessions().length;
    const summary = await dispatch<SessionSummary>('sessions-rewind', { sessionId, atSeq: point, keep: 'files' });
    expect(summary.id).toBe(sessionId);
    expect(store.listSessions()).toHaveLength(sessions);
    expect(await treeOf(sessionId)).toEqual(stateAt(point).tree);
    expect(events(sessionId, 'hand.checkpoint').at(-1)?.payload.rewind).toEqual({ keep: 'files', session_id: sessionId, at_seq: point });
    const first = requests.length;
    await turn(sessionId, 'after the files rewind', [bash('true'), say('ok')]);
    expect(requests[first]).toContain(turnText(9));
    expect(await treeOf(sessionId)).toEqual(stateAt(point).tree);
  }, 120_000);
});

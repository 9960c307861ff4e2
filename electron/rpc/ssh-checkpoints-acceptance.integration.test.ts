// Files at any event (issue 20), the acceptance test on an SSH hand: the real harness and registry
// against the local Messages API server, a real OpenSSH server (test/support/sshd.ts) with real ssh2,
// the real blob store in a temp data folder. A scripted 10-turn session, several tool calls a turn —
// creates, edits (bash and the editor), deletes, renames, chmod, symbolic links (a dangling one too),
// empty folders, type changes (file ↔ folder ↔ link), a name with a space, a 50 MiB file changed by
// one byte (dd conv=notrunc) in a later turn. The sshd is on this machine, so after each tool call the
// test walks the working folder with node:fs (paths, types, modes, sha256, link targets, file mtimes)
// and copies it with `cp -a` into a temp folder. Then:
// - a fork at EVERY event restores the tree of the last tool call at or before it (mid-turn included),
//   and its `hand.ready.restored_from` names that checkpoint (one at a time: every fork of an SSH hand
//   restores into the same folder on the same machine, so they cannot run side by side);
// - `sessions-changes` between two events — one drawn at random in each stretch between tool calls,
//   for every pair of stretches — equals the real `diff -rq --no-dereference` of the two copies
//   (mode-only changes against the walks, which diff cannot see);
// - the one-byte change of the 50 MiB file stores ≤ 1.2× one chunk + 16 KiB;
// - `hands-restore-file` puts exactly one path back (the rest of the tree unchanged);
// - "conversation only" and "files only" rewinds.
// The remote folder, the copies and the temp dirs are removed at the end.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { createChangesHandlers } from '#rpc/changes-handlers';
import { CHUNK_BYTES } from '#services/checkpoints/manifest';
import { keepFilesInBranch, rewindFilesInPlace, type RewindFilesServices } from '#services/checkpoints/rewind-files';
import { DockerEngine } from '#services/hands/docker/engine';
import type { HandRegistry } from '#services/hands/registry';
import type { Harness } from '#services/harness/harness';
import type { SessionStore } from '#services/session/store';
import type { ScriptedMessage } from '#test/support/model-server';
import { prng } from '#test/support/prng';
import { requireSshd } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { attachBox, sshHandRig, walk, type SshHandRig, type Walked } from '#test/support/ssh-hand-rig';
import { bash, editor, say, turnRunner } from '#test/support/tool-script';
import { diffTrees, type TreeDiff } from '#test/support/tree-diff';

const ready = requireSshd();

const BIG = 50 * 1024 * 1024;
/** The tool call that changes one byte of the 50 MiB file: turn 5, first call. */
const ONE_BYTE = { turn: 4, call: 0 };

/** Ten turns in folder `f` (bash runs in it), several tool calls each (the last reply ends the turn). */
function turns(f: string): ScriptedMessage[][] {
  return [
    [
      bash('mkdir -p src empty && echo one > a.txt && echo b > src/b.txt && echo h > .hidden'),
      editor({ command: 'create', path: `${f}/notes.md`, file_text: 'first line\nsecond line\n' }),
      bash(`ln -s a.txt link && printf '#!/bin/sh\\necho run\\n' > run.sh && chmod 755 run.sh`),
      say('turn one done'),
    ],
    [
      bash('echo two >> a.txt && mv src/b.txt src/c.txt'),
      bash('ls -la > /dev/null'), // changes nothing
      editor({ command: 'str_replace', path: `${f}/notes.md`, old_str: 'second line', new_str: 'second line, edited' }),
      bash('rm -r empty && chmod 600 a.txt && ln -sfn run.sh link'),
      say('turn two done'),
    ],
    [
      bash('mkdir -p src/deep/er && echo deep > src/deep/er/d.txt && rm src/c.txt'),
      bash('mv src lib && chmod 700 lib/deep'),
      editor({ command: 'insert', path: `${f}/notes.md`, insert_line: 0, insert_text: 'a title' }),
      bash('mkdir -p empty2 x/y/z'),
      say('turn three done'),
    ],
    [
      bash(`head -c ${BIG} /dev/urandom > big.bin`),
      bash(`ln -s ${f}/lib/deep deeplink && echo replaced > run.sh`),
      editor({ command: 'view', path: `${f}/notes.md` }), // reads only
      say('turn four done'),
    ],
    [
      bash('printf Z | dd of=big.bin bs=1 seek=31000000 conv=notrunc 2>/dev/null'),
      bash('chmod 711 run.sh && chmod 755 x/y'),
      say('turn five done'),
    ],
    [
      bash('ln -s /nowhere dangling && rm link'),
      bash('mv notes.md docs.md'),
      editor({ command: 'create', path: `${f}/lib/new.ts`, file_text: 'export const answer = 42;\n' }),
      say('turn six done'),
    ],
    [
      bash('rm a.txt && mkdir a.txt && echo inside > a.txt/inner'),
      bash('rm -r empty2 && echo now-a-file > empty2'),
      bash('rm deeplink && echo was-a-link > deeplink && rm .hidden'),
      say('turn seven done'),
    ],
    [bash(`echo s > 'with space.txt' && : > lib/new.ts`), bash('rm -r x/y/z && ln -s ../docs.md x/y/z'), say('turn eight done')],
    [
      bash('cp -a lib lib2 && chmod 444 lib2/deep/er/d.txt'),
      editor({ command: 'str_replace', path: `${f}/docs.md`, old_str: 'first line', new_str: 'first line (again)' }),
      say('turn nine done'),
    ],
    [bash('rm -r lib2 && rm big.bin'), bash('echo final > final.txt && chmod 4755 final.txt'), say('turn ten done')],
  ];
}

const turnText = (index: number) => `[turn ${String(index + 1).padStart(2, '0')} of 10]`;

interface State {
  /** The tool result after which the tree is so (0: before the first tool call, an empty folder). */
  atSeq: number;
  tree: Walked[];
  /** A copy of the working folder then (`cp -a`). */
  copy: string;
}

describe.runIf(ready)('files at any event on an SSH hand: the acceptance test', () => {
  let rig: SshHandRig;
  let copies: string;
  let store: SessionStore;
  let hands: HandRegistry;
  let harness: Harness;
  let sessionId = '';
  let folder = '';
  let lastSeq = 0;
  let recording = true;
  const requests: string[] = [];
  const states: State[] = [];
  const timings: string[] = [];

  const events = <K extends EventType>(id: string, type: K) => store.getEvents(id, { types: [type], limit: 10_000 }) as Array<EventOf<K>>;
  const signal = () => new AbortController().signal;

  const newRegistry = (): HandRegistry => rig.newRegistry();
  const newHarness = (): Harness => rig.newHarness((id) => hands.handsFor(id));
  const turn = (id: string, text: string, script: ScriptedMessage[]): Promise<void> =>
    turnRunner({ store: () => store, replies: rig.replies, send: (to, what) => harness.send(to, what), settled: () => hands.settled() })(
      id,
      text,
      script,
    );

  /** After a tool result of the main session (the hand is between calls): its tree and a copy, once per result. */
  function record(): void {
    const result = sessionId ? events(sessionId, 'agent.tool_result').at(-1) : undefined;
    if (!recording || !result || states.some((state) => state.atSeq === result.seq)) return;
    const copy = path.join(copies, String(result.seq));
    mkdirSync(copy);
    execFileSync('cp', ['-a', `${folder}/.`, copy]);
    states.push({ atSeq: result.seq, tree: walk(folder), copy });
  }

  /** The state of the last tool call at or before `seq`. */
  const stateAt = (seq: number): State => states.filter((state) => state.atSeq <= seq).at(-1) as State;

  const rewindServices = (): RewindFilesServices => ({
    store,
    blobs: hands.blobs,
    engine: new DockerEngine({ instance: 'ssh-checkpoints-acceptance' }),
    statuses: (id) => hands.statuses(id),
    settled: () => hands.settled(),
    sshHand: (id, name) => hands.sshHand(id, name),
  });

  beforeAll(async () => {
    copies = tempDir('drover-ssh-acceptance-copies-');
    const empty = path.join(copies, '0');
    mkdirSync(empty);
    states.push({ atSeq: 0, tree: [], copy: empty });
    rig = await sshHandRig({
      instance: 'ssh-checkpoints-acceptance',
      name: 'acc',
      title: 'ssh acceptance',
      beforeReply: (request) => {
        requests.push(JSON.stringify(request.body.messages));
        record();
      },
    });
    ({ store, sessionId, folder } = rig);
    hands = newRegistry();
    harness = newHarness();
    attachBox(rig, hands);
    const started = performance.now();
    for (const [index, script] of turns(folder).entries()) await turn(sessionId, turnText(index), script);
    timings.push(`10 turns: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    lastSeq = store.getSession(sessionId).lastSeq;
    recording = false;
  }, 300_000);

  afterAll(async () => {
    console.log(`SSH checkpoints acceptance: ${timings.join('; ')}`);
    await harness?.close();
    await hands?.close();
    await rig?.close();
    if (copies) rmSync(copies, { recursive: true, force: true });
  }, 120_000);

  it('records a checkpoint after each tool call that changed files; one byte of 50 MiB stores about one chunk', () => {
    const all = turns(folder);
    const calls = all.flat().filter((message) => message.stop_reason === 'tool_use');
    const results = events(sessionId, 'agent.tool_result');
    expect(results).toHaveLength(calls.length);
    expect(results.filter((result) => result.payload.is_error)).toEqual([]);
    expect(states.map((state) => state.atSeq)).toEqual([0, ...results.map((result) => result.seq)]);
    const [baseline, ...rest] = events(sessionId, 'hand.checkpoint');
    expect(baseline?.payload.at_seq).toBe(baseline?.seq);
    expect(baseline?.seq).toBeLessThan(results[0]?.seq ?? 0);
    // Every call but the `ls` and the editor's view changed something.
    const readOnly = new Set([calls.indexOf(all[1]?.[1] as ScriptedMessage), calls.indexOf(all[3]?.[2] as ScriptedMessage)]);
    expect(rest.map((event) => event.payload.at_seq)).toEqual(
      results.filter((_, index) => !readOnly.has(index)).map((result) => result.seq),
    );
    const oneByteCall = calls.indexOf(all[ONE_BYTE.turn]?.[ONE_BYTE.call] as ScriptedMessage);
    const oneByte = rest.find((event) => event.payload.at_seq === results[oneByteCall]?.seq);
    expect(oneByte?.payload.changed_paths).toBe(1);
    const limit = 1.2 * CHUNK_BYTES + 16 * 1024;
    timings.push(`one byte of 50 MiB: ${oneByte?.payload.bytes_stored} B stored (limit ${limit}) in ${oneByte?.payload.duration_ms} ms`);
    expect(oneByte?.payload.bytes_stored).toBeLessThanOrEqual(limit);
    const bigAt = (index: number) => states[index + 1]?.tree.find((entry) => entry.path === `${folder}/big.bin`);
    const before = bigAt(oneByteCall - 1);
    const after = bigAt(oneByteCall);
    expect(before?.size).toBe(BIG);
    expect(after?.size).toBe(BIG);
    expect(after?.hash).not.toBe(before?.hash);
  });

  it('sessions-changes between two events equals diff -r of the two copies, for every pair of stretches', async () => {
    const started = performance.now();
    const handlers = createChangesHandlers({ store, hands, blobs: hands.blobs });
    const random = prng(20);
    // Stretch 0 starts at the baseline (the hand's first connection): before it there is no checkpoint.
    const baselineSeq = events(sessionId, 'hand.checkpoint')[0]?.seq ?? 1;
    const eventIn = (index: number): number => {
      const from = index === 0 ? baselineSeq : (states[index]?.atSeq ?? 0);
      const to = (states[index + 1]?.atSeq ?? lastSeq + 1) - 1;
      return from + Math.floor(random() * (to - from + 1));
    };
    const under = (paths: string[]) => paths.filter((file) => file.startsWith(`${folder}/`));
    const outside: string[] = [];
    let pairs = 0;
    for (let i = 0; i < states.length; i++) {
      for (let j = i; j < states.length; j++) {
        const from = eventIn(i);
        const to = Math.max(from, eventIn(j));
        const { hands: changes } = await handlers['sessions-changes']({ sessionId, fromSeq: from, toSeq: to, hand: 'box' });
        const files = changes[0]?.files ?? [];
        const got: TreeDiff = { added: [], changed: [], deleted: [] };
        const modeOnly: string[] = [];
        for (const file of files) {
          if (!file.path.startsWith(`${folder}/`)) outside.push(`${from} → ${to}: ${file.kind} ${file.path}`);
          if (file.kind === 'renamed') {
            if (file.fromPath) got.deleted.push(file.fromPath);
            got.added.push(file.path);
          } else if (file.kind === 'mode_changed') modeOnly.push(file.path);
          else got[file.kind].push(file.path);
        }
        const a = states[i] as State;
        const b = states[j] as State;
        const label = `events ${from} → ${to} (after tool results ${a.atSeq} and ${b.atSeq})`;
        expect({ added: under(got.added).sort(), changed: under(got.changed).sort(), deleted: under(got.deleted).sort() }, label).toEqual(
          diffTrees(a.copy, b.copy, folder),
        );
        const before = new Map(a.tree.map((entry) => [entry.path, entry]));
        const modes = b.tree
          .filter((entry) => {
            const old = before.get(entry.path);
            if (!old || old.type !== entry.type || old.mode === entry.mode) return false;
            return entry.type === 'file' ? old.hash === entry.hash : entry.type === 'symlink' ? old.target === entry.target : true;
          })
          .map((entry) => entry.path);
        expect(under(modeOnly).sort(), `${label}: modes`).toEqual(modes.sort());
        pairs++;
      }
    }
    expect(outside.slice(0, 6), `${outside.length} paths reported outside ${folder}`).toEqual([]);
    timings.push(`${pairs} pairs diffed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('a fork at every event has the tree of the last tool call at or before it, and says which checkpoint', async () => {
    const started = performance.now();
    const checkpoints = events(sessionId, 'hand.checkpoint');
    const baseline = checkpoints[0];
    const forkMs: number[] = [];
    for (let seq = 1; seq <= lastSeq; seq++) {
      const fork = store.fork(sessionId, seq);
      const began = performance.now();
      const [hand] = await hands.handsFor(fork.id);
      const ran = await hand?.execute('box__bash', { command: 'true' }, { signal: signal() });
      forkMs.push(performance.now() - began);
      expect(ran?.isError, `fork at ${seq}`).toBe(false);
      const source = checkpoints.filter((event) => event.payload.at_seq <= seq).at(-1);
      expect(events(fork.id, 'hand.ready').at(-1)?.payload.restored_from, `fork at ${seq}`).toEqual(
        source ? { session_id: sessionId, at_seq: source.payload.at_seq } : undefined,
      );
      // Before the baseline there is nothing to restore (the folder is as the last fork left it).
      if (baseline && seq >= baseline.seq) expect(walk(folder), `fork at event ${seq}`).toEqual(stateAt(seq).tree);
      await hands.close();
      hands = newRegistry();
    }
    await harness.close();
    harness = newHarness();
    const sorted = [...forkMs].sort((a, b) => a - b);
    timings.push(
      `${lastSeq} forks (one at a time) checked in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `fork → connect + restore + first call p50 ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`,
    );
  }, 900_000);

  it('hands-restore-file puts exactly that path back as it was, the rest unchanged', async () => {
    const results = events(sessionId, 'agent.tool_result');
    const [hand] = await hands.handsFor(sessionId);
    await hand?.execute('box__bash', { command: 'true' }, { signal: signal() }); // connects
    const handlers = createChangesHandlers({ store, hands, blobs: hands.blobs });
    const cases: Array<{ file: string; atSeq: number }> = [
      // Renamed away in turn six: back with turn three's contents (a title inserted).
      { file: `${folder}/notes.md`, atSeq: results[10]?.seq ?? 0 },
      // Deleted in turn ten: 50 MiB back with its one byte changed.
      { file: `${folder}/big.bin`, atSeq: results[14]?.seq ?? 0 },
      // Made in turn ten: absent at turn one, so it goes.
      { file: `${folder}/final.txt`, atSeq: results[2]?.seq ?? 0 },
    ];
    for (const { file, atSeq } of cases) {
      const before = walk(folder);
      const restored = await handlers['hands-restore-file']({ sessionId, hand: 'box', path: file, atSeq });
      expect(restored.checkpointSeq, file).toBe(store.getSession(sessionId).lastSeq);
      const expected = [...before.filter((entry) => entry.path !== file), ...stateAt(atSeq).tree.filter((entry) => entry.path === file)];
      expected.sort((x, y) => (x.path < y.path ? -1 : 1));
      expect(walk(folder), file).toEqual(expected);
    }
    expect(walk(folder).find((entry) => entry.path === `${folder}/notes.md`)).toMatchObject({ type: 'file' });
  }, 120_000);

  it('"conversation only" keeps the files as they are now in a new branch, with the conversation up to the event', async () => {
    await hands.settled();
    const now = walk(folder);
    const point = events(sessionId, 'session.status_idle')[4]?.seq ?? 0; // the end of turn five
    const latest = events(sessionId, 'hand.checkpoint').at(-1);
    const branch = store.rewind(sessionId, point);
    expect(branch.id).not.toBe(sessionId);
    expect(await keepFilesInBranch(rewindServices(), sessionId, branch.id)).toEqual(['box']);
    const kept = events(branch.id, 'hand.checkpoint').filter((event) => event.seq > point);
    expect(kept.map((event) => event.payload.rewind)).toEqual([
      { keep: 'conversation', session_id: sessionId, at_seq: latest?.payload.at_seq },
    ]);
    expect(kept[0]?.payload.manifest).toBe(latest?.payload.manifest);
    const first = requests.length;
    await turn(branch.id, 'after the conversation rewind', [bash('true'), say('ok')]);
    expect(requests[first]).toContain(turnText(4));
    expect(requests[first]).not.toContain(turnText(5));
    expect(events(branch.id, 'hand.ready').at(-1)?.payload.restored_from).toBeUndefined();
    expect(walk(folder)).toEqual(now);
  }, 120_000);

  it('"files only" puts the files back as at a mid-turn event, in place, keeping the whole conversation', async () => {
    const results = events(sessionId, 'agent.tool_result');
    const point = (results[11]?.seq ?? 0) + 1; // mid turn four: after the 50 MiB file was written
    const [hand] = await hands.handsFor(sessionId);
    await hand?.execute('box__bash', { command: 'true' }, { signal: signal() });
    const sessions = store.listSessions().length;
    const notes = await rewindFilesInPlace(rewindServices(), sessionId, point);
    expect(notes.join('\n')).toMatch(/working folder is back as at event/);
    expect(store.listSessions()).toHaveLength(sessions);
    expect(walk(folder)).toEqual(stateAt(point).tree);
    expect(events(sessionId, 'hand.checkpoint').at(-1)?.payload.rewind).toEqual({ keep: 'files', session_id: sessionId, at_seq: point });
    const first = requests.length;
    await turn(sessionId, 'after the files rewind', [bash('true'), say('ok')]);
    expect(requests[first]).toContain(turnText(9));
    expect(walk(folder)).toEqual(stateAt(point).tree);
  }, 120_000);
});

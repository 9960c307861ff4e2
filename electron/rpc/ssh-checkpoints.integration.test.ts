// Checkpoints after every tool call on an SSH hand, end to end (issue 20): the real harness and
// registry against the local Messages API server, a real OpenSSH server (test/support/sshd.ts) with
// real ssh2, the real blob store in a temp data folder. A scripted session of three turns with several
// tool calls each (creates, edits through bash and the editor, deletes, renames, chmod, symbolic links,
// an empty folder, a call that changes nothing, an editor view); the working folder is walked from
// this process (node:fs — the sshd is on this machine; independent of captures) after every tool call.
// Then: a fork at EVERY event restores exactly the tree of the last tool call at or before it (or,
// before the hand's first connection, has no checkpoint to restore and says so); the changes view
// between consecutive tool calls equals the walks' difference; a "files only" rewind; a one-file
// restore; and the crash window (a tool that changed files with no checkpoint after it: the next
// capture takes the change). The remote folder is removed at the end.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import { SshHandConfigSchema } from '#shared/hands';
import { createChangesHandlers } from '#rpc/changes-handlers';
import { keepFilesInBranch, rewindFilesInPlace, type RewindFilesServices } from '#services/checkpoints/rewind-files';
import { clearManifestCache } from '#services/checkpoints/manifest';
import { checkpointManifests, reclaimBlobs } from '#services/checkpoints/storage';
import { sshCheckpointsUnavailable, type RemoteExec } from '#services/checkpoints/ssh-capture';
import { DockerEngine } from '#services/hands/docker/engine';
import type { HandRegistry } from '#services/hands/registry';
import type { Harness } from '#services/harness/harness';
import type { SessionStore } from '#services/session/store';
import type { Vault } from '#services/vault/vault';
import type { ScriptedMessage } from '#test/support/model-server';
import { requireSshd, testUser, type TestSshd } from '#test/support/sshd';
import { attachBox, sshHandRig, walk, type SshHandRig, type Walked } from '#test/support/ssh-hand-rig';
import { bash, editor, say, turnRunner } from '#test/support/tool-script';
import { SshConnection } from '#services/hands/ssh/connection';
import { SshCheckpoints } from '#services/hands/ssh/ssh-checkpoints';
import type { KnownHosts } from '#services/hands/ssh/known-hosts';

const ready = requireSshd();

/** The turns (every kind of change a checkpoint must restore), in folder `f`. */
function turns(f: string): ScriptedMessage[][] {
  return [
    [
      bash('mkdir -p src empty && echo one > a.txt && echo b > src/b.txt'),
      editor({ command: 'create', path: `${f}/notes.md`, file_text: 'first line\nsecond line\n' }),
      bash('ln -s a.txt link && printf "#!/bin/sh\\necho run\\n" > run.sh && chmod 755 run.sh && echo "name with space" > "sp ace.txt"'),
      say('turn one done'),
    ],
    [
      bash('echo two >> a.txt && mv src/b.txt src/c.txt'),
      bash('ls -la > /dev/null'), // changes nothing: no checkpoint
      editor({ command: 'view', path: `${f}/notes.md` }), // reads only
      editor({ command: 'str_replace', path: `${f}/notes.md`, old_str: 'second line', new_str: 'second line, edited' }),
      bash('rmdir empty && chmod 600 a.txt && ln -sfn run.sh link && head -c 3000000 /dev/urandom > big.bin'),
      say('turn two done'),
    ],
    [
      bash('mkdir -p src/deep/er && echo deep > src/deep/er/d.txt && rm src/c.txt && printf x >> big.bin'),
      bash('mv src lib && chmod 700 lib/deep && mkdir -p another/empty'),
      editor({ command: 'insert', path: `${f}/notes.md`, insert_line: 0, insert_text: 'a title' }),
      bash(`echo replaced > run.sh && rm link "sp ace.txt" && ln -s ${f}/lib/deep deeplink`),
      say('turn three done'),
    ],
  ];
}

/** The paths whose entries differ between two walks. */
function differing(a: Walked[], b: Walked[]): string[] {
  const before = new Map(a.map((entry) => [entry.path, entry]));
  const after = new Map(b.map((entry) => [entry.path, entry]));
  const paths = new Set([...before.keys(), ...after.keys()]);
  const same = (x?: Walked, y?: Walked): boolean =>
    x !== undefined && y !== undefined && x.type === y.type && x.mode === y.mode && x.hash === y.hash && x.target === y.target;
  return [...paths].filter((p) => !same(before.get(p), after.get(p))).sort();
}

describe.runIf(ready)('SSH hands: checkpoints after every tool call, restored at any event', () => {
  let rig: SshHandRig;
  let sshd: TestSshd;
  let vault: Vault;
  let knownHosts: KnownHosts;
  let store: SessionStore;
  let hands: HandRegistry;
  let harness: Harness;
  let sessionId: string;
  let folder: string;
  let keySecret: string;
  /** The folder's tree after each tool call, by the seq of the call's result. */
  const walks = new Map<number, Walked[]>();
  const captureTimes: number[] = [];

  const events = <K extends EventType>(id: string, type: K) => store.getEvents(id, { types: [type], limit: 10_000 }) as Array<EventOf<K>>;

  const newRegistry = (): HandRegistry => rig.newRegistry();
  const newHarness = (): Harness => rig.newHarness((id) => hands.handsFor(id));

  const turn = (id: string, text: string, script: ScriptedMessage[]): Promise<void> =>
    turnRunner({ store: () => store, replies: rig.replies, send: (to, what) => harness.send(to, what), settled: () => hands.settled() })(
      id,
      text,
      script,
    );

  beforeAll(async () => {
    rig = await sshHandRig({
      instance: 'ssh-checkpoints',
      name: 'ckpt',
      title: 'ssh checkpoints',
      // The request after a tool result: the tree the calls so far left (the hand is between calls).
      beforeReply: () => {
        const result = sessionId ? events(sessionId, 'agent.tool_result').at(-1) : undefined;
        if (result && !walks.has(result.seq)) walks.set(result.seq, walk(folder));
      },
    });
    ({ sshd, vault, knownHosts, store, sessionId, folder, keySecret } = rig);
    hands = newRegistry();
    harness = newHarness();
    attachBox(rig, hands);
    for (const [index, script] of turns(folder).entries()) await turn(sessionId, `turn ${index + 1}`, script);
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
    await hands?.close();
    await rig?.close();
  });

  it('records a baseline at connection, then a checkpoint after each tool call that changed files, and no shadow-git snapshot', () => {
    const results = events(sessionId, 'agent.tool_result');
    const calls = turns(folder).flat().length - 3;
    expect(results).toHaveLength(calls);
    expect(results.every((result) => !result.payload.is_error)).toBe(true);
    const checkpoints = events(sessionId, 'hand.checkpoint');
    const [baseline, ...rest] = checkpoints;
    expect(baseline?.payload.at_seq).toBe(baseline?.seq); // at its own seq, before the first result
    expect(baseline?.payload.parent).toBeNull();
    const changing = results.filter((_, index) => index !== 4 && index !== 5).map((result) => result.seq);
    expect(rest.map((event) => event.payload.at_seq)).toEqual(changing);
    for (const [index, checkpoint] of checkpoints.entries()) {
      expect(checkpoint.payload.base).toBe(`ssh:${testUser().user}@127.0.0.1:${sshd.port}:${folder}`);
      if (index > 0) {
        expect(checkpoint.payload.parent).toBe(checkpoints[index - 1]?.payload.manifest);
        expect(checkpoint.payload.changed_paths).toBeGreaterThan(0);
        captureTimes.push(checkpoint.payload.duration_ms);
      }
    }
    expect(events(sessionId, 'hand.snapshot')).toEqual([]);
    expect([...walks.keys()]).toEqual(results.map((result) => result.seq));
    // Storage grows with change: the one-byte append to a 3 MB file stores about one 1 MiB chunk, not the file.
    const append = rest.find((event) => event.payload.at_seq === changing[6]);
    expect(append?.payload.bytes_stored).toBeLessThan(1.3 * 1024 * 1024);
    const sorted = [...captureTimes].sort((a, b) => a - b);
    console.log(
      `SSH captures after ${captureTimes.length} tool calls: p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms`,
    );
  });

  it("the changes view between consecutive tool calls lists exactly the paths the walks differ in, with a file's diff", async () => {
    const handlers = createChangesHandlers({ store, hands, blobs: hands.blobs });
    const seqs = [...walks.keys()];
    for (let i = 1; i < seqs.length; i++) {
      const from = seqs[i - 1] as number;
      const to = seqs[i] as number;
      const { hands: changes } = await handlers['sessions-changes']({ sessionId, fromSeq: from, toSeq: to, hand: 'box' });
      const files = changes[0]?.files ?? [];
      const listed = [...new Set(files.flatMap((file) => (file.fromPath ? [file.path, file.fromPath] : [file.path])))].sort();
      expect(listed, `changes ${from} → ${to}`).toEqual(differing(walks.get(from) ?? [], walks.get(to) ?? []));
    }
    const diff = await handlers['sessions-file-diff']({
      sessionId,
      hand: 'box',
      path: `${folder}/notes.md`,
      fromSeq: seqs[1] as number,
      toSeq: seqs.at(-1) as number,
    });
    expect(diff.kind).toBe('text');
    expect(diff.patch).toContain('-second line');
    expect(diff.patch).toContain('+second line, edited');
    expect(diff.patch).toContain('+a title');
  });

  /** What rewinds reach the hands through (as the rewind handler makes it from the registry). */
  const rewindServices = (): RewindFilesServices => ({
    store,
    blobs: hands.blobs,
    engine: new DockerEngine({ instance: 'ssh-checkpoints' }),
    statuses: (id) => hands.statuses(id),
    settled: () => hands.settled(),
    sshHand: (id, name) => hands.sshHand(id, name),
  });

  /** The tree after the last tool call at or before `atSeq` (null: before the first one). */
  function expectedAt(atSeq: number): Walked[] | null {
    const at = [...walks.keys()].filter((seq) => seq <= atSeq).at(-1);
    return at === undefined ? null : (walks.get(at) ?? null);
  }

  it('a fork at every event has exactly the files of the last tool call at or before it', async () => {
    const baseline = events(sessionId, 'hand.checkpoint')[0];
    const last = store.getSession(sessionId).lastSeq;
    const starts: number[] = [];
    for (let seq = 1; seq <= last; seq++) {
      const fork = store.fork(sessionId, seq);
      const [hand] = await hands.handsFor(fork.id);
      const started = performance.now();
      const ran = await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
      starts.push(performance.now() - started);
      expect(ran?.isError, `fork at ${seq}`).toBe(false);
      const readyEvent = events(fork.id, 'hand.ready').at(-1);
      const source = events(sessionId, 'hand.checkpoint')
        .filter((event) => event.payload.at_seq <= seq)
        .at(-1);
      expect(readyEvent?.payload.restored_from, `fork at ${seq}`).toEqual(
        source ? { session_id: sessionId, at_seq: source.payload.at_seq } : undefined,
      );
      const expected = expectedAt(seq);
      if (expected) expect(walk(folder), `fork at event ${seq}`).toEqual(expected);
      else if (baseline && seq >= baseline.seq) expect(walk(folder), `fork at event ${seq} (the baseline: an empty folder)`).toEqual([]);
      await hands.close();
      hands = newRegistry();
    }
    const sorted = [...starts].sort((a, b) => a - b);
    console.log(
      `${last} SSH forks: connect + restore + a command, p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms`,
    );
    await harness.close();
    harness = newHarness();
  }, 300_000);

  it('"files only" rewinds the live folder in place, recorded with rewind; one file is restored from another event', async () => {
    const results = events(sessionId, 'agent.tool_result').map((event) => event.seq);
    const [hand] = await hands.handsFor(sessionId);
    await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal }); // connects
    const atSeq = results[3] as number; // after turn two's first call
    const notes = await rewindFilesInPlace(rewindServices(), sessionId, atSeq);
    expect(notes.join('\n')).toMatch(/working folder is back as at event/);
    expect(walk(folder)).toEqual(expectedAt(atSeq));
    const rewound = events(sessionId, 'hand.checkpoint').at(-1);
    expect(rewound?.payload.rewind).toEqual({ keep: 'files', session_id: sessionId, at_seq: atSeq });

    // One file: notes.md as at the end of turn three; everything else stays as rewound.
    const handlers = createChangesHandlers({ store, hands, blobs: hands.blobs });
    const lastSeq = results.at(-1) as number;
    const restored = await handlers['hands-restore-file']({ sessionId, hand: 'box', path: `${folder}/notes.md`, atSeq: lastSeq });
    expect(restored.checkpointSeq).not.toBeNull();
    const now = walk(folder);
    const want = expectedAt(lastSeq)?.find((entry) => entry.path === `${folder}/notes.md`);
    expect(now.find((entry) => entry.path === `${folder}/notes.md`)).toEqual(want);
    expect(now.filter((entry) => entry.path !== `${folder}/notes.md`)).toEqual(
      expectedAt(atSeq)?.filter((entry) => entry.path !== `${folder}/notes.md`),
    );
    // A path absent at that event is removed.
    const gone = await handlers['hands-restore-file']({ sessionId, hand: 'box', path: `${folder}/src`, atSeq: lastSeq });
    expect(gone.summary).toMatch(/is back/);
    expect(walk(folder).some((entry) => entry.path.startsWith(`${folder}/src`))).toBe(false);
    // Outside the folder: refused, nothing written.
    await expect(handlers['hands-restore-file']({ sessionId, hand: 'box', path: '/etc/passwd', atSeq: lastSeq })).rejects.toThrow(
      /outside the hand's working folder/,
    );
    await expect(
      handlers['hands-restore-file']({ sessionId, hand: 'box', path: `${folder}/../${path.basename(folder)}-x/a`, atSeq: lastSeq }),
    ).rejects.toThrow(/outside the hand's working folder/);
    // Never through a link: a folder above the path that is a link now (to outside the folder) is refused.
    const outside = `${folder}-outside`;
    await hand?.execute('box__bash', { command: `mkdir -p ${outside} && ln -s ${outside} lib` }, { signal: new AbortController().signal });
    await expect(
      handlers['hands-restore-file']({ sessionId, hand: 'box', path: `${folder}/lib/deep/er/d.txt`, atSeq: lastSeq }),
    ).rejects.toThrow(/is now a link, not a folder/);
    expect(readdirSync(outside)).toEqual([]);
    rmSync(outside, { recursive: true, force: true });
    await hand?.execute('box__bash', { command: 'rm lib' }, { signal: new AbortController().signal });
  }, 120_000);

  it('"conversation only" keeps the folder as it is in the new branch: its hand connects without restoring', async () => {
    await hands.settled();
    const before = walk(folder);
    const first = events(sessionId, 'agent.tool_result')[0]?.seq ?? 0;
    const latest = events(sessionId, 'hand.checkpoint').at(-1);
    const branch = store.rewind(sessionId, first);
    expect(await keepFilesInBranch(rewindServices(), sessionId, branch.id)).toEqual(['box']);
    const kept = events(branch.id, 'hand.checkpoint').at(-1);
    expect(kept?.payload.manifest).toBe(latest?.payload.manifest);
    expect(kept?.payload.rewind).toEqual({ keep: 'conversation', session_id: sessionId, at_seq: latest?.payload.at_seq });
    const [hand] = await hands.handsFor(branch.id);
    await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
    expect(events(branch.id, 'hand.ready').at(-1)?.payload.restored_from).toBeUndefined();
    expect(walk(folder)).toEqual(before);
  }, 120_000);

  it('a machine without the tools checkpoints need gets a reason naming them', async () => {
    const config = SshHandConfigSchema.parse({
      kind: 'ssh',
      host: '127.0.0.1',
      port: sshd.port,
      user: testUser().user,
      auth: { method: 'key', key_secret_id: keySecret },
    });
    const connection = await SshConnection.open(config, { secrets: vault, knownHosts });
    try {
      const exec: RemoteExec = (command, stdin) => connection.execStream(command, stdin);
      expect(await sshCheckpointsUnavailable(exec)).toBeNull();
      // A folder too large to read whole at the first capture is declined, in words, and nothing is recorded.
      const recorded: unknown[] = [];
      const small = new SshCheckpoints(
        hands.blobs,
        { sessionId, name: 'big', machine: 'm' },
        { record: (event) => recorded.push(event), log: () => undefined, lastSeq: () => 1, restoreSource: () => Promise.resolve(null) },
        { maxPaths: 3, maxBytes: 2 ** 30 },
      );
      const prepared = await small.prepare(exec, folder, new AbortController().signal);
      expect(prepared.declined).toMatch(
        /^The working folder .* holds \d+ paths and .* more than Drover checkpoints after every tool call \(3 paths/,
      );
      expect(small.active).toBe(false);
      expect(recorded).toEqual([]);
      // The same machine with an empty PATH: no find, stat, tar…
      const bare: RemoteExec = (command, stdin) => connection.execStream(`PATH=/nonexistent; export PATH; ${command}`, stdin);
      expect(await sshCheckpointsUnavailable(bare)).toMatch(
        /^This machine lacks find, stat, xargs, awk, tar, mktemp, dd, date, tr, rm.*so its files are not checkpointed\.$/,
      );
    } finally {
      connection.close();
    }
  });

  it('a tool that changed files with no checkpoint after it (a crash): the next capture takes the change', async () => {
    const [hand] = await hands.handsFor(sessionId);
    // Runs outside the harness: no tool result, so no checkpoint — then the process "crashes".
    const ran = await hand?.execute(
      'box__bash',
      { command: 'echo crashed > crash.txt && chmod 640 crash.txt' },
      { signal: new AbortController().signal },
    );
    expect(ran?.isError).toBe(false);
    await harness.close();
    await hands.close();
    hands = newRegistry();
    harness = newHarness();
    const before = events(sessionId, 'hand.checkpoint').length;
    await turn(sessionId, 'after the crash', [bash('echo after > after.txt'), say('done')]);
    const recorded = events(sessionId, 'hand.checkpoint').slice(before);
    expect(recorded).toHaveLength(1);
    const result = events(sessionId, 'agent.tool_result').at(-1);
    expect(recorded[0]?.payload.at_seq).toBe(result?.seq);
    const afterCrash = walk(folder);
    // A fork at that result has both files.
    const fork = store.fork(sessionId, result?.seq ?? 0);
    rmSync(`${folder}/crash.txt`);
    const [forked] = await hands.handsFor(fork.id);
    await forked?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
    expect(walk(folder)).toEqual(afterCrash);
    expect(afterCrash.find((entry) => entry.path === `${folder}/crash.txt`)?.mode).toBe('640');
  }, 120_000);

  it("storage counts the SSH hand's checkpoints, and a reclaim keeps every blob a checkpoint reaches", async () => {
    await hands.settled();
    const manifests = checkpointManifests(store).get(sessionId)?.get('box');
    expect(manifests?.size).toBeGreaterThan(5);
    await reclaimBlobs(store, hands.blobs);
    clearManifestCache(); // read back from the blobs, not from memory
    // Every checkpoint still restores: a fork at the first tool call's result, after the reclaim.
    const first = events(sessionId, 'agent.tool_result')[0]?.seq ?? 0;
    const fork = store.fork(sessionId, first);
    const [hand] = await hands.handsFor(fork.id);
    const ran = await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
    expect(ran?.isError).toBe(false);
    expect(walk(folder)).toEqual(walks.get(first));
  }, 120_000);
});

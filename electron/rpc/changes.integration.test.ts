// The changes view's RPC (issue 20) through the dispatcher a UI uses, on real parts: a session
// launched with a Docker hand of the test busybox image, its container started by a real tool
// call, real captures recorded as `hand.checkpoint` events. sessions-changes and sessions-file-diff
// answer from those events; hands-restore-file puts one file back in the running container and
// records a checkpoint; bad input is refused in words and records nothing.
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Changes, FileDiff, RestoredFile } from '#shared/changes';
import type { SessionSummary } from '#shared/sessions';
import type { Host } from '#rpc/host';
import { BlobStore } from '#services/checkpoints/blob-store';
import { captureContainer } from '#services/checkpoints/docker-capture';
import type { Checkpoint } from '#services/checkpoints/manifest';
import type { DockerEngine } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { closeHostRig, hostRig, type HostRig } from '#test/support/host-rig';

const ready = await requireDocker();

let dir: string;
let store: SessionStore;
let host: Host;
let engine: DockerEngine;
let blobs: BlobStore;

let rig: HostRig | undefined;

beforeAll(() => {
  if (!ready) return;
  rig = hostRig('drover-changes-rpc-');
  ({ dir, store, host, engine } = rig);
  blobs = new BlobStore(dir);
});

// A turn end snapshots the hand (docker commit): removing each session's hands removes those images too.
afterAll(() => closeHostRig(rig));

type Outcome = { ok: true; result: unknown } | { ok: false; message: string; code: string };

async function dispatch(name: string, arg: unknown): Promise<Outcome> {
  const outcome = await host.dispatch(name, arg);
  return outcome.ok ? { ok: true, result: outcome.result } : { ok: false, message: outcome.error.message, code: outcome.error.code };
}

async function result<T>(name: string, arg: unknown): Promise<T> {
  const outcome = await dispatch(name, arg);
  if (!outcome.ok) throw new Error(`${name}: ${outcome.message}`);
  return outcome.result as T;
}

describe.runIf(ready)('the changes view over RPC', () => {
  let sessionId: string;
  let container: Docker.Container;
  const toolSeqs: number[] = [];

  /** A real tool call through the hand, a stand-in for its result event, a real capture recorded as a checkpoint. */
  async function toolCall(command: string, previous: Checkpoint | null): Promise<Checkpoint> {
    const [hand] = await host.hands.handsFor(sessionId);
    const outcome = await hand?.execute('box__bash', { command }, { signal: new AbortController().signal });
    expect(outcome?.isError ?? true).toBe(false);
    const id = host.hands.statuses(sessionId).find((status) => status.name === 'box')?.container;
    if (!id) throw new Error('the hand has no container');
    container = engine.docker.getContainer(id);
    const tool = store.emitEvent(sessionId, { type: 'system.message', payload: { content: [{ type: 'text', text: command }] } });
    toolSeqs.push(tool.seq);
    const capture = await captureContainer({ engine, blobs, container, previous });
    store.emitEvent(sessionId, {
      type: 'hand.checkpoint',
      payload: {
        hand_id: 'box',
        at_seq: tool.seq,
        manifest: capture.checkpoint.manifest,
        parent: previous?.manifest ?? null,
        base: (await container.inspect()).Image,
        captured_at: capture.checkpoint.captured_at,
        changed_paths: capture.stats.changed_paths,
        bytes_stored: capture.stats.bytes_stored,
        duration_ms: capture.stats.duration_ms,
      },
    });
    return capture.checkpoint;
  }

  beforeAll(async () => {
    const launched = await result<SessionSummary>('sessions-launch', {
      title: 'changes',
      hands: [{ name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE } }],
    });
    sessionId = launched.id;
    const first = await toolCall("mkdir -p /work && printf 'alpha\\nbeta\\n' > /work/notes.txt && echo x > /work/tmp.txt", null);
    await toolCall("printf 'alpha\\nBETA\\ngamma\\n' > /work/notes.txt && rm /work/tmp.txt && echo new > /work/new.txt", first);
  }, 180_000);

  it('lists the files changed between two events, per hand', async () => {
    const [first, second] = toolSeqs;
    const changes = await result<Changes>('sessions-changes', { sessionId, fromSeq: first, toSeq: second });
    expect(changes.hands.map((hand) => hand.hand)).toEqual(['box']);
    const files = changes.hands[0]?.files.map((file) => [file.kind, file.path]);
    expect(files).toEqual([
      ['added', '/work/new.txt'],
      ['changed', '/work/notes.txt'],
      ['deleted', '/work/tmp.txt'],
    ]);
    const diff = await result<FileDiff>('sessions-file-diff', {
      sessionId,
      hand: 'box',
      path: '/work/notes.txt',
      fromSeq: first,
      toSeq: second,
    });
    expect(diff.kind).toBe('text');
    expect(diff.patch?.split('\n').filter((line) => /^[-+][^-+]/.test(line))).toEqual(['-beta', '+BETA', '+gamma']);
  });

  it('restores one file in the running container and records a checkpoint', async () => {
    const [first, second] = toolSeqs;
    const before = store.getSession(sessionId).lastSeq;
    const restored = await result<RestoredFile>('hands-restore-file', { sessionId, hand: 'box', path: '/work/notes.txt', atSeq: first });
    expect(restored.checkpointSeq).toBe(before + 1);
    expect(restored.summary).toContain(`as it was at event ${first}`);
    const cat = await engine.exec(container, ['cat', '/work/notes.txt']);
    expect(cat.stdout.toString('utf8')).toBe('alpha\nbeta\n');
    const now = store.getSession(sessionId).lastSeq;
    const changes = await result<Changes>('sessions-changes', { sessionId, fromSeq: second, toSeq: now, hand: 'box' });
    expect(changes.hands[0]?.files.map((file) => [file.kind, file.path])).toEqual([['changed', '/work/notes.txt']]);
  }, 60_000);

  it('refuses bad input in words and records nothing', async () => {
    const last = store.getSession(sessionId).lastSeq;
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['sessions-changes', { sessionId, fromSeq: 0, toSeq: 1, extra: true }, 'invalid-argument', /extra/],
      ['sessions-changes', { sessionId, fromSeq: 3, toSeq: 1 }, 'invalid-argument', /give the earlier event first/],
      ['sessions-changes', { sessionId, fromSeq: 0, toSeq: last + 5 }, 'invalid-argument', new RegExp(`no event ${last + 5}`)],
      ['sessions-changes', { sessionId, fromSeq: -1, toSeq: 1 }, 'invalid-argument', /0 or more/],
      ['sessions-file-diff', { sessionId, hand: 'box', path: 'work/notes.txt', fromSeq: 0, toSeq: 1 }, 'invalid-argument', /absolute path/],
      ['sessions-file-diff', { sessionId, hand: 'box', path: '/work/../etc/passwd', fromSeq: 0, toSeq: 1 }, 'invalid-argument', /"\.\."/],
      [
        'hands-restore-file',
        { sessionId, hand: 'nope', path: '/work/notes.txt', atSeq: 1 },
        'not-found',
        /no hand named "nope" \(its hands: box\)/,
      ],
      ['hands-restore-file', { sessionId: '00000000-0000-4000-8000-000000000000', hand: 'box', path: '/a', atSeq: 1 }, 'not-found', /./],
      ['hands-restore-file', { sessionId, hand: 'box', path: '/proc/self/status', atSeq: 1 }, 'conflict', /not kept by checkpoints/],
      ['hands-restore-file', { sessionId, hand: 'box', path: '/work/notes.txt', atSeq: last + 1 }, 'invalid-argument', /no event/],
    ];
    for (const [name, arg, code, message] of cases) {
      const outcome = await dispatch(name, arg);
      expect(outcome, `${name} ${JSON.stringify(arg)}`).toMatchObject({ ok: false, code });
      if (!outcome.ok) expect(outcome.message).toMatch(message);
    }
    expect(store.getSession(sessionId).lastSeq).toBe(last);
  });

  it('refuses a restore while a turn runs, or when the hand has no container', async () => {
    store.emitEvent(sessionId, { type: 'session.status_running', payload: {} });
    const last = store.getSession(sessionId).lastSeq;
    const running = await dispatch('hands-restore-file', { sessionId, hand: 'box', path: '/work/notes.txt', atSeq: 1 });
    expect(running).toMatchObject({ ok: false, code: 'conflict' });
    if (!running.ok) expect(running.message).toMatch(/A turn is running: wait until it ends/);
    store.emitEvent(sessionId, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    const other = await result<SessionSummary>('sessions-launch', {
      title: 'idle hand',
      hands: [{ name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE } }],
    });
    const idle = await dispatch('hands-restore-file', { sessionId: other.id, hand: 'box', path: '/work/notes.txt', atSeq: 1 });
    expect(idle).toMatchObject({ ok: false, code: 'conflict' });
    if (!idle.ok) expect(idle.message).toMatch(/no running container now/);
    expect(store.getSession(sessionId).lastSeq).toBe(last + 1);
  });
});

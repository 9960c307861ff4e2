// A thread's fresh copy of a Docker hand under a real SIGKILL (issue 21). A child process
// (test/support/copy-crash-child.ts) starts as Drover starts — the registry's clean-up, then
// `resumeInterrupted` — and runs a coordinator that writes a file on its Docker hand and starts a
// `builder` on a fresh copy of it. The builder writes one.txt (call 1), then runs a long command
// that would write two.txt (call 2), then lists the folder (call 3). The child is SIGKILLed
// between the builder's calls (after the copy's checkpoint of call 1) and in the middle of call 2;
// each restart must remove what the crash left (no container outlives its process: counted by
// label), re-make the copy from its recorded checkpoint (one.txt there, two.txt never written),
// record the cut call interrupted and never run it again, and carry the thread on to the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { DockerHandConfigSchema } from '#shared/hands';
import { instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, dockerCli, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { bodyText, say, systemOf, toolUse, use } from '#test/support/thread-script';

const ready = await requireDocker();
const root = path.resolve(import.meta.dirname, '../../..');
const childScript = path.join(root, 'test/support/copy-crash-child.ts');
const PRELOAD = ['--import', '@anthropic-ai/sdk', '--import', 'zod', '--import', 'better-sqlite3'];
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const results = (request: RecordedRequest): number => bodyText(request).match(/"tool_result"/g)?.length ?? 0;
const bash = (id: string, command: string) => toolUse(id, 'box__bash', { command });

async function script(request: RecordedRequest): Promise<Reply> {
  const body = bodyText(request);
  const n = results(request);
  if (systemOf(request).includes('You build.')) {
    if (n === 0) return use(bash('toolu_b1', 'echo one > /workspace/one.txt'));
    // The model takes its time here, so the copy's checkpoint of call 1 is recorded before call 2 is asked for.
    if (n === 1) await new Promise((resolve) => setTimeout(resolve, 4_000));
    if (n === 1) return use(bash('toolu_b2', 'sleep 30; echo two > /workspace/two.txt'));
    if (n === 2) return use(bash('toolu_b3', 'ls /workspace'));
    return say('built');
  }
  if (n === 0) return use(bash('toolu_before', 'echo before > /workspace/before.txt'));
  const mode = body.includes('Only read it.') ? 'read_only' : 'fresh';
  if (n === 1) return use(toolUse('toolu_start', 'thread_start', { agent: 'builder', task: 'Build.', hands: [{ hand: 'box', mode }] }));
  if (body.includes('Ended sthr')) return say('Summary: built.');
  const threads = [...new Set(body.match(/sthr_[A-Za-z0-9]{8,40}/g) ?? [])];
  if (body.includes('Message from thread'))
    return use(...threads.map((id, index) => toolUse(`toolu_end${index}`, 'thread_end', { session_thread_id: id })));
  return use(toolUse(`toolu_wait${n}`, 'thread_wait', {}));
}

interface Life {
  events: Array<{ seq: number; type: string; payload: Record<string, unknown> }>;
  killed: boolean;
  done: boolean;
  /** Containers of the session right after the start's clean-up. */
  containersAtReady: number;
  stderr: string;
}

function containersOf(instance: string, sessionId: string): string[] {
  return dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`, '--filter', `label=${LABELS.session}=${sessionId}`)
    .split('\n')
    .filter(Boolean);
}

/** One life of the child; `killWhen` returns a delay (ms) to SIGKILL after, on the event that calls for it. */
function life(
  dir: string,
  url: string,
  sessionId: string,
  killWhen: ((event: Life['events'][number]) => number | null) | null,
): Promise<Life> {
  const out: Life = { events: [], killed: false, done: false, containersAtReady: -1, stderr: '' };
  const child = spawn(process.execPath, [...PRELOAD, '--import', 'tsx', childScript, dir, url, sessionId], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const hang = setTimeout(() => child.kill('SIGKILL'), 150_000);
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') out.containersAtReady = containersOf(instanceIdOf(dir), sessionId).length;
    else if (line === 'done') out.done = true;
    else if (line.startsWith('ack ')) {
      const [, seq, type, ...json] = line.split(' ');
      const event = { seq: Number(seq), type: String(type), payload: JSON.parse(json.join(' ')) as Record<string, unknown> };
      out.events.push(event);
      const delay = out.killed ? null : (killWhen?.(event) ?? null);
      if (delay !== null) {
        out.killed = true;
        setTimeout(() => child.kill('SIGKILL'), delay);
      }
    }
  });
  return new Promise((resolve) => {
    child.on('close', () => {
      clearTimeout(hang);
      children.delete(child);
      resolve(out);
    });
  });
}

function copyImagesOf(instance: string, sessionId: string): string[] {
  const format = `{{.ID}} {{.Label "${LABELS.hand}"}}`;
  const filters = ['--filter', `label=${LABELS.instance}=${instance}`, '--filter', `label=${LABELS.session}=${sessionId}`];
  return dockerCli('images', ...filters, '--format', format)
    .split('\n')
    .filter((line) => line.includes('box~'));
}

const textOf = (event: StoredEvent | undefined): string => JSON.stringify(event?.payload ?? null);

async function crashRun(mode: 'fresh' | 'read_only'): Promise<void> {
  {
    const server = await startModelServer({ respond: script, models: ['claude-sonnet-4-6'] });
    const dir = tempDir('drover-copy-crash-');
    const instance = instanceIdOf(dir);
    try {
      const store = SessionStore.open({ dataDir: dir });
      const { id: sessionId } = store.createSession({ title: 'copies under SIGKILL' });
      store.emitEvents(sessionId, [
        { type: 'session.configured', payload: { model: 'claude-sonnet-4-6', max_tokens: 1024, system: 'You coordinate.' } },
        {
          type: 'hand.attached',
          payload: { hand_id: 'box', config: DockerHandConfigSchema.parse({ kind: 'docker', image: BASH_IMAGE, network: 'none' }) },
        },
        { type: 'session.roster_set', payload: { agents: [{ name: 'builder', system: 'You build.' }], self_copies: false } },
        { type: 'user.message', payload: { content: [{ type: 'text', text: mode === 'fresh' ? 'Build it.' : 'Only read it.' }] } },
      ]);
      store.close();

      // Life 1: killed between the builder's calls, once the copy's checkpoint of call 1 is durable.
      const first = await life(dir, server.url, sessionId, (event) =>
        (
          mode === 'fresh'
            ? event.type === 'hand.checkpoint' && String(event.payload['hand_id']).startsWith('box~')
            : event.type === 'agent.tool_result' && event.payload['tool_use_id'] === 'toolu_b1'
        )
          ? // a read-only copy has no checkpoints
            0
          : null,
      );
      expect(first.killed, first.stderr).toBe(true);
      const copyName = String(
        first.events.find((event) => event.type === 'hand.ready' && String(event.payload['hand_id']).startsWith('box~'))?.payload[
          'hand_id'
        ],
      );
      expect(copyName).toMatch(/^box~/);
      // The crash left containers running (the original and the copy): Docker outlives the process.
      expect(containersOf(instance, sessionId).length).toBeGreaterThanOrEqual(1);

      // Life 2: the start removes them; call 2 re-makes the copy from its checkpoint; killed while call 2 runs.
      const second = await life(dir, server.url, sessionId, (event) =>
        event.type === 'agent.tool_use' && event.payload['tool_use_id'] === 'toolu_b2' ? 5_000 : null,
      );
      expect(second.killed, second.stderr).toBe(true);
      expect(second.containersAtReady).toBe(0);

      // Life 3: runs to the end.
      const third = await life(dir, server.url, sessionId, null);
      expect(third.done, third.stderr).toBe(true);
      expect(third.containersAtReady).toBe(0);
      // Nothing outlives the last process (it removes its hands at quit, the copy at the thread's end).
      expect(containersOf(instance, sessionId)).toEqual([]);
      // Nor does a copy's image (a read-only copy's files are committed as one).
      expect(copyImagesOf(instance, sessionId)).toEqual([]);

      const check = SessionStore.open({ dataDir: dir });
      const log = check.getEvents(sessionId);
      check.close();
      const resultOf = (id: string) => log.find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === id);
      // Call 2, cut mid-run, is recorded interrupted and never run again; two.txt was never written.
      expect(resultOf('toolu_b2')?.payload).toMatchObject({ is_error: true, status: 'interrupted' });
      // Of the builder's calls only call 2 was cut (the coordinator's waits cut by each crash are recorded interrupted too):
      // between the calls nothing was running — call 1's result and the copy's checkpoint of it durable, call 2 not yet asked for.
      const cutFirst = first.events.at(-1)?.seq ?? 0;
      expect(
        log
          .filter(
            (event) =>
              event.seq > cutFirst &&
              event.type === 'agent.tool_result' &&
              event.payload.status === 'interrupted' &&
              event.payload.tool_use_id.startsWith('toolu_b'),
          )
          .map((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id),
      ).toEqual(['toolu_b2']);
      // The copy was re-made in each later life (once per life: a crash's container is never reused), from its own checkpoint.
      const copyReady = log.filter((event) => event.type === 'hand.ready' && event.payload.hand_id === copyName);
      expect(copyReady.length).toBe(3);
      // The re-made copy has what the log says: the original's file from before the grant and call 1's file.
      const listing = textOf(resultOf('toolu_b3'));
      expect(listing).toContain('before.txt');
      // (call 1's write fails on a read-only copy: only the fresh copy has one.txt)
      if (mode === 'fresh') expect(listing).toContain('one.txt');
      else expect(listing).not.toContain('one.txt');
      expect(listing).not.toContain('two.txt');
      // Every tool use answered once; the builder ended its turn and was ended; the session ended its turn.
      const uses = log.filter((event) => event.type === 'agent.tool_use').map((event) => event.payload.tool_use_id);
      const answered = log.filter((event) => event.type === 'agent.tool_result').map((event) => event.payload.tool_use_id);
      expect([...answered].sort()).toEqual([...uses].sort());
      expect(log.some((event) => event.type === 'session.thread_status_terminated')).toBe(true);
      expect(log.filter((event) => event.type === 'session.status_idle').at(-1)?.payload).toMatchObject({
        stop_reason: { type: 'end_turn' },
      });
    } finally {
      removeInstanceObjects(instance);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

it.runIf(ready)(
  "a thread's fresh Docker copy under SIGKILL — between calls and mid-call: re-made from its checkpoint, no container leaked, the thread goes on",
  () => crashRun('fresh'),
  420_000,
);

it.runIf(ready)(
  "a thread's read-only Docker copy under SIGKILL — between calls and mid-call: re-made from the hand's files at the grant, nothing leaked",
  () => crashRun('read_only'),
  420_000,
);

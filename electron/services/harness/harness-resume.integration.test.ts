// Start-up after a crash in the window between a user message being saved and its turn starting:
// a child process (test/support/send-child.ts) sends the message through a real Harness and is
// SIGKILLed the moment the message is durable, before its wake records anything. A fresh Harness
// over the same SQLite files must answer it on start (`resumeInterrupted`), derived from the log
// alone — also when the session was idle after an earlier turn, and with an outcome defined at
// launch (the answer is then graded). A fork taken at such a message still waits for its user.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType, OutcomeDefinitionInput, StoredEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';
import { startModelServer, type RecordedRequest, type Reply, type ScriptedMessage } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { VERDICT_TOOL } from './grader.ts';
import { Harness } from './harness.ts';
import { DEFAULT_SETTINGS } from './models.ts';

const KEY = 'sk-ant-test-key';
const root = path.resolve(import.meta.dirname, '../../..');
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const text = (value: string): ScriptedMessage => ({ content: [{ type: 'text', text: value }], stop_reason: 'end_turn' });

/** Agent turns answered in order; a grader request (forced verdict tool) gets `satisfied`. */
function script(turns: string[]): (request: RecordedRequest) => Reply {
  const queue = [...turns];
  return (request) => {
    if (request.body.tool_choice?.type === 'tool') {
      const input = {
        criteria: [{ criterion: 'It greets', met: true, note: 'It does.' }],
        verdict: 'satisfied',
        explanation: 'It greets.',
      };
      return { kind: 'message', message: { content: [{ type: 'tool_use', name: VERDICT_TOOL, input }], stop_reason: 'tool_use' } };
    }
    const next = queue.shift();
    return next === undefined
      ? { kind: 'http-error', status: 500, type: 'api_error', message: 'the test script has no more turns' }
      : { kind: 'message', message: text(next) };
  };
}

/** Sends `message` from a child that SIGKILLs itself once the message is durable; the acks it printed. */
function sendThenDie(dataDir: string, sessionId: string, message: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/support/send-child.ts'), dataDir, sessionId, message], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (line) => acks.push(line));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`the send child exited (${code ?? signal}) instead of dying of SIGKILL: ${acks.join(' | ')} ${stderr}`));
    });
  });
}

function waitForIdle(
  store: SessionStore,
  sessionId: string,
  afterSeq: number,
  timeoutMs = 20_000,
): Promise<EventOf<'session.status_idle'>> {
  return new Promise((resolve, reject) => {
    const found = store.getEvents(sessionId, { types: ['session.status_idle'], afterSeq });
    if (found[0]?.type === 'session.status_idle') return resolve(found[0]);
    const timer = setTimeout(() => {
      stop();
      reject(
        new Error(
          `no idle after #${afterSeq} within ${timeoutMs} ms; log: ${store
            .getEvents(sessionId)
            .map((e) => e.type)
            .join(', ')}`,
        ),
      );
    }, timeoutMs);
    const stop = store.subscribe(sessionId, (event) => {
      if (event.type !== 'session.status_idle' || event.seq <= afterSeq) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

interface Rig {
  dataDir: string;
  /** Opens the store and a Harness as Drover's start-up does, and resumes what the log asks for. */
  start(turns: string[]): Promise<{ store: SessionStore; harness: Harness; resumed: string[]; requests: RecordedRequest[] }>;
}

function rig(): Rig {
  const dataDir = tempDir('drover-harness-resume-');
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return {
    dataDir,
    async start(turns) {
      const server = await startModelServer({ respond: script(turns), apiKey: KEY });
      const store = SessionStore.open({ dataDir });
      const harness = new Harness({
        store,
        keyProvider: () => KEY,
        baseURL: server.url,
        handsFor: () => [],
        retry: { baseDelayMs: 5, maxDelayMs: 50 },
        log: () => undefined,
      });
      cleanups.push(async () => {
        await harness.close();
        store.close();
        await server.close();
      });
      return { store, harness, resumed: harness.resumeInterrupted(), requests: server.requests };
    },
  };
}

/** A session made in the test process (as `sessions-launch` makes one), closed before the child opens it. */
function prepare(dataDir: string, extra: Array<{ type: EventType; payload: unknown }> = []): string {
  const store = SessionStore.open({ dataDir });
  try {
    const { id } = store.createSession({ title: 'resume' });
    store.emitEvents(id, [{ type: 'session.configured', payload: DEFAULT_SETTINGS }, ...extra] as Parameters<
      SessionStore['emitEvents']
    >[1]);
    return id;
  } finally {
    store.close();
  }
}

const types = (events: StoredEvent[]): string[] => events.map((event) => event.type);

describe('start-up after a SIGKILL right after a user message was saved', () => {
  it('answers the message of a new session', { timeout: 30_000 }, async () => {
    const r = rig();
    const id = prepare(r.dataDir);
    const acks = await sendThenDie(r.dataDir, id, 'hello after a crash');
    expect(acks).toEqual(['ack 2 user.message']);

    const { store, resumed, requests } = await r.start(['Hello! I am here.']);
    expect(resumed).toEqual([id]);
    const idle = await waitForIdle(store, id, 2);
    expect(idle.payload.stop_reason.type).toBe('end_turn');
    const events = store.getEvents(id);
    expect(types(events)).toEqual([
      'session.configured',
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'agent.message',
      'span.model_request_end',
      'session.status_idle',
    ]);
    expect(events.find((event) => event.type === 'agent.message')?.payload).toEqual({
      content: [{ type: 'text', text: 'Hello! I am here.' }],
    });
    expect(requests).toHaveLength(1);
    expect(JSON.stringify(requests[0]?.body.messages)).toContain('hello after a crash');
  });

  it('answers a second message sent to an idle session', { timeout: 30_000 }, async () => {
    const r = rig();
    const id = prepare(r.dataDir);
    const first = await r.start(['First answer.']);
    first.harness.send(id, 'first question');
    await waitForIdle(first.store, id, 0);
    await first.harness.close();
    first.store.close();

    await sendThenDie(r.dataDir, id, 'second question');
    const { store, resumed, requests } = await r.start(['Second answer.']);
    expect(resumed).toEqual([id]);
    const before = store.getEvents(id, { types: ['user.message'] }).at(-1)?.seq ?? 0;
    expect((await waitForIdle(store, id, before)).payload.stop_reason.type).toBe('end_turn');
    const said = store
      .getEvents(id, { types: ['agent.message'] })
      .map((event) => (event.type === 'agent.message' ? event.payload.content[0]?.text : ''));
    expect(said).toEqual(['First answer.', 'Second answer.']);
    expect(JSON.stringify(requests.at(-1)?.body.messages)).toContain('second question');
  });

  it('answers the first message of a session launched with an outcome, and grades the answer', { timeout: 30_000 }, async () => {
    const r = rig();
    const outcome: OutcomeDefinitionInput = { description: 'Greet the user.', rubric: '- It greets.', max_iterations: 2 };
    const id = prepare(r.dataDir, [{ type: 'user.define_outcome', payload: outcome }]);
    await sendThenDie(r.dataDir, id, 'greet me');
    const { store, resumed } = await r.start(['Hello there!']);
    expect(resumed).toEqual([id]);
    await waitForIdle(store, id, 3);
    const events = store.getEvents(id);
    expect(types(events)).toContain('span.outcome_evaluation_start');
    const end = events.find((event) => event.type === 'span.outcome_evaluation_end');
    expect(end?.type === 'span.outcome_evaluation_end' ? end.payload.result : null).toBe('satisfied');
    expect(events.at(-1)?.type).toBe('session.status_idle');
  });

  it('leaves idle sessions, and a fork taken at an unanswered message, waiting for their user', { timeout: 30_000 }, async () => {
    const r = rig();
    const id = prepare(r.dataDir);
    await sendThenDie(r.dataDir, id, 'answer me on start');
    const setup = SessionStore.open({ dataDir: r.dataDir });
    const fork = setup.fork(id, 2).id;
    const quiet = setup.createSession({ title: 'idle' }).id;
    setup.emitEvents(quiet, [{ type: 'session.configured', payload: DEFAULT_SETTINGS }]);
    setup.close();

    const { store, resumed } = await r.start(['Answered.']);
    expect(resumed).toEqual([id]);
    await waitForIdle(store, id, 2);
    expect(types(store.getEvents(fork))).toEqual(['session.configured', 'user.message', 'session.forked']);
    expect(types(store.getEvents(quiet))).toEqual(['session.configured']);
  });
});

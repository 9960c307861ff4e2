// Outcomes: the agent's work checked by a grader at each turn end, against the real SDK and the
// local Messages API server (real SSE over HTTP), a real SQLite store in a temp dir, and real
// tools (MathHand's functions; a verification command run in a real Docker hand). A crash mid-grading is a
// real SIGKILL of a child process (test/support/wake-child.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType, OutcomeDefinitionInput, StoredEvent } from '#shared/events';
import type { Hand } from '#services/hands/hand';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { MathHand } from '#test/support/math-hand';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply, type ScriptedMessage } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { waitForEvent } from '#test/support/wait-for-event';
import { GRADER_SYSTEM, VERDICT_TOOL } from './grader.ts';
import { Harness, type HarnessOptions } from './harness.ts';
import { SessionStats } from './session-stats.ts';
import { DEFAULT_SETTINGS } from './models.ts';

const DEFAULT_MODEL = DEFAULT_SETTINGS.model;

const KEY = 'sk-ant-test-key';
const dockerReady = await requireDocker();
const root = path.resolve(import.meta.dirname, '../../..');
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Respond = (request: RecordedRequest) => Reply | Promise<Reply>;

interface Rig {
  server: ModelServer;
  store: SessionStore;
  harness: Harness;
  sessionId: string;
  dir: string;
}

/** A request from the grader (its forced verdict tool), as opposed to one of the agent's turns. */
const isGrading = (request: RecordedRequest): boolean => request.body.tool_choice?.type === 'tool';

/** Agent turns and grader calls each answered from their own script; a request beyond it fails loudly. */
function scripts(turns: Array<ScriptedMessage | Reply>, grades: Array<ScriptedMessage | Reply>): Respond {
  const queues = { turns: [...turns], grades: [...grades] };
  return (request) => {
    const next = (isGrading(request) ? queues.grades : queues.turns).shift();
    if (!next)
      return {
        kind: 'http-error',
        status: 500,
        type: 'api_error',
        message: `the test script has no more ${isGrading(request) ? 'grader' : 'turn'} replies`,
      };
    return 'kind' in next ? next : { kind: 'message', message: next };
  };
}

async function rig(respond: Respond, options: Partial<HarnessOptions> & { hands?: Hand[]; dir?: string } = {}): Promise<Rig> {
  const server = await startModelServer({ respond, apiKey: KEY });
  const dir = options.dir ?? tempDir('drover-outcome-');
  const store = options.store ?? SessionStore.open({ dataDir: dir });
  const hands = options.hands ?? [new MathHand()];
  const harness = new Harness({
    store,
    keyProvider: () => KEY,
    baseURL: server.url,
    handsFor: () => hands,
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    log: () => undefined,
    ...options,
  });
  cleanups.push(async () => {
    await harness.close();
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { id } = store.createSession({ title: 'outcome' });
  return { server, store, harness, sessionId: id, dir };
}

const text = (value: string, stop: ScriptedMessage['stop_reason'] = 'end_turn'): ScriptedMessage => ({
  content: [{ type: 'text', text: value }],
  stop_reason: stop,
});

/** The grader's answer: a forced call of the verdict tool. */
function verdict(
  value: 'satisfied' | 'needs_revision',
  explanation: string,
  criteria: Array<{ criterion: string; met: boolean; note: string }>,
): ScriptedMessage {
  return { content: [{ type: 'tool_use', name: VERDICT_TOOL, input: { criteria, verdict: value, explanation } }], stop_reason: 'tool_use' };
}

const OUTCOME: OutcomeDefinitionInput = {
  description: 'Work out 2 + 3 with the add tool and report the sum.',
  rubric: '- The reported sum is 5.\n- The add tool was used to compute it.',
  max_iterations: 3,
};

const idleAfter = (r: Rig, seq: number) => waitForEvent(r.store, r.sessionId, 'session.status_idle', (event) => event.seq > seq, 20_000);
const events = (r: Rig): StoredEvent[] => r.store.getEvents(r.sessionId);
const ofType = <K extends EventType>(r: Rig, type: K): Array<EventOf<K>> => events(r).filter((e): e is EventOf<K> => e.type === type);
const summary = (store: SessionStore, sessionId: string) => new SessionStats(store).summarize(store.getSession(sessionId));

/** Every text in a request's last message (where a turn's new input is). */
function lastUserText(request: RecordedRequest | undefined): string {
  const last = request?.body.messages.at(-1);
  if (!last || last.role !== 'user') return '';
  return typeof last.content === 'string'
    ? last.content
    : last.content.map((block) => (block.type === 'text' ? String(block.text) : '')).join('\n');
}

describe('outcomes', () => {
  it('grades the turn, feeds a failed criterion back as the next turn, and stops once satisfied', async () => {
    const r = await rig(
      scripts(
        [
          text('The sum is 6.'),
          { content: [{ type: 'tool_use', id: 'toolu_add', name: 'add', input: { a: 2, b: 3 } }], stop_reason: 'tool_use' },
          text('Checked with the tool: the sum is 5.'),
          text('You are welcome.'),
        ],
        [
          verdict('needs_revision', 'The reported sum is wrong and no tool was used.', [
            { criterion: 'The reported sum is 5', met: false, note: 'The agent said 6.' },
            { criterion: 'The add tool was used', met: false, note: 'No tool results.' },
          ]),
          verdict('satisfied', 'The add tool returned 5 and the agent reported 5.', [
            { criterion: 'The reported sum is 5', met: true, note: 'It says 5.' },
            { criterion: 'The add tool was used', met: true, note: 'add returned 5.' },
          ]),
        ],
      ),
    );
    r.harness.defineOutcome(r.sessionId, OUTCOME);
    expect(summary(r.store, r.sessionId).outcome).toEqual({
      description: OUTCOME.description,
      maxIterations: 3,
      iterations: 0,
      state: null,
    });
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    const done = await idleAfter(r, 0);
    expect(done.payload.stop_reason).toEqual({ type: 'end_turn' });

    const sequence = events(r).map((e) =>
      e.type === 'span.model_request_start' || e.type === 'span.model_request_end' ? `${e.type}:${e.payload.purpose}` : e.type,
    );
    expect(sequence).toEqual([
      'user.define_outcome',
      'user.message',
      'session.status_running',
      'span.model_request_start:turn',
      'agent.message',
      'span.model_request_end:turn',
      'span.outcome_evaluation_start',
      'span.model_request_start:grading',
      'span.model_request_end:grading',
      'span.outcome_evaluation_end',
      'span.model_request_start:turn',
      'agent.tool_use',
      'span.model_request_end:turn',
      'agent.tool_result',
      'span.model_request_start:turn',
      'agent.message',
      'span.model_request_end:turn',
      'span.outcome_evaluation_start',
      'span.model_request_start:grading',
      'span.model_request_end:grading',
      'span.outcome_evaluation_end',
      'session.status_idle',
    ]);
    expect(ofType(r, 'span.outcome_evaluation_start').map((e) => e.payload.iteration)).toEqual([1, 2]);
    const ends = ofType(r, 'span.outcome_evaluation_end');
    expect(ends.map((e) => [e.payload.iteration, e.payload.result])).toEqual([
      [1, 'needs_revision'],
      [2, 'satisfied'],
    ]);
    expect(ends[0]?.payload.criteria).toEqual([
      { criterion: 'The reported sum is 5', met: false, note: 'The agent said 6.' },
      { criterion: 'The add tool was used', met: false, note: 'No tool results.' },
    ]);

    // The grader has its own context: its system prompt, the task, the rubric, the evidence — and only its verdict tool, forced, thinking off.
    const [turn1, grade1, turn2, , grade2] = r.server.requests;
    expect(isGrading(grade1 as RecordedRequest) && isGrading(grade2 as RecordedRequest)).toBe(true);
    const graderBody = grade1?.body as Record<string, unknown>;
    expect(graderBody['system']).toBe(GRADER_SYSTEM);
    expect((graderBody['tools'] as Array<{ name: string }>).map((tool) => tool.name)).toEqual([VERDICT_TOOL]);
    expect(graderBody['tool_choice']).toEqual({ type: 'tool', name: VERDICT_TOOL });
    expect(graderBody['thinking']).toEqual({ type: 'disabled' });
    expect(grade1?.body.messages).toHaveLength(1);
    const prompt1 = lastUserText(grade1);
    expect(prompt1).toContain(OUTCOME.description);
    expect(prompt1).toContain('- The reported sum is 5.');
    expect(prompt1).toContain('What is 2 + 3?');
    expect(prompt1).toContain('The sum is 6.');
    expect(prompt1).toContain('ran no tools');
    const prompt2 = lastUserText(grade2);
    expect(prompt2).toContain('### add {"a":2,"b":3}\n5');
    expect(prompt2).toContain('Checked with the tool: the sum is 5.');
    // The agent's turns keep its tools; its second turn starts from the grader's feedback.
    expect((turn1?.body.tools ?? []).map((tool) => tool.name)).toEqual(['add', 'multiply', 'wait']);
    const feedback = lastUserText(turn2);
    expect(feedback).toContain(
      'An independent check of your work against the outcome found it not done yet (check 1 of 3): The reported sum is wrong and no tool was used.',
    );
    expect(feedback).toContain('- The reported sum is 5: The agent said 6.');
    expect(feedback).toContain('Revise your work, then finish your turn.');

    expect(summary(r.store, r.sessionId).outcome).toEqual({
      description: OUTCOME.description,
      maxIterations: 3,
      iterations: 2,
      state: 'satisfied',
    });
    // Grading costs count: 3 turn requests + 2 grader requests.
    expect(r.harness.usage(r.sessionId).requests).toBe(5);

    // Satisfied is settled: the next turn is not graded.
    r.harness.send(r.sessionId, 'Thanks!');
    await idleAfter(r, done.seq);
    expect(ofType(r, 'span.outcome_evaluation_start')).toHaveLength(2);
    expect(r.server.requests).toHaveLength(6);
  });

  it('stops after max_iterations without satisfaction, and the turn ends', async () => {
    const fail = verdict('needs_revision', 'Still wrong.', [{ criterion: 'The reported sum is 5', met: false, note: 'It is not.' }]);
    const r = await rig(scripts([text('Six.'), text('Seven.')], [fail, fail]));
    r.harness.defineOutcome(r.sessionId, { ...OUTCOME, max_iterations: 2 });
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    const done = await idleAfter(r, 0);
    expect(done.payload.stop_reason.type).toBe('end_turn');
    expect(ofType(r, 'span.outcome_evaluation_end').map((e) => [e.payload.iteration, e.payload.result])).toEqual([
      [1, 'needs_revision'],
      [2, 'max_iterations_reached'],
    ]);
    expect(lastUserText(r.server.requests[2])).toContain('(check 1 of 2)');
    expect(r.server.requests).toHaveLength(4);
    expect(summary(r.store, r.sessionId).outcome).toMatchObject({ iterations: 2, state: 'max_iterations_reached' });
  });

  it('stops a grader call at once when the user interrupts, and checks again at the next turn end', async () => {
    let arrived!: () => void;
    const graderStreaming = new Promise<void>((resolve) => (arrived = resolve));
    const respond = scripts(
      [text('Five.'), text('Still five.')],
      [
        { kind: 'message', message: verdict('satisfied', 'Never delivered.', []), frameDelayMs: 200 },
        verdict('satisfied', 'It says five.', [{ criterion: 'The reported sum is 5', met: true, note: 'Yes.' }]),
      ],
    );
    const r = await rig((request) => {
      if (isGrading(request)) arrived();
      return respond(request);
    });
    r.harness.defineOutcome(r.sessionId, OUTCOME);
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    // The grader's answer is on its way (slowly) when the user stops it.
    await graderStreaming;
    expect(summary(r.store, r.sessionId).outcome?.state).toBe('evaluating');
    const asked = performance.now();
    r.harness.interrupt(r.sessionId, 'enough');
    const done = await idleAfter(r, 0);
    expect(performance.now() - asked).toBeLessThan(1000);
    expect(done.payload.stop_reason).toEqual({ type: 'interrupted', message: 'Stopped by the user.' });
    const grading = ofType(r, 'span.model_request_end').filter((e) => e.payload.purpose === 'grading');
    expect(grading.map((e) => e.payload.is_error)).toEqual([false]);
    expect(ofType(r, 'span.outcome_evaluation_end').map((e) => [e.payload.iteration, e.payload.result, e.payload.explanation])).toEqual([
      [1, 'interrupted', 'Stopped by the user before the check finished.'],
    ]);
    expect(summary(r.store, r.sessionId).outcome).toMatchObject({ iterations: 1, state: 'interrupted' });

    // Interrupted leaves the outcome open: the next turn end is checked (as iteration 2).
    r.harness.send(r.sessionId, 'Go on.');
    await idleAfter(r, done.seq);
    expect(ofType(r, 'span.outcome_evaluation_end').map((e) => [e.payload.iteration, e.payload.result])).toEqual([
      [1, 'interrupted'],
      [2, 'satisfied'],
    ]);
    expect(r.server.requests.filter(isGrading)).toHaveLength(2);
  });

  it('still grades after the outcome’s definition was compacted out of the view, with the outcome’s own grader model', async () => {
    const r = await rig(
      scripts(
        [text('Five.')],
        [verdict('satisfied', 'The sum is 5.', [{ criterion: 'The reported sum is 5', met: true, note: 'It says five.' }])],
      ),
    );
    const usage = { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    r.store.emitEvents(r.sessionId, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'hello' }] } },
      { type: 'session.status_running', payload: {} },
      { type: 'span.model_request_start', payload: { model: DEFAULT_MODEL, purpose: 'turn' } },
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Hi.' }] } },
      {
        type: 'span.model_request_end',
        payload: { model: DEFAULT_MODEL, purpose: 'turn', usage, stop_reason: 'end_turn', is_error: false, duration_ms: 1 },
      },
      { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
      { type: 'user.define_outcome', payload: { ...OUTCOME, grader_model: 'claude-haiku-4-5' } },
    ]);
    const defined = r.store.getSession(r.sessionId).lastSeq;
    r.store.emitEvent(r.sessionId, {
      type: 'agent.thread_context_compacted',
      payload: { summary: 'The user said hello; an outcome was set: add 2 and 3.', through_seq: defined },
    });
    const before = r.store.getSession(r.sessionId).lastSeq;
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    await idleAfter(r, before);
    expect(ofType(r, 'span.outcome_evaluation_end').map((e) => [e.payload.iteration, e.payload.result])).toEqual([[1, 'satisfied']]);
    // The outcome's own grader model (the turn keeps the session's).
    expect(r.server.requests.map((request) => [isGrading(request), request.body.model])).toEqual([
      [false, DEFAULT_MODEL],
      [true, 'claude-haiku-4-5'],
    ]);
    expect(
      ofType(r, 'span.model_request_end')
        .filter((e) => e.payload.purpose === 'grading')
        .map((e) => e.payload.model),
    ).toEqual(['claude-haiku-4-5']);
  });

  it('says so in the evidence when the verification hand is gone', async () => {
    const r = await rig(scripts([text('Five.')], [verdict('needs_revision', 'Cannot verify.', [])]));
    r.harness.defineOutcome(r.sessionId, { ...OUTCOME, max_iterations: 1, verification: { hand_id: 'box', command: 'true' } });
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    await idleAfter(r, 0);
    const end = ofType(r, 'span.outcome_evaluation_end')[0]?.payload;
    expect(end).toMatchObject({ result: 'max_iterations_reached', verification: { hand_id: 'box', is_error: true } });
    expect(end?.verification?.output).toContain('no hand named "box" (attached: math)');
    expect(lastUserText(r.server.requests[1])).toContain('no hand named "box"');
  });

  it('records an unusable grader answer as failed and leaves the outcome open; retries an overloaded grader', async () => {
    const r = await rig(
      scripts(
        [text('Five.'), text('Five, really.')],
        [
          text('I think it is fine.', 'end_turn'),
          { kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' },
          verdict('satisfied', 'It says five.', []),
        ],
      ),
    );
    r.harness.defineOutcome(r.sessionId, OUTCOME);
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    const first = await idleAfter(r, 0);
    expect(first.payload.stop_reason.type).toBe('end_turn');
    const failed = ofType(r, 'span.outcome_evaluation_end')[0]?.payload;
    expect(failed).toMatchObject({ iteration: 1, result: 'failed' });
    expect(failed?.explanation).toMatch(/did not record a verdict.*I think it is fine\..*checked again/);

    r.harness.send(r.sessionId, 'Check again.');
    await idleAfter(r, first.seq);
    expect(ofType(r, 'session.error').map((e) => e.payload.retry_status.type)).toEqual(['retrying']);
    // One evaluation across the retry: one start, one end.
    expect(ofType(r, 'span.outcome_evaluation_start').map((e) => e.payload.iteration)).toEqual([1, 2]);
    expect(ofType(r, 'span.outcome_evaluation_end').map((e) => [e.payload.iteration, e.payload.result])).toEqual([
      [1, 'failed'],
      [2, 'satisfied'],
    ]);
  });
});

describe('outcomes across a crash', () => {
  it('a fresh wake resumes an evaluation cut by a crash, under the same iteration, and carries on the loop', async () => {
    let child: ChildProcess | null = null;
    let killed!: () => void;
    const killedOnce = new Promise<void>((resolve) => (killed = resolve));
    const turns = [text('Six.'), text('Five.')];
    const grades: ScriptedMessage[] = [
      verdict('needs_revision', 'The sum is wrong.', [{ criterion: 'The reported sum is 5', met: false, note: 'It says 6.' }]),
      verdict('satisfied', 'It says 5.', [{ criterion: 'The reported sum is 5', met: true, note: 'Yes.' }]),
    ];
    let grading = 0;
    // Any key: the child uses its own test key.
    const server = await startModelServer({
      respond: (request) => {
        if (!isGrading(request)) return { kind: 'message', message: turns.shift() ?? text('(no more turns)') };
        // The first grader call dies with its process: SIGKILL as soon as it arrives.
        if (grading++ === 0) {
          child?.kill('SIGKILL');
          killed();
          return { kind: 'message', message: verdict('satisfied', 'never delivered', []), frameDelayMs: 1000 };
        }
        return { kind: 'message', message: grades.shift() ?? text('(no more verdicts)') };
      },
    });
    const dir = tempDir('drover-outcome-crash-');
    cleanups.push(async () => {
      child?.kill('SIGKILL');
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const setup = SessionStore.open({ dataDir: dir });
    const { id } = setup.createSession({ title: 'crash' });
    setup.emitEvents(id, [
      { type: 'user.define_outcome', payload: OUTCOME },
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'What is 2 + 3?' }] } },
    ]);
    setup.close();

    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/support/wake-child.ts'), dir, server.url, id], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const acks: string[] = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => acks.push(line));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child?.on('close', (_code, signal) => resolve(signal)));
    const first = await Promise.race([killedOnce.then(() => 'killed' as const), exited.then(() => 'exited' as const)]);
    expect(first, `the child exited before grading: ${stderr}\n${acks.join('\n')}`).toBe('killed');
    expect(await exited).toBe('SIGKILL');

    const store = SessionStore.open({ dataDir: dir });
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
    });
    // What the killed process left: an evaluation and its grader request, both open.
    const before = store.getEvents(id).map((e) => e.type);
    expect(before.slice(-2)).toEqual(['span.outcome_evaluation_start', 'span.model_request_start']);
    expect(summary(store, id).outcome).toMatchObject({ iterations: 0, state: 'evaluating' });
    expect(acks.at(-1)).toMatch(/ span\.model_request_start$/);

    await harness.wake(id);
    const log = store.getEvents(id);
    const after = log.slice(before.length);
    const label = (e: StoredEvent): string =>
      e.type === 'span.model_request_start' || e.type === 'span.model_request_end'
        ? `${e.type}:${e.payload.purpose}${e.type === 'span.model_request_end' && e.payload.is_error ? ':error' : ''}`
        : e.type === 'span.outcome_evaluation_start' || e.type === 'span.outcome_evaluation_end'
          ? `${e.type}:${e.payload.iteration}`
          : e.type;
    expect(after.map(label)).toEqual([
      'span.model_request_end:grading:error', // the cut request, closed
      'span.model_request_start:grading', // iteration 1 again, without a second start
      'span.model_request_end:grading',
      'span.outcome_evaluation_end:1',
      'span.model_request_start:turn',
      'agent.message',
      'span.model_request_end:turn',
      'span.outcome_evaluation_start:2',
      'span.model_request_start:grading',
      'span.model_request_end:grading',
      'span.outcome_evaluation_end:2',
      'session.status_idle',
    ]);
    const ends = log.filter((e): e is EventOf<'span.outcome_evaluation_end'> => e.type === 'span.outcome_evaluation_end');
    expect(ends.map((e) => e.payload.result)).toEqual(['needs_revision', 'satisfied']);
    expect(summary(store, id).outcome).toMatchObject({ iterations: 2, state: 'satisfied' });
  });
});

/**
 * A hand with one tool, `<id>__bash`, that runs its command with the real bash of this machine
 * in a folder of its own: the shape every shell-bearing hand offers, without a container.
 */

describe.skipIf(!dockerReady)('outcomes with a verification command on a Docker hand', () => {
  it('runs the verification command in the hand’s container and gives its output to the grader', async () => {
    const dir = tempDir('drover-outcome-docker-');
    const store = SessionStore.open({ dataDir: dir });
    const registry = new HandRegistry({ store, docker: new DockerEngine({ instance: instanceIdOf(dir) }), log: () => undefined });
    const respond = scripts(
      [text('I wrote the answer to answer.txt.')],
      [verdict('satisfied', 'answer.txt holds 5.', [{ criterion: 'The reported sum is 5', met: true, note: 'cat shows 5.' }])],
    );
    const r = await rig(respond, { store, dir, handsFor: async (id) => [new MathHand(), ...(await registry.handsFor(id))] });
    cleanups.push(async () => {
      await r.harness.close();
      await registry.close();
      removeInstanceObjects(instanceIdOf(dir)); // the session’s snapshot
    });
    registry.attach(r.sessionId, { name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } });
    const command = 'echo "sum: $((2 + 3))" > /tmp/answer.txt; cat /tmp/answer.txt; cat /etc/hostname';
    r.harness.defineOutcome(r.sessionId, { ...OUTCOME, verification: { hand_id: 'box', command } });
    r.harness.send(r.sessionId, 'What is 2 + 3?');
    await idleAfter(r, 0);
    const end = ofType(r, 'span.outcome_evaluation_end')[0]?.payload;
    expect(end?.result).toBe('satisfied');
    const container = registry.statuses(r.sessionId)[0]?.container ?? '';
    expect(container).not.toBe('');
    expect(end?.verification).toMatchObject({ hand_id: 'box', command, is_error: false });
    // It ran in the container: its hostname is the container's id.
    expect(end?.verification?.output).toMatch(new RegExp(`^sum: 5\\n${container.slice(0, 12)}`));
    const prompt = lastUserText(r.server.requests[1]);
    expect(prompt).toContain('sum: 5');
    // The hand's tools are the agent's; the grader only sees their output.
    expect((r.server.requests[0]?.body.tools ?? []).map((tool) => tool.name)).toContain('box__bash');
    expect((r.server.requests[1]?.body.tools ?? []).map((tool) => tool.name)).toEqual([VERDICT_TOOL]);
  }, 120_000);
});

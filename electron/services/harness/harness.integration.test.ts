// The brain against the real SDK and a local Messages API server (real SSE over HTTP), a real
// SQLite store in a temp dir, and a hand that runs real local functions.
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import type { LiveUpdate } from '#shared/harness';
import { MathHand } from '#test/support/math-hand';
import type { Reply } from '#test/support/model-server';
import {
  cleanUpLater,
  cleanUpRigs,
  events,
  idle,
  KEY,
  ofType,
  rig,
  script,
  text,
  types,
  waitFor,
  type Respond,
} from '#test/support/harness-rig';
import { COMPACTION_INSTRUCTION, CONTINUE_PROMPT, SUMMARY_PREAMBLE } from './context.ts';
import { Harness } from './harness.ts';
import { FALLBACK_MODEL } from './models.ts';
import { NO_KEY_MESSAGE } from './run-context.ts';

afterEach(cleanUpRigs);

describe('a turn', () => {
  it('streams text live, stores the completed block, records usage, and goes idle', async () => {
    const r = await rig(
      script({
        content: [{ type: 'text', text: 'Hello there, this is a streamed answer.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1200, output_tokens: 80, cache_read_input_tokens: 1000, cache_creation_input_tokens: 100 },
      }),
    );
    r.harness.send(r.sessionId, 'Hi');
    const done = await idle(r);
    expect(done.payload.stop_reason).toEqual({ type: 'end_turn' });
    expect(types(r)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'agent.message',
      'span.model_request_end',
      'session.status_idle',
    ]);
    expect(ofType(r, 'agent.message')[0]?.payload.content).toEqual([{ type: 'text', text: 'Hello there, this is a streamed answer.' }]);
    const end = ofType(r, 'span.model_request_end')[0]?.payload;
    expect(end).toMatchObject({
      purpose: 'turn',
      stop_reason: 'end_turn',
      is_error: false,
      usage: { input_tokens: 1200, output_tokens: 80, cache_read_input_tokens: 1000, cache_creation_input_tokens: 100 },
    });

    const deltas = r.live.filter((u): u is Extract<LiveUpdate, { type: 'delta' }> => u.type === 'delta');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((d) => d.text).join('')).toBe('Hello there, this is a streamed answer.');
    expect(r.live.at(-1)).toEqual({ type: 'response_end' });

    const usage = r.harness.usage(r.sessionId);
    expect(usage).toMatchObject({
      requests: 1,
      input_tokens: 1200,
      output_tokens: 80,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 100,
    });
    // claude-sonnet-5-5 (the default): $2 in, $10 out, cache write 1.25×, cache read 0.1× per million.
    expect(usage.cost_usd).toBeCloseTo((1200 * 2 + 100 * 2.5 + 1000 * 0.2 + 80 * 10) / 1e6, 10);
    expect(usage.unpriced_models).toEqual([]);
  });

  it('sends the session settings, system prompt, tools and cache breakpoints', async () => {
    const r = await rig(script(text('ok')));
    r.harness.configure(r.sessionId, { model: 'claude-opus-4-5', max_tokens: 4096, system: 'Be terse.', thinking_budget: 2048 });
    r.harness.send(r.sessionId, 'Hi');
    await idle(r);
    const body = r.server.requests[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'claude-opus-4-5',
      max_tokens: 4096,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      system: [{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }],
    });
    expect((body['tools'] as Array<{ name: string }>).map((t) => t.name)).toEqual(['add', 'multiply', 'wait']);
    expect(JSON.stringify(body['messages'])).toContain('"cache_control"');
    expect(r.server.requests[0]?.headers['authorization'] ?? r.server.requests[0]?.headers['x-api-key']).toContain(KEY);
  });

  it('refuses bad settings with the field named, and records nothing', async () => {
    const r = await rig(script());
    expect(() => r.harness.configure(r.sessionId, { max_tokens: 2000, thinking_budget: 4000 })).toThrow(
      /thinking_budget: the thinking budget must be below max_tokens/,
    );
    expect(() => r.harness.configure(r.sessionId, { model: '  ' })).toThrow(AppError);
    expect(() => r.harness.send(r.sessionId, '   ')).toThrow(/empty/);
    expect(types(r)).toEqual([]);
    expect(r.harness.settings(r.sessionId).model).toBe(FALLBACK_MODEL);
  });

  it('lists models from the Models API, and falls back with the reason when there is no key', async () => {
    const r = await rig(script());
    const listed = await r.harness.listModels();
    expect(listed).toEqual({
      models: [
        expect.objectContaining({ id: 'claude-sonnet-4-6' }),
        expect.objectContaining({ id: 'claude-opus-4-5' }),
        expect.objectContaining({ id: 'claude-haiku-4-5' }),
      ],
      defaultModel: 'claude-sonnet-4-6',
      fallbackReason: null,
    });
    const keyless = new Harness({ store: r.store, keyProvider: () => null, baseURL: r.server.url });
    cleanUpLater(() => keyless.close());
    const fallback = await keyless.listModels();
    expect(fallback.fallbackReason).toMatch(/No API key/);
    expect(fallback.models.length).toBeGreaterThan(0);
  });
});

describe('tools', () => {
  it('runs several tool uses concurrently, returns results in order, and keeps thinking with its signature', async () => {
    let started = 0;
    let release: () => void = () => undefined;
    const bothStarted = new Promise<void>((resolve) => (release = resolve));
    // Each run waits until both have started: run one after the other, this would never finish.
    const hand = new MathHand({
      onStart: async () => {
        if (++started === 2) release();
        await Promise.race([
          bothStarted,
          new Promise((_, reject) => setTimeout(() => reject(new Error('tools did not run concurrently')), 5000)),
        ]);
      },
    });
    const r = await rig(
      script(
        {
          content: [
            { type: 'thinking', thinking: 'Two independent sums.', signature: 'sig-abc' },
            { type: 'text', text: 'Computing both.' },
            { type: 'tool_use', id: 'toolu_a', name: 'add', input: { a: 2, b: 3 } },
            { type: 'tool_use', id: 'toolu_b', name: 'multiply', input: { a: 4, b: 5 } },
          ],
          stop_reason: 'tool_use',
        },
        text('2 + 3 = 5 and 4 × 5 = 20.'),
      ),
      { hand },
    );
    r.harness.configure(r.sessionId, { thinking_budget: 1024, max_tokens: 4096 });
    r.harness.send(r.sessionId, 'Add 2 and 3; multiply 4 and 5.');
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');

    const results = ofType(r, 'agent.tool_result');
    expect(results.map((e) => [e.payload.tool_use_id, e.payload.content, e.payload.status])).toEqual(
      expect.arrayContaining([
        ['toolu_a', [{ type: 'text', text: '5' }], 'completed'],
        ['toolu_b', [{ type: 'text', text: '20' }], 'completed'],
      ]),
    );
    expect(ofType(r, 'agent.tool_use').map((e) => e.payload.hand_id)).toEqual(['math', 'math']);
    const second = r.server.requests[1]?.body.messages;
    expect(second?.[1]).toMatchObject({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Two independent sums.', signature: 'sig-abc' },
        { type: 'text' },
        { type: 'tool_use', id: 'toolu_a' },
        { type: 'tool_use', id: 'toolu_b' },
      ],
    });
    expect(second?.[2]).toMatchObject({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_a' },
        { type: 'tool_result', tool_use_id: 'toolu_b' },
      ],
    });
    // Tool-input deltas streamed live too.
    expect(r.live.some((u) => u.type === 'delta' && u.kind === 'input_json')).toBe(true);
  });

  it('runs one at a time on a hand that does not allow concurrency, still in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const hand = new MathHand({
      concurrent: false,
      onStart: async () => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
      },
    });
    const r = await rig(
      script(
        {
          content: [1, 2, 3].map((n) => ({ type: 'tool_use' as const, id: `toolu_${n}`, name: 'add', input: { a: n, b: n } })),
          stop_reason: 'tool_use',
        },
        text('done'),
      ),
      { hand },
    );
    r.harness.send(r.sessionId, 'go');
    await idle(r);
    expect(maxInFlight).toBe(1);
    expect(ofType(r, 'agent.tool_result').map((e) => e.payload.tool_use_id)).toEqual(['toolu_1', 'toolu_2', 'toolu_3']);
  });

  it('gives the model a readable error for an unknown tool or bad input, without running anything', async () => {
    const r = await rig(
      script(
        {
          content: [
            { type: 'tool_use', id: 'toolu_x', name: 'teleport', input: {} },
            { type: 'tool_use', id: 'toolu_y', name: 'add', input: { a: 'two', b: 3 } },
          ],
          stop_reason: 'tool_use',
        },
        text('Sorry.'),
      ),
    );
    r.harness.send(r.sessionId, 'go');
    await idle(r);
    const [unknown, invalid] = ofType(r, 'agent.tool_result');
    expect(unknown?.payload).toMatchObject({ tool_use_id: 'toolu_x', is_error: true });
    expect(JSON.stringify(unknown?.payload.content)).toMatch(/no tool named \\"teleport\\". Available tools: add, multiply, wait/);
    expect(invalid?.payload).toMatchObject({ tool_use_id: 'toolu_y', is_error: true });
    expect(JSON.stringify(invalid?.payload.content)).toMatch(/Invalid input: a: /);
    expect(r.hand.runs.map((run) => run.name)).toEqual(['add']);
  });

  it('refuses two hands that offer the same tool name, saying which', async () => {
    const r = await rig(script(text('unused')), { hands: [new MathHand({ id: 'left' }), new MathHand({ id: 'right' })] });
    r.harness.send(r.sessionId, 'go');
    const done = await idle(r);
    expect(done.payload.stop_reason).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/Two hands offer a tool named "add" \(left and right\)/),
    });
    expect(r.server.requests).toHaveLength(0);
  });
});

describe('stop reasons', () => {
  it('continues a response cut by max_tokens, sending the partial answer back as prefill', async () => {
    const r = await rig(script(text('The first half, ', 'max_tokens'), text('and the second half.')));
    r.harness.configure(r.sessionId, { model: 'claude-haiku-4-5' });
    r.harness.send(r.sessionId, 'Write it');
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');
    expect(r.server.requests[1]?.body.messages.at(-1)).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text', text: 'The first half,' }],
    });
    expect(ofType(r, 'agent.message')).toHaveLength(2);
  });

  it('continues with an explicit prompt on a model that thinks adaptively (no prefill there)', async () => {
    const r = await rig(script(text('The first half, ', 'max_tokens'), text('and the second half.')));
    r.harness.send(r.sessionId, 'Write it');
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');
    expect(r.server.requests[1]?.body.messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'text', text: CONTINUE_PROMPT }] });
  });

  it('gives up continuing after a bounded number of max_tokens stops, and says how to fix it', async () => {
    const r = await rig(() => ({ kind: 'message', message: text('more ', 'max_tokens') }));
    r.harness.send(r.sessionId, 'Write forever');
    const done = await idle(r);
    expect(done.payload.stop_reason).toMatchObject({ type: 'max_tokens', message: expect.stringMatching(/Raise max tokens/) });
    expect(r.server.requests.length).toBe(4);
  });

  it.each([
    ['refusal', 'refusal'],
    ['stop_sequence', 'stop_sequence'],
    ['end_turn', 'end_turn'],
  ] as const)('ends the turn on %s', async (stop, idleReason) => {
    const r = await rig(script(text('…', stop)));
    r.harness.send(r.sessionId, 'q');
    expect((await idle(r)).payload.stop_reason.type).toBe(idleReason);
    expect(ofType(r, 'span.model_request_end')[0]?.payload.stop_reason).toBe(stop);
  });

  it('continues after pause_turn', async () => {
    const r = await rig(script(text('Working on it', 'pause_turn'), text('Finished.')));
    r.harness.send(r.sessionId, 'q');
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');
    expect(r.server.requests).toHaveLength(2);
  });

  it('compacts and carries on after model_context_window_exceeded', async () => {
    const r = await rig(
      script(
        text('first answer'),
        text('second answer, cut', 'model_context_window_exceeded'),
        text('Summary: the user asked twice.'),
        text('Carrying on.'),
      ),
    );
    r.harness.send(r.sessionId, 'first question');
    await idle(r);
    r.harness.send(r.sessionId, 'second question');
    await waitFor(r, 'session.status_idle', (e) => e.seq > 6);
    const compacted = ofType(r, 'agent.thread_context_compacted');
    expect(compacted).toHaveLength(1);
    expect(compacted[0]?.payload.summary).toBe('Summary: the user asked twice.');
    const last = r.server.requests.at(-1)?.body.messages ?? [];
    expect(JSON.stringify(last[0])).toContain(SUMMARY_PREAMBLE.trim().slice(0, 40));
    expect(ofType(r, 'session.status_idle').at(-1)?.payload.stop_reason.type).toBe('end_turn');
  });
});

describe('faults', () => {
  it('retries an overloaded error mid-stream, recording the retry, and discards the partial text', async () => {
    const r = await rig(
      script(
        {
          kind: 'message',
          message: text('This will be cut off in the middle'),
          errorAfterFrames: { frames: 5, type: 'overloaded_error', message: 'Overloaded' },
        },
        text('Second try worked.'),
      ),
    );
    r.harness.send(r.sessionId, 'q');
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');
    const [error] = ofType(r, 'session.error');
    expect(error?.payload).toMatchObject({ error: { type: 'overloaded_error' }, retry_status: { type: 'retrying', attempt: 1 } });
    expect(ofType(r, 'agent.message').map((e) => e.payload.content[0]?.text)).toEqual(['Second try worked.']);
    expect(ofType(r, 'span.model_request_end').map((e) => e.payload.is_error)).toEqual([true, false]);
    expect(r.live.some((u) => u.type === 'response_discarded')).toBe(true);
  });

  it.each([
    [
      '429 with retry-after',
      { kind: 'http-error', status: 429, type: 'rate_limit_error', message: 'Slow down', retryAfterSeconds: 1 } as Reply,
      'rate_limit_error',
    ],
    ['500', { kind: 'http-error', status: 500, type: 'api_error', message: 'Internal error' } as Reply, 'api_error'],
    ['529 overloaded', { kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' } as Reply, 'overloaded_error'],
    [
      'a dropped connection',
      { kind: 'message', message: text('cut off by a dropped connection here'), dropAfterFrames: 4 } as Reply,
      'connection_error',
    ],
  ])('retries %s with backoff', async (_label, fault, type) => {
    const r = await rig(script(fault, text('Recovered.')));
    r.harness.send(r.sessionId, 'q');
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');
    const [error] = ofType(r, 'session.error');
    expect(error?.payload.error.type).toBe(type);
    if (error?.payload.retry_status.type !== 'retrying') throw new Error('expected a retry');
    if (fault.kind === 'http-error' && fault.retryAfterSeconds) expect(error.payload.retry_status.delay_ms).toBeGreaterThanOrEqual(1000);
  });

  it('stops retrying after the configured attempts', async () => {
    const r = await rig(() => ({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' }), {
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    });
    r.harness.send(r.sessionId, 'q');
    const done = await idle(r);
    expect(done.payload.stop_reason).toMatchObject({
      type: 'retries_exhausted',
      message: expect.stringMatching(/kept failing \(overloaded_error 529/),
    });
    expect(ofType(r, 'session.error').map((e) => e.payload.retry_status.type)).toEqual(['retrying', 'retrying', 'exhausted']);
    expect(r.server.requests).toHaveLength(3);
  });

  it('ends the turn on a refused key with a message that says how to fix it', async () => {
    const r = await rig(script(text('unused')), { keyProvider: () => 'sk-ant-wrong' });
    r.harness.send(r.sessionId, 'q');
    const done = await idle(r);
    expect(done.payload.stop_reason).toMatchObject({
      type: 'authentication_failed',
      message: expect.stringMatching(/refused the API key.*Settings → Credentials/),
    });
    expect(ofType(r, 'session.error')[0]?.payload).toMatchObject({
      error: { type: 'authentication_error', status: 401 },
      retry_status: { type: 'terminal' },
    });
    expect(JSON.stringify(events(r))).not.toContain('sk-ant-wrong');
  });

  it('ends the turn when no key is set, and runs once one is', async () => {
    let key: string | null = null;
    const r = await rig(script(text('Now it works.')), { keyProvider: () => key });
    r.harness.send(r.sessionId, 'q');
    expect((await idle(r)).payload.stop_reason).toEqual({ type: 'authentication_failed', message: NO_KEY_MESSAGE });
    key = KEY;
    r.harness.send(r.sessionId, 'again');
    await waitFor(r, 'session.status_idle', (e) => e.payload.stop_reason.type === 'end_turn');
    // The first message stayed in the log, so the model sees both.
    expect(JSON.stringify(r.server.requests[0]?.body.messages)).toContain('"q"');
  });

  it('ends the turn on a request the API refuses, with its message', async () => {
    const r = await rig(script({ kind: 'http-error', status: 400, type: 'invalid_request_error', message: 'max_tokens: too large' }));
    r.harness.send(r.sessionId, 'q');
    const done = await idle(r);
    expect(done.payload.stop_reason).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/invalid_request_error 400: max_tokens: too large/),
    });
  });
});

describe('context', () => {
  it('compacts a long session into a stored summary and keeps the raw log whole', async () => {
    const respond: Respond = (request) => {
      const messages = request.body.messages;
      const lastText = JSON.stringify(messages.at(-1));
      if (lastText.includes(COMPACTION_INSTRUCTION.slice(0, 30)))
        return { kind: 'message', message: text('SUMMARY: the user asked many long questions.') };
      return { kind: 'message', message: text(`answer ${'z'.repeat(3000)}`) };
    };
    const r = await rig(respond);
    r.harness.configure(r.sessionId, { context_budget: 6000 });
    for (let i = 0; i < 8; i++) {
      r.harness.send(r.sessionId, `question ${i} ${'q'.repeat(3000)}`);
      await waitFor(
        r,
        'session.status_idle',
        (e) => ofType(r, 'user.message').length === i + 1 && e.seq > (ofType(r, 'user.message').at(-1)?.seq ?? 0),
      );
    }
    const compactions = ofType(r, 'agent.thread_context_compacted');
    expect(compactions.length).toBeGreaterThan(0);
    expect(compactions[0]?.payload.tokens_after).toBeLessThan(compactions[0]?.payload.tokens_before ?? 0);
    expect(ofType(r, 'span.model_request_start').filter((e) => e.payload.purpose === 'compaction')).toHaveLength(compactions.length);
    // The raw log still holds every message and answer.
    expect(ofType(r, 'user.message')).toHaveLength(8);
    expect(ofType(r, 'agent.message').filter((e) => e.payload.content[0]?.text.startsWith('answer'))).toHaveLength(8);
    // The last request starts from the summary and is not over budget.
    const last = r.server.requests.at(-1)?.body;
    expect(JSON.stringify(last?.messages[0])).toContain('SUMMARY: the user asked many long questions.');
    expect(JSON.stringify(last).length / 4).toBeLessThan(6000 * 1.2);
    expect(ofType(r, 'session.status_idle').every((e) => e.payload.stop_reason.type === 'end_turn')).toBe(true);
  });
});

describe('many brains', () => {
  it('runs many sessions at once in one process', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const r = await rig(async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight--;
      return { kind: 'message', message: text('done') };
    });
    const ids = Array.from({ length: 20 }, (_, i) => r.store.createSession({ title: `s${i}` }).id);
    const idles = ids.map(
      (id) =>
        new Promise<void>((resolve) => {
          const stop = r.store.subscribe(id, (event) => {
            if (event.type === 'session.status_idle') {
              stop();
              resolve();
            }
          });
        }),
    );
    for (const id of ids) r.harness.send(id, 'go');
    await Promise.all(idles);
    expect(maxInFlight).toBeGreaterThan(10);
    for (const id of ids) expect(r.store.getEvents(id).at(-1)?.type).toBe('session.status_idle');
  });
});

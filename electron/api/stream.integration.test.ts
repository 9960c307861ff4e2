// The event stream through the official SDK: frames as events become durable until the session is
// idle, the live previews with event_deltas[] ahead of the durable message, reconnect + list as the
// SDK's own session runner does (every event exactly once), an approval answered through the API
// on a real Docker hand (allow runs it, deny does not), an outcome graded, a budget reached, and a
// client that does not read dropped with a clear close.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { BetaManagedAgentsStreamSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema';
import { accumulateManagedAgentsEvent, type AccumulatedEvent } from '@anthropic-ai/sdk/lib/sessions/accumulate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SessionSummarySchema } from '#shared/sessions';
import { API_TOKEN, apiRig, endTurn, type ApiRig } from '#test/support/api-rig';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import type { Reply } from '#test/support/model-server';
import { externalId } from './ids.ts';
import { endSessionStreams, openStreamCount, streamSettings } from './stream.ts';

const docker = await requireDocker();
let rig: ApiRig;

beforeEach(async () => {
  rig = await apiRig();
});

afterEach(async () => {
  await rig.close();
});

async function launch(arg: Record<string, unknown> = {}): Promise<{ id: string; sesn: string }> {
  const outcome = await rig.host.dispatch('sessions-launch', { title: 'api stream', ...arg });
  if (!outcome.ok) throw new Error(outcome.error.message);
  const id = SessionSummarySchema.parse(outcome.result).id;
  return { id, sesn: externalId('session', id) };
}

type Frame = BetaManagedAgentsStreamSessionEvents;

/** Opens the stream and returns a reader that collects frames until `until` says stop (or times out). */
async function openStream(sesn: string, params: { event_deltas?: Array<'agent.message' | 'agent.thinking'> } = {}) {
  const stream = await rig.client.beta.sessions.events.stream(sesn, params);
  const iterator = stream[Symbol.asyncIterator]();
  const frames: Frame[] = [];
  return {
    frames,
    async until(stop: (frame: Frame) => boolean, timeoutMs = 30_000): Promise<Frame[]> {
      const timer = setTimeout(() => stream.controller.abort(), timeoutMs);
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done === true) throw new Error(`the stream ended; frames: ${frames.map((frame) => frame.type).join(', ')}`);
          frames.push(next.value);
          if (stop(next.value)) return frames;
        }
      } finally {
        clearTimeout(timer);
      }
    },
    close(): void {
      stream.controller.abort();
    },
  };
}

const idle = (frame: Frame): boolean => frame.type === 'session.status_idle';
const message = (text: string) => ({ type: 'user.message' as const, content: [{ type: 'text' as const, text }] });

describe('the event stream', () => {
  it('streams a turn as its events become durable, the same events the list has; an outcome graded shows its evaluation', async () => {
    const { id, sesn } = await launch();
    const stream = await openStream(sesn);
    rig.script.push(() => endTurn('Streaming works.'));
    await rig.client.beta.sessions.events.send(sesn, { events: [message('hello')] });
    const frames = await stream.until(idle);
    stream.close();
    expect(frames.map((frame) => frame.type)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'agent.message',
      'span.model_request_end',
      'session.status_idle',
    ]);
    const listed = [];
    for await (const event of rig.client.beta.sessions.events.list(sesn)) listed.push(event);
    expect(frames).toEqual(listed);

    // An outcome: the turn's end is graded, and the evaluation arrives on the stream.
    const graded = await openStream(sesn);
    rig.script.push(
      () => endTurn('Written.'),
      () => ({
        kind: 'message',
        message: {
          content: [{ type: 'tool_use', name: 'record_verdict', input: { verdict: 'satisfied', explanation: 'Done well.', criteria: [] } }],
          stop_reason: 'tool_use',
        },
      }),
    );
    await rig.client.beta.sessions.events.send(sesn, {
      events: [
        { type: 'user.define_outcome', description: 'Write it', rubric: { type: 'text', content: 'It is written.' } },
        message('go'),
      ],
    });
    const evaluation = await graded.until((frame) => frame.type === 'span.outcome_evaluation_end');
    graded.close();
    const end = evaluation.at(-1);
    expect(end).toMatchObject({ type: 'span.outcome_evaluation_end', result: 'satisfied', explanation: 'Done well.', iteration: 0 });
    const defined = evaluation.find((frame) => frame.type === 'user.define_outcome');
    expect(
      end?.type === 'span.outcome_evaluation_end' && defined?.type === 'user.define_outcome' && end.outcome_id === defined.outcome_id,
    ).toBe(true);
    expect(rig.store.getEvents(id, { types: ['span.outcome_evaluation_end'] })).toHaveLength(1);
  });

  it('opens with the latest turn: a program that sends, then streams (the SDK example), sees its turn and its end', async () => {
    const { id, sesn } = await launch();
    rig.script.push(() => endTurn('first answer'));
    await rig.client.beta.sessions.events.send(sesn, { events: [message('first')] });
    rig.script.push(() => endTurn('second answer'));
    await rig.client.beta.sessions.events.send(sesn, { events: [message('second')] });
    // Both turns end before any stream opens.
    while (rig.store.getEvents(id, { types: ['session.status_idle'] }).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const stream = await openStream(sesn);
    const frames = await stream.until(idle, 5_000);
    stream.close();
    const listed = await rig.client.beta.sessions.events.list(sesn, { limit: 100 });
    const secondTurn = listed.data.slice(listed.data.findLastIndex((event) => event.type === 'user.message'));
    expect(frames.map((frame) => frame.type)).toEqual(secondTurn.map((event) => event.type));
    expect(frames.map((frame) => ('id' in frame ? frame.id : ''))).toEqual(secondTurn.map((event) => event.id));
    expect(JSON.stringify(frames)).toContain('second answer');
    expect(JSON.stringify(frames)).not.toContain('first answer');
  });

  it('sends event_start and event_delta previews before the durable agent.message', async () => {
    const { sesn } = await launch();
    const stream = await openStream(sesn, { event_deltas: ['agent.message'] });
    const text = 'one two three four five six';
    rig.script.push(() => ({ kind: 'message', frameDelayMs: 5, message: { content: [{ type: 'text', text }], stop_reason: 'end_turn' } }));
    await rig.client.beta.sessions.events.send(sesn, { events: [message('count')] });
    const frames = await stream.until(idle);
    stream.close();
    const start = frames.findIndex((frame) => frame.type === 'event_start');
    const durable = frames.findIndex((frame) => frame.type === 'agent.message');
    expect(start).toBeGreaterThan(-1);
    expect(start).toBeLessThan(durable);
    const preview = frames[start];
    const deltas = frames.filter((frame) => frame.type === 'event_delta');
    expect(deltas.length).toBeGreaterThan(0);
    expect(frames.lastIndexOf(deltas.at(-1)!)).toBeLessThan(durable);
    expect(preview?.type === 'event_start' && preview.event.type).toBe('agent.message');
    for (const delta of deltas)
      expect(delta.type === 'event_delta' && preview?.type === 'event_start' && delta.event_id === preview.event.id).toBe(true);
    expect(deltas.map((delta) => (delta.type === 'event_delta' ? delta.delta.content.text : '')).join('')).toBe(text);
    // The preview and the stored message are one event: the id event_start promised is the stored one.
    expect(preview?.type === 'event_start' && preview.event.id).toBe(frames[durable]?.type === 'agent.message' && frames[durable].id);
    const listed = await rig.client.beta.sessions.events.list(sesn, { types: ['agent.message'] });
    expect(listed.data.map((event) => event.id)).toContain(preview?.type === 'event_start' ? preview.event.id : '');
    // The SDK's own accumulator: the preview builds the text, the durable message then replaces it.
    let accumulated: AccumulatedEvent | undefined;
    for (const frame of frames.slice(0, durable)) accumulated = accumulateManagedAgentsEvent(accumulated, frame);
    expect(accumulated?.content).toEqual([{ type: 'text', text }]);
    accumulated = accumulateManagedAgentsEvent(accumulated, frames[durable]!);
    expect(accumulated).toEqual(frames[durable]);
    // Without event_deltas a connection gets none (it opens with the last turn replayed: wait for the next one's end).
    const plain = await openStream(sesn);
    rig.script.push(() => endTurn('again'));
    await rig.client.beta.sessions.events.send(sesn, { events: [message('again')] });
    let idles = 0;
    const plainFrames = await plain.until((frame) => idle(frame) && ++idles === 2);
    plain.close();
    expect(plainFrames.some((frame) => frame.type === 'event_start' || frame.type === 'event_delta')).toBe(false);
  });

  it('previews thinking start-only when asked for agent.thinking, and never its text', async () => {
    const { sesn } = await launch({ settings: { model: 'claude-sonnet-4-6', max_tokens: 4096, thinking_budget: 1024 } });
    const stream = await openStream(sesn, { event_deltas: ['agent.thinking'] });
    rig.script.push(() => ({
      kind: 'message',
      message: {
        content: [
          { type: 'thinking', thinking: 'private reasoning here', signature: 'sig-1' },
          { type: 'text', text: 'The answer.' },
        ],
        stop_reason: 'end_turn',
      },
    }));
    await rig.client.beta.sessions.events.send(sesn, { events: [message('think')] });
    const frames = await stream.until(idle);
    stream.close();
    const types = frames.map((frame) => frame.type);
    expect(types.filter((type) => type === 'event_start')).toHaveLength(1);
    expect(types).not.toContain('event_delta');
    const start = frames[types.indexOf('event_start')];
    expect(start?.type === 'event_start' && start.event.type).toBe('agent.thinking');
    expect(types.indexOf('event_start')).toBeLessThan(types.indexOf('agent.thinking'));
    expect(start?.type === 'event_start' && start.event.id).toBe(frames.find((frame) => frame.type === 'agent.thinking')?.id);
    expect(frames.find((frame) => frame.type === 'agent.thinking')).toEqual({
      id: expect.stringMatching(/^sevt_/),
      type: 'agent.thinking',
      processed_at: expect.any(String),
    });
    expect(JSON.stringify(frames)).not.toContain('private reasoning');
  });

  it('a client that reconnects and lists (the SDK runner pattern) sees every event exactly once', async () => {
    const { id, sesn } = await launch();
    // The session keeps working while the client comes and goes: ten turns sent one after another.
    const work = (async () => {
      for (let turn = 0; turn < 10; turn++) {
        const before = rig.store.getEvents(id, { types: ['session.status_idle'] }).length;
        rig.script.push(() => ({
          kind: 'message',
          frameDelayMs: 2,
          message: { content: [{ type: 'text', text: `turn ${turn}` }], stop_reason: 'end_turn' },
        }));
        await rig.client.beta.sessions.events.send(sesn, { events: [message(`go ${turn}`)] });
        while (rig.store.getEvents(id, { types: ['session.status_idle'] }).length === before)
          await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const seen = new Map<string, number>();
    const note = (eventId: string): void => {
      seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
    };
    for (let connection = 0; connection < 4; connection++) {
      // As the SDK's runner: attach the stream first, then read the history; dedupe by id.
      const stream = await openStream(sesn);
      const known = new Set(seen.keys());
      for await (const event of rig.client.beta.sessions.events.list(sesn, { limit: 1000 })) if (!known.has(event.id)) note(event.id);
      const listedNow = new Set(seen.keys());
      let taken = 0;
      await stream.until((frame) => {
        if ('id' in frame && typeof frame.id === 'string' && !listedNow.has(frame.id)) note(frame.id);
        return ++taken >= 7;
      });
      stream.close();
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await work;
    // The last connection: the rest of the session.
    const last = await openStream(sesn);
    const known = new Set(seen.keys());
    for await (const event of rig.client.beta.sessions.events.list(sesn, { limit: 1000 })) if (!known.has(event.id)) note(event.id);
    last.close();
    const everything: string[] = [];
    for await (const event of rig.client.beta.sessions.events.list(sesn, { limit: 1000 })) everything.push(event.id);
    expect(everything).toHaveLength(60);
    expect([...seen.keys()].sort()).toEqual([...everything].sort());
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  });

  it("the SDK's own session tool runner answers custom tool calls over the stream, the list and send", async () => {
    const { id, sesn } = await launch({
      custom_tools: [
        {
          name: 'lookup_order',
          description: 'Looks an order up.',
          input_schema: { type: 'object', properties: { order: { type: 'string' } } },
        },
      ],
    });
    const lookups: string[] = [];
    const lookup = betaTool({
      name: 'lookup_order',
      description: 'Looks an order up.',
      inputSchema: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] },
      run: ({ order }) => {
        lookups.push(order);
        return `Order ${order} ships today.`;
      },
    });
    rig.script.push(
      () => ({
        kind: 'message',
        message: { content: [{ type: 'tool_use', name: 'lookup_order', input: { order: '1234' } }], stop_reason: 'tool_use' },
      }),
      () => endTurn('It ships today.'),
    );
    // A call made before the runner attaches is found in the history it reads.
    await rig.client.beta.sessions.events.send(sesn, { events: [message('Where is order 1234?')] });
    const runner = rig.client.beta.sessions.events.toolRunner(sesn, {
      tools: [lookup],
      maxIdleMs: 300,
      signal: AbortSignal.timeout(20_000),
    });
    const calls = [];
    for await (const call of runner) calls.push(call);
    expect(calls).toEqual([expect.objectContaining({ name: 'lookup_order', posted: true, isError: false })]);
    expect(lookups).toEqual(['1234']);
    const last = rig.store.getEvents(id, { direction: 'backward', limit: 1 })[0];
    expect(last?.type === 'session.status_idle' && last.payload.stop_reason.type).toBe('end_turn');
    expect(JSON.stringify(rig.model.requests[1]?.body.messages.at(-1))).toContain('Order 1234 ships today.');
  });

  it('reaches a budget: session.status_idle with budget_reached, and session.usage with the cost cap', async () => {
    const { sesn } = await launch({
      settings: { model: 'claude-sonnet-4-6' },
      budget: { type: 'limit', max_list_cost: { amount: '1', currency: 'USD' } },
    });
    const stream = await openStream(sesn);
    const expensive: Reply = {
      kind: 'message',
      message: {
        content: [{ type: 'text', text: 'That cost something.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 20_000, output_tokens: 10 },
      },
    };
    rig.script.push(() => expensive);
    await rig.client.beta.sessions.events.send(sesn, { events: [message('spend')] });
    const first = await stream.until(idle);
    expect(first.at(-1)).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const usage = first.find((frame) => frame.type === 'session.usage');
    expect(usage).toMatchObject({
      type: 'session.usage',
      usage: { input_tokens: 20_000, output_tokens: 10, list_cost: { amount: expect.stringMatching(/^\d+$/), currency: 'USD' } },
      budget: { type: 'limit', max_list_cost: { amount: '1', currency: 'USD' } },
    });
    await rig.client.beta.sessions.events.send(sesn, { events: [message('spend more')] });
    const second = await stream.until(idle);
    stream.close();
    expect(second.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'budget_reached' } });
  });

  it("a deleted session's stream ends with session.deleted (the cockpit's delete at the next ping, the API's at once)", async () => {
    const saved = { ...streamSettings };
    streamSettings.pingMs = 20;
    try {
      const first = await launch();
      const stream = await openStream(first.sesn);
      const outcome = await rig.host.dispatch('sessions-delete', { sessionId: first.id });
      expect(outcome.ok).toBe(true);
      const frames = await stream.until((frame) => frame.type === 'session.deleted', 5_000);
      expect(frames).toEqual([{ id: expect.stringMatching(/^sevt_/), type: 'session.deleted', processed_at: expect.any(String) }]);
      await expect(stream.until(() => true, 5_000)).rejects.toThrow(/the stream ended/);

      streamSettings.pingMs = 60_000;
      const second = await launch();
      const other = await openStream(second.sesn);
      endSessionStreams(second.id);
      expect((await other.until(() => true, 5_000)).map((frame) => frame.type)).toEqual(['session.deleted']);
      expect(openStreamCount()).toBe(0);
    } finally {
      Object.assign(streamSettings, saved);
    }
  });

  it('drops a client that does not read once its unsent frames pass the bound, with an error frame at the end', async () => {
    const saved = { ...streamSettings };
    streamSettings.maxBufferedBytes = 256 * 1024;
    streamSettings.pingMs = 20;
    streamSettings.closeGraceMs = 60_000;
    try {
      const { id, sesn } = await launch();
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = httpRequest(
          `${rig.api.baseURL}/v1/sessions/${sesn}/events/stream`,
          { headers: { authorization: `Bearer ${API_TOKEN}` } },
          resolve,
        );
        request.on('error', reject);
        request.end();
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/text\/event-stream/);
      // Read until a ping comes (within 20 ms), then stop reading.
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
      };
      response.on('data', onData);
      while (!text.includes(': ping')) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(text.startsWith(': connected\n\n')).toBe(true);
      response.pause();
      expect(openStreamCount()).toBe(1);
      // The session writes much more than the bound (each message ~200 KB) while nobody reads (appended as the harness would).
      const big = 'x'.repeat(200_000);
      let sent = 0;
      while (openStreamCount() > 0 && sent < 400) {
        rig.store.emitEvent(id, { type: 'agent.message', payload: { content: [{ type: 'text', text: big }] } });
        sent++;
        if (sent % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(openStreamCount()).toBe(0);
      // Reading again, the client gets what was queued, then the error frame, then the end.
      const ended = new Promise((resolve) => response.once('end', resolve));
      response.resume();
      await ended;
      expect(text.length).toBeGreaterThan(streamSettings.maxBufferedBytes);
      expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: .*read it more slowly than the session wrote it/s);
    } finally {
      Object.assign(streamSettings, saved);
    }
  }, 60_000);
});

describe.runIf(docker)('approvals through the API', () => {
  it('a tool use that asks waits for user.tool_confirmation: allow runs it, deny answers the model', async () => {
    const bash = (command: string): Reply => ({
      kind: 'message',
      message: { content: [{ type: 'tool_use', name: 'box__bash', input: { command } }], stop_reason: 'tool_use' },
    });
    const { id, sesn } = await launch({
      hands: [{ name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } }],
      policies: [{ hand: 'box', tool: 'bash', policy: 'always_ask' }],
    });
    const stream = await openStream(sesn);
    rig.script.push(
      () => bash('echo allowed'),
      () => endTurn('Ran it.'),
    );
    await rig.client.beta.sessions.events.send(sesn, { events: [message('run it')] });
    const asked = await stream.until(idle);
    const use = asked.find((frame) => frame.type === 'agent.tool_use');
    expect(use).toMatchObject({
      type: 'agent.tool_use',
      name: 'box__bash',
      input: { command: 'echo allowed' },
      evaluated_permission: 'ask',
    });
    expect(asked.at(-1)).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: [use?.id] } });
    expect(rig.store.getEvents(id, { types: ['agent.tool_result'] })).toEqual([]);

    const confirmed = await rig.client.beta.sessions.events.send(sesn, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: use!.id, result: 'allow' }],
    });
    expect(confirmed.data).toEqual([
      {
        id: expect.stringMatching(/^sevt_/),
        type: 'user.tool_confirmation',
        tool_use_id: use!.id,
        result: 'allow',
        processed_at: expect.any(String),
      },
    ]);
    const ran = await stream.until(idle, 60_000);
    const result = ran.find((frame) => frame.type === 'agent.tool_result');
    expect(result).toMatchObject({ type: 'agent.tool_result', tool_use_id: use!.id, is_error: false });
    expect(JSON.stringify(result)).toContain('allowed');
    expect(ran.at(-1)).toMatchObject({ stop_reason: { type: 'end_turn' } });

    // Deny: nothing runs, and the model reads the message.
    rig.script.push(
      () => bash('rm -rf /'),
      () => endTurn('Understood.'),
    );
    await rig.client.beta.sessions.events.send(sesn, { events: [message('again')] });
    const askedAgain = await stream.until(idle);
    const second = askedAgain.filter((frame) => frame.type === 'agent.tool_use').at(-1);
    const before = rig.model.requests.length;
    await rig.client.beta.sessions.events.send(sesn, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: second!.id, result: 'deny', deny_message: 'Not that.' }],
    });
    const denied = await stream.until(idle);
    stream.close();
    const deniedResult = denied.filter((frame) => frame.type === 'agent.tool_result').at(-1);
    expect(deniedResult).toMatchObject({ tool_use_id: second!.id, is_error: true });
    expect(JSON.stringify(rig.model.requests[before]?.body.messages.at(-1))).toContain('Not that.');
    // A confirmation of something that does not wait is refused, and nothing is recorded.
    const count = rig.store.getEvents(id).length;
    await expect(
      rig.client.beta.sessions.events.send(sesn, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: second!.id, result: 'allow' }],
      }),
    ).rejects.toThrow(/not waiting for a confirmation/);
    expect(rig.store.getEvents(id)).toHaveLength(count);
    const stored = rig.store.getEvents(id, { types: ['user.tool_confirmation'] }) as Array<
      Extract<StoredEvent, { type: 'user.tool_confirmation' }>
    >;
    expect(stored.map((event) => event.payload.result)).toEqual(['allow', 'deny']);
  }, 120_000);
});

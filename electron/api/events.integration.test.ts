// Events through the Managed Agents API with the official SDK as the client: the list (types[],
// order, created_at, pages past one page, stable cursors), sending each kind of event (a message
// answered by the scripted model, an interrupt, an outcome graded), the service's shapes (tool
// uses named by event id), and bad input by raw HTTP — answered in the service's error shape with
// nothing recorded.
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SessionSummarySchema } from '#shared/sessions';
import { apiRig, endTurn, rawRequest, type ApiRig, type RawAnswer } from '#test/support/api-rig';
import { externalId } from './ids.ts';
import { MAX_BODY_BYTES } from './server.ts';

let rig: ApiRig;

beforeEach(async () => {
  rig = await apiRig();
});

afterEach(async () => {
  await rig.close();
});

async function launch(arg: Record<string, unknown> = {}): Promise<{ id: string; sesn: string }> {
  const outcome = await rig.host.dispatch('sessions-launch', { title: 'api events', ...arg });
  if (!outcome.ok) throw new Error(outcome.error.message);
  const id = SessionSummarySchema.parse(outcome.result).id;
  return { id, sesn: externalId('session', id) };
}

/** Resolves with the session's next idle after the `before` idles already in its log. */
async function idleAfter(id: string, before: number): Promise<Extract<StoredEvent, { type: 'session.status_idle' }>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const idles = rig.store.getEvents(id, { types: ['session.status_idle'] });
    if (idles.length > before) return idles[before] as Extract<StoredEvent, { type: 'session.status_idle' }>;
    if (Date.now() > deadline) throw new Error('no idle');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const idles = (id: string): number => rig.store.getEvents(id, { types: ['session.status_idle'] }).length;

async function all(client: Anthropic, sesn: string, query: Record<string, unknown> = {}): Promise<BetaManagedAgentsSessionEvent[]> {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sesn, query)) events.push(event);
  return events;
}

const raw = (path: string, init?: RequestInit): Promise<RawAnswer> => rawRequest(rig, path, init);

describe('events through the API', () => {
  it('sends a user.message and lists the turn in the service shape, by type, order, time and pages', async () => {
    const { id, sesn } = await launch();
    rig.script.push(() => endTurn('Hello from the model.'));
    const sent = await rig.client.beta.sessions.events.send(sesn, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Say hello' }] }],
    });
    expect(sent.data).toEqual([
      {
        id: expect.stringMatching(/^sevt_[0-9a-f]{32}$/),
        type: 'user.message',
        content: [{ type: 'text', text: 'Say hello' }],
        processed_at: expect.any(String),
      },
    ]);
    await idleAfter(id, 0);

    const events = await all(rig.client, sesn);
    expect(events.map((event) => event.type)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'agent.message',
      'span.model_request_end',
      'session.status_idle',
    ]);
    // Drover's own events (session.configured, …) stay out; ids are the log's own.
    const stored = rig.store.getEvents(id);
    expect(events[0]?.id).toBe(externalId('event', stored.find((event) => event.type === 'user.message')!.id));
    expect(events[0]?.id).toBe(sent.data?.[0]?.id);
    const end = events[4] as Extract<BetaManagedAgentsSessionEvent, { type: 'span.model_request_end' }>;
    expect(end.model_request_start_id).toBe(events[2]?.id);
    expect(end.model_usage).toEqual(expect.objectContaining({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) }));
    expect(events[5]).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' }, stop_details: null });
    expect(events[3]).toMatchObject({ type: 'agent.message', content: [{ type: 'text', text: 'Hello from the model.' }] });

    expect((await all(rig.client, sesn, { types: ['agent.message', 'user.message'] })).map((event) => event.type)).toEqual([
      'user.message',
      'agent.message',
    ]);
    expect((await all(rig.client, sesn, { order: 'desc' })).map((event) => event.id)).toEqual(events.map((event) => event.id).reverse());
    const idleAt = events[5]!.type === 'session.status_idle' ? events[5].processed_at : '';
    expect(await all(rig.client, sesn, { 'created_at[gte]': idleAt })).toEqual(expect.arrayContaining([events[5]]));
    expect(await all(rig.client, sesn, { 'created_at[gt]': idleAt })).toEqual([]);
    expect(await all(rig.client, sesn, { types: ['workflow_run.created'] })).toEqual([]);
  });

  it('pages past one page with stable cursors, in both orders, while the log grows', async () => {
    const { id, sesn } = await launch();
    for (let turn = 0; turn < 12; turn++) {
      const before = idles(id);
      await rig.client.beta.sessions.events.send(sesn, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: `turn ${turn}` }] }],
      });
      await idleAfter(id, before);
    }
    const everything = await all(rig.client, sesn, { limit: 1000 });
    expect(everything).toHaveLength(72);
    const first = await rig.client.beta.sessions.events.list(sesn, { limit: 7 });
    expect(first.data).toEqual(everything.slice(0, 7));
    expect(first.hasNextPage()).toBe(true);
    // A cursor names a place in the log: events appended after it was given do not shift the pages.
    const before = idles(id);
    await rig.client.beta.sessions.events.send(sesn, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'more' }] }] });
    await idleAfter(id, before);
    const second = await first.getNextPage();
    expect(second.data).toEqual(everything.slice(7, 14));
    const paged = await all(rig.client, sesn, { limit: 7 });
    expect(paged.map((event) => event.id)).toEqual((await all(rig.client, sesn, { limit: 1000 })).map((event) => event.id));
    expect(paged).toHaveLength(78);
    const backwards = await all(rig.client, sesn, { limit: 5, order: 'desc' });
    expect(backwards.map((event) => event.id)).toEqual(paged.map((event) => event.id).reverse());
    const messages = await all(rig.client, sesn, { limit: 4, types: ['user.message'] });
    expect(messages).toHaveLength(13);
  });

  it('user.interrupt stops a running turn; user.define_outcome is graded and the evaluation names its outcome', async () => {
    const { id, sesn } = await launch();
    // A slow answer, so the interrupt lands while it streams.
    rig.script.push(() => ({
      kind: 'message',
      frameDelayMs: 200,
      message: { content: [{ type: 'text', text: 'a long answer '.repeat(20) }], stop_reason: 'end_turn' },
    }));
    await rig.client.beta.sessions.events.send(sesn, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'talk' }] }] });
    await vi_waitFor(() => rig.store.getEvents(id, { types: ['span.model_request_start'] }).length === 1);
    const interrupted = await rig.client.beta.sessions.events.send(sesn, { events: [{ type: 'user.interrupt' }] });
    expect(interrupted.data).toEqual([{ id: expect.stringMatching(/^sevt_/), type: 'user.interrupt', processed_at: expect.any(String) }]);
    const stop = await idleAfter(id, 0);
    expect(stop.payload.stop_reason.type).toBe('interrupted');
    const listed = await all(rig.client, sesn, { types: ['session.status_idle'] });
    expect(listed).toEqual([expect.objectContaining({ stop_reason: { type: 'end_turn' } })]);

    // An outcome, then a message: the turn's end is graded.
    rig.script.push(
      () => endTurn('The file is written.'),
      () => ({
        kind: 'message',
        message: {
          content: [
            { type: 'tool_use', name: 'record_verdict', input: { verdict: 'satisfied', explanation: 'It is written.', criteria: [] } },
          ],
          stop_reason: 'tool_use',
        },
      }),
    );
    const defined = await rig.client.beta.sessions.events.send(sesn, {
      events: [
        {
          type: 'user.define_outcome',
          description: 'Write the file',
          rubric: { type: 'text', content: 'The file exists.' },
          max_iterations: 2,
        },
        { type: 'user.message', content: [{ type: 'text', text: 'write it' }] },
      ],
    });
    expect(defined.data?.map((event) => event.type)).toEqual(['user.define_outcome', 'user.message']);
    const outcome = defined.data?.[0];
    expect(outcome).toMatchObject({
      type: 'user.define_outcome',
      rubric: { type: 'text', content: 'The file exists.' },
      max_iterations: 2,
    });
    await idleAfter(id, 1);
    const spans = await all(rig.client, sesn, { types: ['span.outcome_evaluation_start', 'span.outcome_evaluation_end'] });
    expect(spans.map((span) => span.type)).toEqual(['span.outcome_evaluation_start', 'span.outcome_evaluation_end']);
    const outcomeIdOf = outcome?.type === 'user.define_outcome' ? outcome.outcome_id : '';
    expect(spans[1]).toMatchObject({
      type: 'span.outcome_evaluation_end',
      iteration: 0,
      result: 'satisfied',
      outcome_id: outcomeIdOf,
      outcome_evaluation_start_id: spans[0]?.id,
    });
  });

  it('a custom tool call is answered with user.custom_tool_result; a system.message reaches the model', async () => {
    const { id, sesn } = await launch({
      custom_tools: [
        {
          name: 'lookup_order',
          description: 'Looks an order up.',
          input_schema: { type: 'object', properties: { order: { type: 'string' } } },
        },
      ],
    });
    rig.script.push(
      () => ({
        kind: 'message',
        message: { content: [{ type: 'tool_use', name: 'lookup_order', input: { order: '1234' } }], stop_reason: 'tool_use' },
      }),
      () => endTurn('Your order ships today.'),
    );
    await rig.client.beta.sessions.events.send(sesn, {
      events: [
        { type: 'user.message', content: [{ type: 'text', text: 'Where is my order #1234?' }] },
        { type: 'system.message', content: [{ type: 'text', text: 'The customer is a VIP.' }] },
      ],
    });
    const waiting = await idleAfter(id, 0);
    expect(waiting.payload.stop_reason.type).toBe('requires_action');
    expect(JSON.stringify(rig.model.requests[0]?.body.system)).toContain('The customer is a VIP.');
    const [use] = await all(rig.client, sesn, { types: ['agent.custom_tool_use'] });
    expect(use).toMatchObject({ type: 'agent.custom_tool_use', name: 'lookup_order', input: { order: '1234' } });
    const [idle] = await all(rig.client, sesn, { types: ['session.status_idle'] });
    expect(idle).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: [use?.id] } });

    const answered = await rig.client.beta.sessions.events.send(sesn, {
      events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use!.id, content: [{ type: 'text', text: 'Ships today.' }] }],
    });
    expect(answered.data).toEqual([
      {
        id: expect.stringMatching(/^sevt_/),
        type: 'user.custom_tool_result',
        custom_tool_use_id: use!.id,
        content: [{ type: 'text', text: 'Ships today.' }],
        is_error: false,
        processed_at: expect.any(String),
      },
    ]);
    await idleAfter(id, 1);
    expect(JSON.stringify(rig.model.requests[1]?.body.messages.at(-1))).toContain('Ships today.');
    const types = (await all(rig.client, sesn)).map((event) => event.type);
    expect(types).toContain('system.message');
    expect(types.at(-1)).toBe('session.status_idle');
    // Answering it again is refused, and nothing is recorded.
    const count = rig.store.getEvents(id).length;
    await expect(
      rig.client.beta.sessions.events.send(sesn, {
        events: [
          { type: 'user.message', content: [{ type: 'text', text: 'and?' }] },
          { type: 'user.custom_tool_result', custom_tool_use_id: use!.id },
        ],
      }),
    ).rejects.toThrow(/not waiting for a result/);
    expect(rig.store.getEvents(id)).toHaveLength(count);
  });

  it('refuses bad input in the service shape and records nothing', async () => {
    const { id, sesn } = await launch();
    const count = () => rig.store.getEvents(id).length;
    const before = count();
    const unknown = externalId('session', '00000000-0000-4000-8000-000000000000');
    expect(await raw(`/v1/sessions/${unknown}/events`)).toMatchObject({
      status: 404,
      body: { type: 'error', error: { type: 'not_found_error' } },
    });
    expect((await raw(`/v1/sessions/nonsense/events/stream`)).status).toBe(404);
    await expect(rig.client.beta.sessions.events.list(unknown)).rejects.toBeInstanceOf(Anthropic.NotFoundError);

    const post = (body: string) => raw(`/v1/sessions/${sesn}/events`, { method: 'POST', body });
    const badType = await post(
      JSON.stringify({ events: [{ type: 'user.message', content: [{ type: 'text', text: 'ok' }] }, { type: 'user.shout' }] }),
    );
    expect(badType).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error' } } });
    expect(badType.body.error?.message).toMatch(/events\.1\.type: not an event Drover takes/);
    expect((await post('{"events": [')).body.error?.message).toBe('The request body is not valid JSON.');
    const extra = await post(JSON.stringify({ events: [{ type: 'user.interrupt' }], extra: 1 }));
    expect(extra.body.error?.message).toMatch(/extra/);
    const big = await post(
      JSON.stringify({ events: [{ type: 'user.message', content: [{ type: 'text', text: 'x'.repeat(MAX_BODY_BYTES) }] }] }),
    );
    expect(big).toMatchObject({ status: 413, body: { error: { type: 'request_too_large' } } });
    // One bad event in a batch: none of it is recorded.
    const half = await post(
      JSON.stringify({
        events: [
          { type: 'user.message', content: [{ type: 'text', text: 'first' }] },
          { type: 'user.tool_confirmation', tool_use_id: externalId('event', '00000000-0000-4000-8000-000000000001'), result: 'allow' },
        ],
      }),
    );
    expect(half.status).toBe(400);
    expect(half.body.error?.message).toMatch(/not waiting for a confirmation/);
    // Each fits the body, the second not an event: neither is recorded.
    const image = (bytes: number) => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(bytes) } });
    const tooBig = await post(
      JSON.stringify({
        events: [
          { type: 'user.message', content: [image(1024)] },
          { type: 'user.message', content: [image(9 * 1024 * 1024)] },
        ],
      }),
    );
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error?.message).toMatch(/events\[1\]: its content is 9\.0 MiB; one event holds at most 8 MiB/);
    const urlImage = await post(
      JSON.stringify({
        events: [{ type: 'user.message', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }],
      }),
    );
    expect(urlImage.body.error?.message).toMatch(/base64 data only/);
    const misplaced = await post(
      JSON.stringify({ events: [{ type: 'system.message', content: [{ type: 'text', text: 'first' }] }, { type: 'user.interrupt' }] }),
    );
    expect(misplaced.body.error?.message).toMatch(/a system.message goes last in its request/);
    const toolResult = await post(JSON.stringify({ events: [{ type: 'user.tool_result', tool_use_id: 'sevt_x' }] }));
    expect(toolResult.body.error?.message).toMatch(/self-hosted/);
    expect((await raw(`/v1/sessions/${sesn}/events?types[]=nope`)).body.error?.message).toMatch(/"nope", which is not an event type/);
    expect((await raw(`/v1/sessions/${sesn}/events?colour=red`)).body.error?.message).toMatch(/no "colour" parameter/);
    expect((await raw(`/v1/sessions/${sesn}/events?page=garbage`)).status).toBe(400);
    const queried = await raw(`/v1/sessions/${sesn}/events?dry_run=1`, {
      method: 'POST',
      body: JSON.stringify({ events: [{ type: 'user.interrupt' }] }),
    });
    expect(queried.body.error?.message).toMatch(/takes no query parameters \(got "dry_run"\)/);
    expect((await raw(`/v1/sessions/${sesn}/events?limit=5000`)).status).toBe(400);
    expect((await raw(`/v1/sessions/${sesn}/events/stream?event_deltas[]=agent.tool_use`)).status).toBe(400);
    await expect(
      rig.client.beta.sessions.events.send(sesn, { events: [{ type: 'user.message', content: [{ type: 'text', text: '   ' }] }] }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(count()).toBe(before);
  });
});

async function vi_waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

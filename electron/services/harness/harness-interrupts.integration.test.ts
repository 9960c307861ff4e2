// The brain's interrupts and statelessness against the real SDK and a local Messages API server,
// a real SQLite store in a temp dir, and a hand that runs real local functions: an interrupt lands
// at once, and a fresh harness carries on from the log alone, with nothing lost or done twice.
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import type { LiveUpdate } from '#shared/harness';
import type { Hand } from '#services/hands/hand';
import { MathHand } from '#test/support/math-hand';
import { cleanUpRigs, events, idle, KEY, ofType, rig, script, text, types, waitFor } from '#test/support/harness-rig';
import { Harness } from './harness.ts';

afterEach(cleanUpRigs);

describe('interrupts', () => {
  it('stops a stream at once and keeps what the user saw', async () => {
    const r = await rig(script({ kind: 'message', message: text('word '.repeat(400)), frameDelayMs: 20 }));
    const firstDelta = new Promise<void>((resolve) => {
      const original = r.live.push.bind(r.live);
      r.live.push = (...updates: LiveUpdate[]) => {
        if (updates.some((u) => u.type === 'delta')) resolve();
        return original(...updates);
      };
    });
    r.harness.send(r.sessionId, 'Talk a lot');
    await firstDelta;
    r.harness.interrupt(r.sessionId, 'enough');
    const done = await idle(r);
    expect(done.payload.stop_reason).toEqual({ type: 'interrupted', message: 'Stopped by the user.' });
    const kept = ofType(r, 'agent.message')[0]?.payload.content[0]?.text ?? '';
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan('word '.repeat(400).length);
    expect(ofType(r, 'span.model_request_end')[0]?.payload).toMatchObject({ is_error: false, stop_reason: null });
    expect(ofType(r, 'user.interrupt')[0]?.payload).toEqual({ reason: 'enough' });
  });

  it('stops a running tool, records it as interrupted, and tells the model on the next turn', async () => {
    let started: () => void = () => undefined;
    const toolStarted = new Promise<void>((resolve) => (started = resolve));
    const hand = new MathHand({ onStart: () => started() });
    const r = await rig(
      script(
        { content: [{ type: 'tool_use', id: 'toolu_w', name: 'wait', input: { ms: 60_000 } }], stop_reason: 'tool_use' },
        text('Understood.'),
      ),
      { hand },
    );
    r.harness.send(r.sessionId, 'wait a minute');
    await toolStarted;
    r.harness.interrupt(r.sessionId);
    const done = await idle(r);
    expect(done.payload.stop_reason.type).toBe('interrupted');
    const [result] = ofType(r, 'agent.tool_result');
    expect(result?.payload).toMatchObject({ tool_use_id: 'toolu_w', status: 'interrupted', is_error: true });
    expect(JSON.stringify(result?.payload.content)).toMatch(/Interrupted by the user after/);
    expect(hand.runs[0]?.aborted).toBe(true);
    r.harness.send(r.sessionId, 'never mind, go on');
    await waitFor(r, 'session.status_idle', (e) => e.payload.stop_reason.type === 'end_turn');
    expect(r.server.requests[1]?.body.messages[2]).toMatchObject({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_w', is_error: true },
        { type: 'text', text: 'never mind, go on' },
      ],
    });
  });

  it('does not wait for a hand that ignores the signal', async () => {
    const stubborn: Hand = {
      id: 'stubborn',
      concurrent: true,
      tools: () => [{ name: 'hang', description: 'Never returns.', input_schema: { type: 'object' } }],
      execute: () => new Promise(() => undefined),
    };
    const r = await rig(script({ content: [{ type: 'tool_use', id: 'toolu_h', name: 'hang', input: {} }], stop_reason: 'tool_use' }), {
      hands: [stubborn],
    });
    r.harness.send(r.sessionId, 'go');
    await waitFor(r, 'agent.tool_use');
    await new Promise((resolve) => setTimeout(resolve, 20));
    r.harness.interrupt(r.sessionId);
    expect((await idle(r)).payload.stop_reason.type).toBe('interrupted');
    expect(ofType(r, 'agent.tool_result')[0]?.payload.status).toBe('interrupted');
  });
});

describe('statelessness', () => {
  it('a fresh harness closes a request cut by a crash and sends it again', async () => {
    const r = await rig(script(text('Answered after the restart.')));
    r.store.emitEvents(r.sessionId, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'q' }] } },
      { type: 'session.status_running', payload: {} },
      { type: 'span.model_request_start', payload: { model: 'claude-sonnet-4-5' } },
    ]);
    await r.harness.wake(r.sessionId);
    expect(types(r).slice(3)).toEqual([
      'span.model_request_end',
      'session.error',
      'span.model_request_start',
      'agent.message',
      'span.model_request_end',
      'session.status_idle',
    ]);
    expect(ofType(r, 'session.error')[0]?.payload).toMatchObject({
      error: { type: 'response_lost' },
      retry_status: { type: 'retrying', attempt: 1 },
    });
  });

  it('a fresh harness never re-runs a tool a crashed process may have started; it tells the model', async () => {
    const r = await rig(script(text('I will check whether the sum happened.')));
    r.store.emitEvents(r.sessionId, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'add' }] } },
      { type: 'session.status_running', payload: {} },
      { type: 'span.model_request_start', payload: { model: 'claude-sonnet-4-5' } },
      { type: 'agent.tool_use', payload: { tool_use_id: 'toolu_1', name: 'add', input: { a: 1, b: 2 }, hand_id: 'math' } },
      {
        type: 'span.model_request_end',
        payload: {
          model: 'claude-sonnet-4-5',
          usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
          stop_reason: 'tool_use',
          is_error: false,
          duration_ms: 5,
        },
      },
    ]);
    await r.harness.wake(r.sessionId);
    expect(r.hand.runs).toEqual([]);
    const [result] = ofType(r, 'agent.tool_result');
    expect(result?.payload).toMatchObject({ tool_use_id: 'toolu_1', status: 'interrupted', is_error: true });
    expect(JSON.stringify(r.server.requests[0]?.body.messages)).toContain('It was not run again');
    expect(ofType(r, 'session.status_idle')[0]?.payload.stop_reason.type).toBe('end_turn');
  });

  it('wake() with nothing to do records nothing', async () => {
    const r = await rig(script(text('hi')));
    r.harness.send(r.sessionId, 'q');
    await idle(r);
    const before = events(r).length;
    await r.harness.wake(r.sessionId);
    await new Harness({ store: r.store, keyProvider: () => KEY, baseURL: r.server.url }).wake(r.sessionId);
    expect(events(r)).toHaveLength(before);
  });

  it('resumes sessions that were running when the app stopped', async () => {
    const r = await rig(script(text('Resumed.')));
    r.store.emitEvents(r.sessionId, [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'q' }] } },
      { type: 'session.status_running', payload: {} },
    ]);
    expect(r.harness.resumeInterrupted()).toEqual([r.sessionId]);
    expect((await idle(r)).payload.stop_reason.type).toBe('end_turn');
  });

  it('a fork taken mid-turn waits for the user, and says the tool did not run in that branch', async () => {
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hand = new MathHand({
      onStart: () =>
        new Promise<void>((resolve) => {
          release = resolve;
          started();
        }),
    });
    const r = await rig(
      script(
        { content: [{ type: 'tool_use', id: 'toolu_f', name: 'add', input: { a: 1, b: 1 } }], stop_reason: 'tool_use' },
        text('2.'),
        text('In the fork now.'),
      ),
      { hand },
    );
    r.harness.send(r.sessionId, 'add one and one');
    const use = await waitFor(r, 'agent.tool_use');
    await running;
    const fork = r.store.fork(r.sessionId, use.seq + 1, { title: 'branch' });
    release();
    await idle(r);
    expect(r.harness.resumeInterrupted()).toEqual([]);
    expect(r.store.getEvents(fork.id).at(-1)?.type).toBe('session.forked');

    r.harness.send(fork.id, 'try something else');
    const forkIdle = await new Promise<StoredEvent>((resolve) => {
      const stop = r.store.subscribe(fork.id, (event) => {
        if (event.type === 'session.status_idle') {
          stop();
          resolve(event);
        }
      });
    });
    expect(forkIdle.type === 'session.status_idle' && forkIdle.payload.stop_reason.type).toBe('end_turn');
    const result = r.store.getEvents(fork.id, { types: ['agent.tool_result'] })[0];
    expect(JSON.stringify(result?.payload)).toContain('forked before this tool');
    expect(hand.runs).toHaveLength(1);
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('a message sent %i microtasks after a turn ends is answered, not lost', async (hops) => {
    const r = await rig(script(text('first'), text('second')));
    const stop = r.store.subscribe(r.sessionId, (event) => {
      if (event.type !== 'session.status_idle') return;
      stop();
      let chain = Promise.resolve();
      for (let i = 0; i < hops; i++) chain = chain.then(() => undefined);
      void chain.then(() => r.harness.send(r.sessionId, 'right after'));
    });
    r.harness.send(r.sessionId, 'q');
    await waitFor(r, 'session.status_idle', (e) => e.seq > 7);
    expect(ofType(r, 'agent.message').map((e) => e.payload.content[0]?.text)).toEqual(['first', 'second']);
  });

  it('an interrupt sent before the turn recorded anything still stops it', async () => {
    let unblock: (key: string) => void = () => undefined;
    const r = await rig(script(text('never sent')), { keyProvider: () => new Promise<string>((resolve) => (unblock = resolve)) });
    r.harness.send(r.sessionId, 'q');
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.harness.interrupt(r.sessionId);
    unblock(KEY);
    expect((await idle(r)).payload.stop_reason.type).toBe('interrupted');
    expect(r.server.requests).toHaveLength(0);
  });

  it('a message sent while a response streams is answered in the next request', async () => {
    const r = await rig(
      script({ kind: 'message', message: text('first answer, streaming slowly'), frameDelayMs: 15 }, text('second answer')),
    );
    r.harness.send(r.sessionId, 'first');
    await waitFor(r, 'span.model_request_start');
    r.harness.send(r.sessionId, 'second');
    await waitFor(r, 'session.status_idle');
    expect(r.server.requests).toHaveLength(2);
    expect(r.server.requests[1]?.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(r.server.requests[1]?.body.messages[2])).toContain('second');
    expect(ofType(r, 'session.status_idle')).toHaveLength(1);
  });
});

// The roster RPC (issue 21) through a real host's dispatcher over a real store: a roster is recorded
// as `session.roster_set` (the latest wins), a bad one is refused in words naming the field and
// records nothing, and an interrupt can name one thread.
import { afterEach, describe, expect, it } from 'vitest';
import { closeHostRig, hostRig, type HostRig } from '#test/support/host-rig';
import { rpcCalls } from '#test/support/rpc-calls';

let rig: HostRig | undefined;
afterEach(async () => {
  await closeHostRig(rig);
  rig = undefined;
});

describe('sessions-set-roster', () => {
  it('records the roster; refuses a bad one without recording anything; interrupts one thread', async () => {
    rig = hostRig('drover-roster-');
    const { call, refused } = rpcCalls(rig.host, rig.store);
    const { id: sessionId } = rig.store.createSession({ title: 'roster' });
    const roster = {
      agents: [{ name: 'reviewer', model: 'claude-haiku-4-5', system: 'You review.', tools: ['box__bash'] }],
      self_copies: true,
    };
    expect(await call('sessions-set-roster', { sessionId, roster })).toEqual(roster);
    const recorded = rig.store.getEvents(sessionId, { types: ['session.roster_set'] });
    expect(recorded.map((event) => event.payload)).toEqual([roster]);

    const before = rig.store.getEvents(sessionId).length;
    expect(
      await refused('sessions-set-roster', { sessionId, roster: { agents: [{ name: 'a' }, { name: 'a' }], self_copies: false } }),
    ).toMatch(/same name/);
    expect(await refused('sessions-set-roster', { sessionId, roster: { agents: [{ name: 'self' }], self_copies: true } })).toMatch(
      /"self"/,
    );
    expect(
      await refused('sessions-set-roster', { sessionId, roster: { agents: [{ name: 'x', colour: 'red' }], self_copies: false } }),
    ).toMatch(/colour/);
    expect(await refused('sessions-set-roster', { sessionId: 'nope', roster })).toBeTruthy();
    expect(await refused('sessions-interrupt', { sessionId, sessionThreadId: 'thread-1' })).toMatch(/sthr_/);
    expect(rig.store.getEvents(sessionId)).toHaveLength(before);

    await call('sessions-interrupt', { sessionId, sessionThreadId: 'sthr_0123456789ab' });
    const [interrupt] = rig.store.getEvents(sessionId, { types: ['user.interrupt'] });
    expect(interrupt?.payload).toEqual({ session_thread_id: 'sthr_0123456789ab' });
  });
});

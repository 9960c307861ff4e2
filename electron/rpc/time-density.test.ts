/**
 * `sessions-time-density` through the host's dispatcher (what the timeline calls), on a real store
 * and vault: a session's events per slice of time; bad input refused with a message naming what is
 * wrong, before anything is read; an unknown session not found.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimeDensity } from '#shared/time-density';
import { vaultHostRig, type VaultHostRig } from '#test/support/host-rig';

let rig: VaultHostRig;

beforeAll(() => {
  rig = vaultHostRig('drover-time-density-rpc-');
});

afterAll(async () => {
  await rig?.close();
});

describe('sessions-time-density', () => {
  it("answers the session's events per slice of time and its turns", async () => {
    const { id } = rig.store.createSession({ title: 'a few events' });
    for (let index = 0; index < 5; index++) {
      rig.store.emitEvent(id, { type: 'user.message', payload: { content: [{ type: 'text', text: `turn ${index}` }] } });
      rig.store.emitEvent(id, { type: 'agent.message', payload: { content: [{ type: 'text', text: 'ok' }] } });
    }
    const outcome = await rig.host.dispatch('sessions-time-density', { sessionId: id, buckets: 1 });
    if (!outcome.ok) throw new Error(outcome.error.message);
    const density = outcome.result as TimeDensity;
    expect(density).toMatchObject({ lastSeq: 10, counts: [10], exact: true });
    expect(density.turns).toEqual([{ seq: 1, turn: 1, ms: density.firstMs }]);
  });

  it('refuses bad input with a message naming what is wrong, and an unknown session', async () => {
    const { id } = rig.store.createSession({ title: 'refusals' });
    const refused = async (arg: unknown): Promise<string> => {
      const outcome = await rig.host.dispatch('sessions-time-density', arg);
      if (outcome.ok) throw new Error(`accepted ${JSON.stringify(arg)}`);
      return `${outcome.error.code}: ${outcome.error.message}`;
    };
    expect(await refused({ sessionId: id, buckets: 0 })).toMatch(/invalid-argument: .*buckets.*at least 1 slice/);
    expect(await refused({ sessionId: id, buckets: 4097 })).toMatch(/buckets.*at most 4096 slices; ask for a narrower range/);
    expect(await refused({ sessionId: id, buckets: 2.5 })).toMatch(/buckets.*whole number/);
    expect(await refused({ sessionId: id, buckets: 10, from: 2000, to: 1000 })).toMatch(/`to` must be later than `from`/);
    expect(await refused({ sessionId: id, buckets: 10, from: -1 })).toMatch(/from.*after 1970/);
    expect(await refused({ sessionId: id, buckets: 10, extra: true })).toMatch(/extra/);
    expect(await refused({ sessionId: 'not-a-session', buckets: 10 })).toMatch(/sessionId.*session id/);
    expect(await refused({ sessionId: randomUUID(), buckets: 10 })).toMatch(/not-found: There is no session/);
    expect(rig.store.getSession(id).lastSeq).toBe(0);
  });
});

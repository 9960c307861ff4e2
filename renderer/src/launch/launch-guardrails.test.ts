import { describe, expect, it } from 'vitest';
import { addHand, buildLaunchRequest, initialForm, withPolicy, type LaunchForm } from './launch-form.ts';

const form = (changes: Partial<LaunchForm> = {}): LaunchForm => ({ ...initialForm({}), title: 'Guarded', ...changes });

describe('the launch budget and hand policies', () => {
  it('sends a budget typed in dollars as a cost cap in cents; empty leaves the default budget to the main process', () => {
    const built = buildLaunchRequest(form({ budget: '25' }));
    expect(built.ok && built.request.budget).toEqual({ type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' } });
    const none = buildLaunchRequest(form());
    expect(none.ok && 'budget' in none.request).toBe(false);
  });

  it('refuses a budget that is not an amount, on the budget field', () => {
    const built = buildLaunchRequest(form({ budget: 'lots' }));
    expect(built.ok).toBe(false);
    expect(!built.ok && built.problems.fields['budget']).toMatch(/US dollars/);
  });

  it('sends a chosen policy per hand by its name; a hand left on its default sends none', () => {
    let draft = addHand(addHand(form()));
    const [first, second] = draft.hands;
    draft = {
      ...draft,
      hands: draft.hands.map((hand) => ({ ...hand, image: 'debian:bookworm' })),
      handPolicies: withPolicy(draft.handPolicies, first!.key, 'always_ask'),
    };
    const built = buildLaunchRequest(draft);
    expect(built.ok && built.request.policies).toEqual([{ hand: first!.name, tool: null, policy: 'always_ask' }]);
    expect(withPolicy(draft.handPolicies, first!.key, null)).toEqual({});
    expect(second).toBeDefined();
  });
});

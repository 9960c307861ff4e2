/** The guardrails' part of the shared contract: event payloads and RPC arguments, as the store and dispatcher check them. */
import { describe, expect, it } from 'vitest';
import { eventPayloadSchemas, IdleStopReasonSchema, NewEventSchema } from '#shared/events';
import { McpHandConfigSchema } from '#shared/hands';
import { PolicyRuleSchema } from '#shared/guardrails';
import { rpcMethods } from '#shared/rpc';

const idle = eventPayloadSchemas['session.status_idle'];
const ok = (schema: { safeParse(value: unknown): { success: boolean } }, value: unknown): boolean => schema.safeParse(value).success;

describe('session.status_idle stop reasons', () => {
  it('still reads every reason recorded before guardrails, with or without a message', () => {
    for (const type of IdleStopReasonSchema.options) {
      expect(ok(idle, { stop_reason: { type } }), type).toBe(true);
      expect(ok(idle, { stop_reason: { type, message: 'why' } }), type).toBe(true);
    }
  });

  it('reads requires_action with the waiting tool use events, at least one', () => {
    expect(ok(idle, { stop_reason: { type: 'requires_action', event_ids: ['e1', 'e2'] } })).toBe(true);
    expect(ok(idle, { stop_reason: { type: 'requires_action', event_ids: [] } })).toBe(false);
    expect(ok(idle, { stop_reason: { type: 'requires_action' } })).toBe(false);
    expect(ok(idle, { stop_reason: { type: 'requires_action', event_ids: [''] } })).toBe(false);
  });

  it('reads budget_reached, and refuses fields a reason does not have', () => {
    expect(ok(idle, { stop_reason: { type: 'budget_reached' } })).toBe(true);
    expect(ok(idle, { stop_reason: { type: 'budget_reached', event_ids: ['e1'] } })).toBe(false);
    expect(ok(idle, { stop_reason: { type: 'end_turn', event_ids: ['e1'] } })).toBe(false);
    expect(ok(idle, { stop_reason: { type: 'bored' } })).toBe(false);
  });
});

describe('tool uses and confirmations', () => {
  it('a tool use may carry evaluated_permission (absent in older logs)', () => {
    const use = { tool_use_id: 't', name: 'laptop__bash', input: {}, hand_id: 'laptop' };
    expect(ok(eventPayloadSchemas['agent.tool_use'], use)).toBe(true);
    for (const permission of ['allow', 'ask', 'deny'])
      expect(ok(eventPayloadSchemas['agent.tool_use'], { ...use, evaluated_permission: permission })).toBe(true);
    expect(ok(eventPayloadSchemas['agent.tool_use'], { ...use, evaluated_permission: 'maybe' })).toBe(false);
    expect(
      ok(eventPayloadSchemas['agent.mcp_tool_use'], {
        tool_use_id: 't',
        server_name: 'mail',
        name: 'mail__send',
        input: {},
        evaluated_permission: 'ask',
      }),
    ).toBe(true);
  });

  it('a confirmation allows or denies, with a deny message of at most 10,000 characters for a deny only', () => {
    const confirmation = eventPayloadSchemas['user.tool_confirmation'];
    expect(ok(confirmation, { tool_use_id: 't', result: 'allow' })).toBe(true);
    expect(ok(confirmation, { tool_use_id: 't', result: 'deny', deny_message: 'x'.repeat(10_000) })).toBe(true);
    expect(ok(confirmation, { tool_use_id: 't', result: 'deny', deny_message: 'x'.repeat(10_001) })).toBe(false);
    expect(ok(confirmation, { tool_use_id: 't', result: 'allow', deny_message: 'no' })).toBe(false);
    expect(ok(confirmation, { tool_use_id: '', result: 'allow' })).toBe(false);
    expect(ok(confirmation, { tool_use_id: 't', result: 'maybe' })).toBe(false);
  });

  it('a run start names its tool use', () => {
    expect(ok(NewEventSchema, { type: 'span.tool_run_start', payload: { tool_use_id: 't' } })).toBe(true);
    expect(ok(NewEventSchema, { type: 'span.tool_run_start', payload: {} })).toBe(false);
  });
});

describe('policies, rules, budgets and usage', () => {
  it('a policy is for a hand’s tool or (null) the whole hand', () => {
    const set = eventPayloadSchemas['policy.set'];
    expect(ok(set, { hand: 'laptop', tool: 'bash', policy: 'always_allow' })).toBe(true);
    expect(ok(set, { hand: 'laptop', tool: null, policy: 'deny' })).toBe(true);
    expect(ok(set, { hand: 'laptop', policy: 'deny' })).toBe(false);
    expect(ok(set, { hand: 'laptop', tool: null, policy: 'allow' })).toBe(false);
  });

  it('a prefix rule is one line of text', () => {
    expect(PolicyRuleSchema.parse({ type: 'command_prefix', prefix: '  npm test ' })).toEqual({
      type: 'command_prefix',
      prefix: 'npm test',
    });
    expect(ok(PolicyRuleSchema, { type: 'command_prefix', prefix: 'npm test\nrm -rf /' })).toBe(false);
    expect(ok(PolicyRuleSchema, { type: 'command_prefix', prefix: '   ' })).toBe(false);
    expect(ok(PolicyRuleSchema, { type: 'read_only_commands', prefix: 'x' })).toBe(false);
    expect(
      ok(eventPayloadSchemas['policy.rule_added'], { rule_id: 'r', hand: 'laptop', tool: 'bash', rule: { type: 'read_only_commands' } }),
    ).toBe(true);
    expect(ok(eventPayloadSchemas['policy.rule_removed'], { rule_id: 'r' })).toBe(true);
  });

  it('a budget is set or removed (null)', () => {
    const budget = eventPayloadSchemas['session.budget_set'];
    expect(ok(budget, { budget: { type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' } } })).toBe(true);
    expect(ok(budget, { budget: null })).toBe(true);
    expect(ok(budget, {})).toBe(false);
  });

  it('usage is cumulative token counts and a list cost in cents', () => {
    const usage = eventPayloadSchemas['session.usage'];
    const figures = {
      input_tokens: 1,
      output_tokens: 2,
      cache_read_input_tokens: 3,
      cache_creation_input_tokens: 4,
      list_cost_cents: 0.0123,
    };
    expect(ok(usage, figures)).toBe(true);
    expect(ok(usage, { ...figures, list_cost_cents: -1 })).toBe(false);
    expect(ok(usage, { ...figures, input_tokens: 1.5 })).toBe(false);
  });

  it('an MCP hand may be marked trusted; a configuration without it reads back unchanged', () => {
    const config = { kind: 'mcp', transport: { type: 'http', url: 'https://x.example/mcp' } };
    expect(McpHandConfigSchema.parse(config)).not.toHaveProperty('trusted');
    expect(McpHandConfigSchema.parse({ ...config, trusted: true }).trusted).toBe(true);
    expect(ok(McpHandConfigSchema, { ...config, trusted: 'yes' })).toBe(false);
  });
});

describe('RPC arguments', () => {
  const sessionId = '7f1c2d8e-0000-4000-8000-000000000000';

  it('are part of the one method table (the dispatcher validates them for every transport)', () => {
    for (const name of [
      'sessions-confirm-tool',
      'sessions-set-policy',
      'sessions-add-rule',
      'sessions-remove-rule',
      'sessions-set-budget',
      'sessions-guardrails',
      'budget-default-get',
      'budget-default-set',
    ]) {
      expect(Object.keys(rpcMethods)).toContain(name);
    }
  });

  it('launch takes an optional budget and policies, and still refuses unknown fields', () => {
    const launch = rpcMethods['sessions-launch'].arg;
    expect(ok(launch, { title: 't' })).toBe(true);
    expect(
      ok(launch, {
        title: 't',
        budget: { type: 'limit', max_tokens: 10 },
        policies: [{ hand: 'laptop', tool: 'bash', policy: 'always_allow' }],
      }),
    ).toBe(true);
    expect(ok(launch, { title: 't', budget: { type: 'limit' } })).toBe(false);
    expect(ok(launch, { title: 't', policies: [{ hand: 'Not A Name', tool: null, policy: 'deny' }] })).toBe(false);
    expect(ok(launch, { title: 't', surprise: 1 })).toBe(false);
  });

  it('confirm-tool answers 1 to 64 calls', () => {
    const confirm = rpcMethods['sessions-confirm-tool'].arg;
    const answer = { tool_use_id: 't', result: 'allow' };
    expect(ok(confirm, { sessionId, confirmations: [answer] })).toBe(true);
    expect(ok(confirm, { sessionId, confirmations: Array.from({ length: 64 }, (_, i) => ({ ...answer, tool_use_id: `t${i}` })) })).toBe(
      true,
    );
    expect(ok(confirm, { sessionId, confirmations: [] })).toBe(false);
    expect(ok(confirm, { sessionId, confirmations: Array.from({ length: 65 }, (_, i) => ({ ...answer, tool_use_id: `t${i}` })) })).toBe(
      false,
    );
    expect(ok(confirm, { sessionId: 'nope', confirmations: [answer] })).toBe(false);
  });

  it('policy, rule and budget methods check their arguments', () => {
    expect(ok(rpcMethods['sessions-set-policy'].arg, { sessionId, hand: 'laptop', tool: null, policy: 'always_ask' })).toBe(true);
    expect(ok(rpcMethods['sessions-set-policy'].arg, { sessionId, hand: 'laptop', policy: 'always_ask' })).toBe(false);
    expect(
      ok(rpcMethods['sessions-add-rule'].arg, {
        sessionId,
        hand: 'laptop',
        tool: 'bash',
        rule: { type: 'command_prefix', prefix: 'npm test' },
      }),
    ).toBe(true);
    expect(ok(rpcMethods['sessions-add-rule'].arg, { sessionId, hand: 'laptop', tool: null, rule: { type: 'read_only_commands' } })).toBe(
      false,
    );
    expect(ok(rpcMethods['sessions-remove-rule'].arg, { sessionId, ruleId: 'r1' })).toBe(true);
    expect(ok(rpcMethods['sessions-set-budget'].arg, { sessionId, budget: null })).toBe(true);
    expect(
      ok(rpcMethods['sessions-set-budget'].arg, { sessionId, budget: { type: 'limit', max_list_cost: { amount: '0', currency: 'USD' } } }),
    ).toBe(false);
    expect(ok(rpcMethods['sessions-guardrails'].arg, { sessionId })).toBe(true);
  });
});

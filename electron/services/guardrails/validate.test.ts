import { describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import { guardrailsOf } from '#services/harness/approvals';
import { storedEvents } from '#test/support/event-log';
import { checkConfirmations, checkPolicyTarget, checkRule, checkRuleRemoval, type HandTools } from './validate.ts';

const use = (id: string, permission?: 'allow' | 'ask' | 'deny'): NewEvent => ({
  type: 'agent.tool_use',
  payload: {
    tool_use_id: id,
    name: 'laptop__bash',
    input: { command: 'make' },
    hand_id: 'laptop',
    ...(permission ? { evaluated_permission: permission } : {}),
  },
});
const confirm = (id: string, result: 'allow' | 'deny'): NewEvent => ({
  type: 'user.tool_confirmation',
  payload: { tool_use_id: id, result },
});
const result = (id: string): NewEvent => ({
  type: 'agent.tool_result',
  payload: { tool_use_id: id, content: [], is_error: true, status: 'interrupted' },
});

const view = storedEvents(
  use('t1', 'ask'),
  use('t2', 'ask'),
  use('t3', 'ask'),
  confirm('t3', 'allow'),
  use('t4', 'ask'),
  result('t4'),
  use('t5', 'allow'),
  use('t6', 'deny'),
  use('t7'),
);
const state = guardrailsOf(view);

describe('checkConfirmations', () => {
  it('accepts answers to calls that wait, one or several, and records them by tool_use_id', () => {
    expect(checkConfirmations(state, [{ tool_use_id: 't1', result: 'allow' }])).toEqual({
      ok: true,
      confirmations: [{ tool_use_id: 't1', result: 'allow' }],
    });
    expect(
      checkConfirmations(state, [
        { tool_use_id: 't1', result: 'allow' },
        { tool_use_id: 't2', result: 'deny', deny_message: 'Use make test.' },
      ]),
    ).toEqual({
      ok: true,
      confirmations: [
        { tool_use_id: 't1', result: 'allow' },
        { tool_use_id: 't2', result: 'deny', deny_message: 'Use make test.' },
      ],
    });
  });

  it('accepts a call named by its event’s id, as Managed Agents clients name it', () => {
    const eventId = view[1]?.id ?? '';
    expect(checkConfirmations(state, [{ tool_use_id: eventId, result: 'deny' }])).toEqual({
      ok: true,
      confirmations: [{ tool_use_id: 't2', result: 'deny' }],
    });
  });

  const refused = (answers: Parameters<typeof checkConfirmations>[1]) => {
    const checked = checkConfirmations(state, answers);
    if (checked.ok) throw new Error('expected a refusal');
    return { code: checked.error.code, message: checked.error.message };
  };

  it('refuses an unknown call', () => {
    expect(refused([{ tool_use_id: 'toolu_nope', result: 'allow' }])).toEqual({
      code: 'not-found',
      message:
        'This session has no tool call "toolu_nope" to approve. It may be on another branch or session: reload the session and answer the calls it shows as waiting.',
    });
  });

  it('refuses a call already answered, or already ended', () => {
    expect(refused([{ tool_use_id: 't3', result: 'deny' }])).toEqual({
      code: 'conflict',
      message:
        'The tool call "laptop__bash" (t3) was already allowed (event #4); an answer cannot be changed. Reload the session to see where it stands.',
    });
    expect(refused([{ tool_use_id: 't4', result: 'allow' }])).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('already has its result'),
    });
  });

  it('refuses a call that did not ask (allowed, denied, or from an older log)', () => {
    expect(refused([{ tool_use_id: 't5', result: 'allow' }])).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('its policy allowed it to run'),
    });
    expect(refused([{ tool_use_id: 't6', result: 'allow' }])).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('its policy denies it'),
    });
    expect(refused([{ tool_use_id: 't7', result: 'allow' }])).toMatchObject({ code: 'conflict' });
  });

  it('refuses a batch answering one call twice (also once by each of its names), and the whole batch with one bad answer', () => {
    expect(
      refused([
        { tool_use_id: 't1', result: 'allow' },
        { tool_use_id: 't1', result: 'deny' },
      ]),
    ).toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('answered twice') });
    expect(
      refused([
        { tool_use_id: 't1', result: 'allow' },
        { tool_use_id: view[0]?.id ?? '', result: 'allow' },
      ]),
    ).toMatchObject({ code: 'invalid-argument' });
    expect(
      refused([
        { tool_use_id: 't1', result: 'allow' },
        { tool_use_id: 'nope', result: 'allow' },
      ]),
    ).toMatchObject({ code: 'not-found' });
  });
});

const hands: HandTools = new Map([
  ['laptop', { kind: 'ssh', tools: ['bash', 'editor'] }],
  ['mail', { kind: 'mcp', tools: ['send', 'read'] }],
]);

describe('checkPolicyTarget', () => {
  it('accepts a hand’s tool, or the whole hand', () => {
    expect(checkPolicyTarget(hands, 'laptop', 'bash')).toBeNull();
    expect(checkPolicyTarget(hands, 'mail', null)).toBeNull();
  });

  it('refuses a hand the session does not have, naming the ones it has', () => {
    const error = checkPolicyTarget(hands, 'server', 'bash');
    expect(error?.code).toBe('invalid-argument');
    expect(error?.message).toBe('This session has no hand named "server". Its hands are "laptop", "mail".');
    expect(checkPolicyTarget(new Map(), 'server', null)?.message).toContain('It has no hands yet: attach the hand first.');
  });

  it('refuses a tool the hand does not have, naming its tools', () => {
    expect(checkPolicyTarget(hands, 'mail', 'delete_all')?.message).toBe(
      'The hand "mail" has no tool named "delete_all". Its tools are "send", "read".',
    );
    expect(checkPolicyTarget(new Map([['off', { kind: 'mcp', tools: [] }]]), 'off', 'x')?.message).toContain('offers no tools right now');
  });
});

describe('checkRule', () => {
  const readOnly = { type: 'read_only_commands' } as const;

  it('accepts a rule for a machine’s command tool', () => {
    expect(checkRule(hands, [], { hand: 'laptop', tool: 'bash', rule: readOnly })).toBeNull();
    expect(checkRule(hands, [], { hand: 'laptop', tool: 'bash', rule: { type: 'command_prefix', prefix: 'npm test' } })).toBeNull();
  });

  it('refuses a rule for a tool that takes no command line, or a hand or tool the session lacks', () => {
    expect(checkRule(hands, [], { hand: 'laptop', tool: 'editor', rule: readOnly })?.message).toContain('takes no command line');
    expect(
      checkRule(new Map([['mail', { kind: 'mcp', tools: ['bash'] }]]), [], { hand: 'mail', tool: 'bash', rule: readOnly })?.message,
    ).toContain('takes no command line');
    expect(checkRule(hands, [], { hand: 'server', tool: 'bash', rule: readOnly })?.message).toContain('no hand named "server"');
  });

  it('refuses a prefix that is not the start of one simple command', () => {
    const error = checkRule(hands, [], { hand: 'laptop', tool: 'bash', rule: { type: 'command_prefix', prefix: 'ls; rm' } });
    expect(error?.code).toBe('invalid-argument');
    expect(error?.message).toBe(
      '"ls; rm" cannot be allowed as a command prefix: it is more than one command. Give the start of a single command, like "npm test" or "git log".',
    );
  });

  it('refuses a rule already in force', () => {
    const rules = [
      { rule_id: 'r1', hand: 'laptop', tool: 'bash', rule: readOnly },
      { rule_id: 'r2', hand: 'laptop', tool: 'bash', rule: { type: 'command_prefix' as const, prefix: 'npm test' } },
    ];
    expect(checkRule(hands, rules, { hand: 'laptop', tool: 'bash', rule: readOnly })).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('rule r1'),
    });
    expect(
      checkRule(hands, rules, { hand: 'laptop', tool: 'bash', rule: { type: 'command_prefix', prefix: 'npm test' } })?.message,
    ).toContain('rule r2');
    expect(checkRule(hands, rules, { hand: 'laptop', tool: 'bash', rule: { type: 'command_prefix', prefix: 'npm run' } })).toBeNull();
  });
});

describe('checkRuleRemoval', () => {
  it('refuses a rule that is not in force', () => {
    const withRule = guardrailsOf(
      storedEvents({
        type: 'policy.rule_added',
        payload: { rule_id: 'r1', hand: 'laptop', tool: 'bash', rule: { type: 'read_only_commands' } },
      }),
    );
    expect(checkRuleRemoval(withRule, 'r1')).toBeNull();
    expect(checkRuleRemoval(withRule, 'r2')).toMatchObject({
      code: 'not-found',
      message: expect.stringContaining('no rule "r2" in force'),
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { PolicyEntry, RuleEntry } from '#shared/guardrails';
import { defaultPolicy } from './defaults.ts';
import { evaluate, matchingRule, policyFor, unqualifiedToolName, type EvaluateInput } from './policy.ts';

describe('defaultPolicy', () => {
  it('allows everything in a Docker container', () => {
    for (const tool of ['bash', 'editor', 'anything'])
      expect(defaultPolicy({ kind: 'docker', tool, trusted: false, input: { command: 'rm -rf /' } })).toBe('always_allow');
  });

  it('asks for commands and file writes on an SSH machine, and lets the editor view files', () => {
    expect(defaultPolicy({ kind: 'ssh', tool: 'bash', trusted: false, input: { command: 'ls' } })).toBe('always_ask');
    expect(defaultPolicy({ kind: 'ssh', tool: 'bash', trusted: false, input: { restart: true } })).toBe('always_ask');
    for (const command of ['create', 'str_replace', 'insert', 'undo_edit', undefined]) {
      expect(defaultPolicy({ kind: 'ssh', tool: 'editor', trusted: false, input: { command, path: '/etc/hosts' } })).toBe('always_ask');
    }
    expect(defaultPolicy({ kind: 'ssh', tool: 'editor', trusted: false, input: { command: 'view', path: '/etc/hosts' } })).toBe(
      'always_allow',
    );
    // The tool as a whole (the Hands panel): writes ask.
    expect(defaultPolicy({ kind: 'ssh', tool: 'editor', trusted: false })).toBe('always_ask');
    // `view` is read-only for the editor only.
    expect(defaultPolicy({ kind: 'ssh', tool: 'bash', trusted: false, input: { command: 'view' } })).toBe('always_ask');
  });

  it('asks for an MCP server’s tools unless the server is trusted', () => {
    expect(defaultPolicy({ kind: 'mcp', tool: 'send_mail', trusted: false, input: {} })).toBe('always_ask');
    expect(defaultPolicy({ kind: 'mcp', tool: 'send_mail', trusted: true, input: {} })).toBe('always_allow');
  });
});

const base: EvaluateInput = {
  policies: [],
  rules: [],
  handKind: 'ssh',
  handName: 'laptop',
  tool: 'bash',
  input: { command: 'rm -rf build' },
  trusted: false,
};
const policy = (hand: string, tool: string | null, value: PolicyEntry['policy']): PolicyEntry => ({ hand, tool, policy: value });
const readOnly = (hand = 'laptop', tool = 'bash', id = 'r1'): RuleEntry => ({
  rule_id: id,
  hand,
  tool,
  rule: { type: 'read_only_commands' },
});

describe('evaluate', () => {
  it('falls back to the kind’s default', () => {
    expect(evaluate(base)).toBe('ask');
    expect(evaluate({ ...base, handKind: 'docker' })).toBe('allow');
    expect(evaluate({ ...base, tool: 'editor', input: { command: 'view', path: '/x' } })).toBe('allow');
    expect(evaluate({ ...base, handKind: 'mcp', tool: 'send', input: {}, trusted: true })).toBe('allow');
  });

  it('takes the hand’s policy over the kind’s default, and the tool’s over the hand’s', () => {
    expect(evaluate({ ...base, policies: [policy('laptop', null, 'always_allow')] })).toBe('allow');
    expect(evaluate({ ...base, policies: [policy('laptop', null, 'always_allow'), policy('laptop', 'bash', 'deny')] })).toBe('deny');
    // The order of the list does not change precedence.
    expect(evaluate({ ...base, policies: [policy('laptop', 'bash', 'deny'), policy('laptop', null, 'always_allow')] })).toBe('deny');
    expect(evaluate({ ...base, handKind: 'docker', policies: [policy('laptop', 'bash', 'always_ask')] })).toBe('ask');
    // A hand policy of always_ask also covers the editor's view, which the SSH default allows.
    expect(
      evaluate({ ...base, tool: 'editor', input: { command: 'view', path: '/x' }, policies: [policy('laptop', null, 'always_ask')] }),
    ).toBe('ask');
    // A trusted MCP server can still be asked or denied.
    expect(
      evaluate({ ...base, handKind: 'mcp', tool: 'send', input: {}, trusted: true, policies: [policy('laptop', 'send', 'deny')] }),
    ).toBe('deny');
  });

  it('ignores other hands’ and other tools’ policies', () => {
    expect(evaluate({ ...base, policies: [policy('box', null, 'always_allow'), policy('laptop', 'editor', 'always_allow')] })).toBe('ask');
  });

  it('the latest of two entries for one target wins', () => {
    expect(evaluate({ ...base, policies: [policy('laptop', 'bash', 'always_allow'), policy('laptop', 'bash', 'always_ask')] })).toBe('ask');
  });

  it('turns an ask into allow when a rule of the hand’s tool matches', () => {
    expect(evaluate({ ...base, input: { command: 'ls -la' }, rules: [readOnly()] })).toBe('allow');
    expect(evaluate({ ...base, input: { command: 'ls; rm -rf /' }, rules: [readOnly()] })).toBe('ask');
    expect(
      evaluate({
        ...base,
        input: { command: 'npm test -w' },
        rules: [{ rule_id: 'p', hand: 'laptop', tool: 'bash', rule: { type: 'command_prefix', prefix: 'npm test' } }],
      }),
    ).toBe('allow');
    // Another hand's rule, or a rule for another tool, does not apply.
    expect(evaluate({ ...base, input: { command: 'ls' }, rules: [readOnly('box')] })).toBe('ask');
    expect(evaluate({ ...base, input: { command: 'ls' }, rules: [readOnly('laptop', 'editor')] })).toBe('ask');
  });

  it('never lets a rule override a deny', () => {
    expect(evaluate({ ...base, input: { command: 'ls' }, rules: [readOnly()], policies: [policy('laptop', 'bash', 'deny')] })).toBe('deny');
    expect(evaluate({ ...base, input: { command: 'ls' }, rules: [readOnly()], policies: [policy('laptop', null, 'deny')] })).toBe('deny');
  });
});

describe('policyFor', () => {
  it('says where the policy comes from', () => {
    const target = { handKind: 'ssh' as const, handName: 'laptop', tool: 'bash', trusted: false };
    expect(policyFor([], target)).toEqual({ policy: 'always_ask', source: 'default' });
    expect(policyFor([policy('laptop', null, 'deny')], target)).toEqual({ policy: 'deny', source: 'hand' });
    expect(policyFor([policy('laptop', null, 'deny'), policy('laptop', 'bash', 'always_allow')], target)).toEqual({
      policy: 'always_allow',
      source: 'tool',
    });
  });

  it('finds the rule that allowed a use', () => {
    expect(matchingRule([readOnly('laptop', 'bash', 'a')], 'laptop', 'bash', { command: 'pwd' })?.rule_id).toBe('a');
    expect(matchingRule([readOnly('laptop', 'bash', 'a')], 'laptop', 'bash', { command: 'touch x' })).toBeUndefined();
  });
});

describe('unqualifiedToolName', () => {
  it('strips the hand’s own prefix only', () => {
    expect(unqualifiedToolName('laptop', 'laptop__bash')).toBe('bash');
    expect(unqualifiedToolName('laptop', 'box__bash')).toBe('box__bash');
    expect(unqualifiedToolName('mail', 'mail__send__now')).toBe('send__now');
  });
});

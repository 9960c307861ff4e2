import { describe, expect, it } from 'vitest';
import type { PendingApproval, Spent } from '#shared/guardrails';
import { approvalCardOf, commandPrefixOf, lineDiff, waitingCount, windowTitle } from './approval-model.ts';
import { notificationText, transitionsOf } from './attention.ts';
import { meterOf, parseBudgetDollars, withCostCap } from './budget-model.ts';

const pending = (name: string, input: Record<string, unknown>, hand: string | null = 'box'): PendingApproval => ({
  event_id: 'e1',
  seq: 4,
  tool_use_id: 'toolu_1',
  hand,
  name,
  input,
});

describe('approval cards', () => {
  it('shows the full command of a bash call and proposes its program (and subcommand) as a prefix rule', () => {
    const card = approvalCardOf(pending('box__bash', { command: 'git status --short && rm -rf /tmp/x' }));
    expect(card).toMatchObject({ hand: 'box', tool: 'bash', body: { kind: 'command', command: 'git status --short && rm -rf /tmp/x' } });
    expect(card.similar).toMatchObject({ kind: 'rule', hand: 'box', tool: 'bash', rule: { type: 'command_prefix', prefix: 'git status' } });
    expect(commandPrefixOf('ls -la /etc')).toBe('ls');
    expect(commandPrefixOf('$(curl evil) x')).toBeNull();
    expect(approvalCardOf(pending('box__bash', { command: '`id`' })).similar.kind).toBe('none');
  });

  it('diffs a str_replace line by line, keeping the lines both sides share', () => {
    const card = approvalCardOf(
      pending('box__editor', {
        command: 'str_replace',
        path: '/src/a.ts',
        old_str: 'const a = 1;\nconst b = 2;\nconst c = 3;\n',
        new_str: 'const a = 1;\nconst b = 20;\nconst c = 3;\nconst d = 4;',
      }),
    );
    expect(card.body).toEqual({
      kind: 'edit',
      command: 'str_replace',
      path: '/src/a.ts',
      note: null,
      lines: [
        { kind: 'same', text: 'const a = 1;' },
        { kind: 'removed', text: 'const b = 2;' },
        { kind: 'added', text: 'const b = 20;' },
        { kind: 'same', text: 'const c = 3;' },
        { kind: 'added', text: 'const d = 4;' },
      ],
    });
    expect(card.similar).toMatchObject({ kind: 'policy', hand: 'box', tool: 'editor' });
  });

  it('shows a created file and an insert as added lines, saying where', () => {
    expect(approvalCardOf(pending('box__editor', { command: 'create', path: '/n.txt', file_text: 'one\ntwo\n' })).body).toMatchObject({
      kind: 'edit',
      lines: [
        { kind: 'added', text: 'one' },
        { kind: 'added', text: 'two' },
      ],
    });
    expect(
      approvalCardOf(pending('box__editor', { command: 'insert', path: '/n.txt', insert_line: 3, insert_text: 'x' })).body,
    ).toMatchObject({ kind: 'edit', note: 'inserts after line 3', lines: [{ kind: 'added', text: 'x' }] });
  });

  it('shows an MCP tool by its own name with its input, and allows it per tool', () => {
    const card = approvalCardOf(pending('mail__send_email', { to: 'a@b.c', body: 'hi' }, 'mail'));
    expect(card.tool).toBe('send_email');
    expect(card.body).toEqual({ kind: 'input', json: JSON.stringify({ to: 'a@b.c', body: 'hi' }, null, 2) });
    expect(card.similar).toMatchObject({ kind: 'policy', hand: 'mail', tool: 'send_email' });
  });

  it('diffs completely different texts as removals then additions', () => {
    expect(lineDiff(['a'], ['b'])).toEqual([
      { kind: 'removed', text: 'a' },
      { kind: 'added', text: 'b' },
    ]);
  });
});

const summary = (id: string, status: 'running' | 'idle' | 'new', stopReason: string | null) => ({
  id,
  title: `S ${id}`,
  status,
  stopReason,
});

describe('sessions that need the user', () => {
  it('counts the sessions waiting for an approval, for the window title', () => {
    const list = [
      summary('a', 'idle', 'requires_action'),
      summary('b', 'idle', null),
      summary('c', 'idle', 'requires_action'),
      summary('d', 'running', null),
    ];
    expect(waitingCount(list)).toBe(2);
    expect(windowTitle(waitingCount(list))).toBe('(2) Drover');
    expect(windowTitle(0)).toBe('Drover');
    expect(waitingCount(null)).toBe(0);
  });

  it('notifies each transition once: starts waiting, finishes, reaches its budget — not the first list, not an unchanged one', () => {
    const first = [summary('a', 'idle', 'requires_action'), summary('b', 'running', null), summary('c', 'running', null)];
    expect(transitionsOf(null, first)).toEqual([]);
    const next = [
      summary('a', 'idle', 'requires_action'),
      summary('b', 'idle', 'requires_action'),
      summary('c', 'idle', null),
      summary('n', 'new', null),
    ];
    expect(transitionsOf(first, next).map((a) => `${a.sessionId}:${a.kind}`)).toEqual(['b:waiting', 'c:finished']);
    expect(transitionsOf(next, next)).toEqual([]);
    expect(transitionsOf([summary('a', 'running', null)], [summary('a', 'idle', 'budget_reached')]).map((a) => a.kind)).toEqual(['budget']);
    expect(notificationText({ sessionId: 'b', title: 'Deploy', kind: 'waiting' }).title).toBe('Deploy waits for you');
  });
});

const spent = (cents: number): Spent => ({
  requests: 1,
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  list_cost_cents: cents,
  unpriced_models: [],
  wall_seconds: 0,
});

describe('budgets', () => {
  it('reads dollars as a cost cap in cents, empty as none, and refuses what is not an amount', () => {
    expect(parseBudgetDollars('25')).toEqual({ ok: true, budget: { type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' } } });
    expect(parseBudgetDollars(' $0.01 ')).toEqual({ ok: true, budget: { type: 'limit', max_list_cost: { amount: '1', currency: 'USD' } } });
    expect(parseBudgetDollars('')).toEqual({ ok: true, budget: null });
    expect(parseBudgetDollars('0')).toMatchObject({ ok: false });
    expect(parseBudgetDollars('1.005')).toMatchObject({ ok: false });
    expect(parseBudgetDollars('ten')).toMatchObject({ ok: false });
  });

  it('keeps token and time caps when the cost cap changes', () => {
    const cap = parseBudgetDollars('5');
    expect(
      cap.ok && withCostCap({ type: 'limit', max_tokens: 1000, max_list_cost: { amount: '100', currency: 'USD' } }, cap.budget),
    ).toEqual({ type: 'limit', max_tokens: 1000, max_list_cost: { amount: '500', currency: 'USD' } });
    expect(withCostCap({ type: 'limit', max_list_cost: { amount: '100', currency: 'USD' } }, null)).toBeNull();
  });

  it('meters spending against the cap', () => {
    const budget = { type: 'limit' as const, max_list_cost: { amount: '2500', currency: 'USD' as const } };
    expect(meterOf(spent(42), budget)).toEqual({ label: '$0.42 / $25.00', fraction: 42 / 2500, tone: 'ok' });
    expect(meterOf(spent(2600), budget)).toMatchObject({ fraction: 1, tone: 'reached' });
    expect(meterOf(spent(42), null)).toEqual({ label: '$0.42 spent', fraction: null, tone: 'ok' });
  });
});

import { describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import type { EvaluatedPermission } from '#shared/guardrails';
import { evaluate } from '#services/guardrails/policy';
import { storedEvents } from '#test/support/event-log';
import {
  confirmedToRun,
  cutByFork,
  deniedToAnswer,
  emptyGuardrails,
  guardrailsOf,
  guardrailsView,
  pendingApprovals,
  policyDenied,
  spentOf,
  startedAndCut,
  toolUseNamed,
  wallMsOf,
  type GuardrailsState,
} from './approvals.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

/** Stored events; `ms` gives each event's time as an offset from T0 (default: one ms apart). */
function log(events: NewEvent[], ms?: number[]): StoredEvent[] {
  return storedEvents(...events).map((event, i) => ({ ...event, ts: new Date(T0 + (ms?.[i] ?? i)).toISOString() }));
}

const attachSsh: NewEvent = {
  type: 'hand.attached',
  payload: { hand_id: 'laptop', config: { kind: 'ssh', host: 'h', user: 'u', auth: { method: 'agent' } } },
};
const attachDocker = (name = 'laptop'): NewEvent => ({
  type: 'hand.attached',
  payload: { hand_id: name, config: { kind: 'docker', image: 'debian:bookworm' } },
});
const attachMcp = (trusted?: boolean): NewEvent => ({
  type: 'hand.attached',
  payload: {
    hand_id: 'mail',
    config: { kind: 'mcp', transport: { type: 'stdio', command: 'mail-server' }, ...(trusted === undefined ? {} : { trusted }) },
  },
});
const setPolicy = (hand: string, tool: string | null, policy: 'always_allow' | 'always_ask' | 'deny'): NewEvent => ({
  type: 'policy.set',
  payload: { hand, tool, policy },
});
const addRule = (id: string, hand = 'laptop'): NewEvent => ({
  type: 'policy.rule_added',
  payload: { rule_id: id, hand, tool: 'bash', rule: { type: 'read_only_commands' } },
});
const use = (id: string, permission?: EvaluatedPermission, command = 'rm -rf build'): NewEvent => ({
  type: 'agent.tool_use',
  payload: {
    tool_use_id: id,
    name: 'laptop__bash',
    input: { command },
    hand_id: 'laptop',
    ...(permission ? { evaluated_permission: permission } : {}),
  },
});
const mcpUse = (id: string, permission: EvaluatedPermission): NewEvent => ({
  type: 'agent.mcp_tool_use',
  payload: { tool_use_id: id, server_name: 'mail', name: 'mail__send', input: { to: 'a@b.c' }, evaluated_permission: permission },
});
const confirm = (id: string, result: 'allow' | 'deny', message?: string): NewEvent => ({
  type: 'user.tool_confirmation',
  payload: message === undefined ? { tool_use_id: id, result } : { tool_use_id: id, result, deny_message: message },
});
const runStart = (id: string): NewEvent => ({ type: 'span.tool_run_start', payload: { tool_use_id: id } });
const result = (id: string): NewEvent => ({ type: 'agent.tool_result', payload: { tool_use_id: id, content: [], is_error: false } });
const mcpResult = (id: string): NewEvent => ({ type: 'agent.mcp_tool_result', payload: { tool_use_id: id, content: [], is_error: false } });
const running: NewEvent = { type: 'session.status_running', payload: {} };
const idle: NewEvent = { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } };
const user: NewEvent = { type: 'user.message', payload: { content: [{ type: 'text', text: 'go' }] } };
const end = (model: string, purpose: 'turn' | 'grading' | 'compaction', output: number, input = 0): NewEvent => ({
  type: 'span.model_request_end',
  payload: {
    model,
    purpose,
    usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    stop_reason: 'end_turn',
    is_error: false,
    duration_ms: 1,
  },
});

const ids = (records: { event: { payload: { tool_use_id: string } } }[]): string[] =>
  records.map((record) => record.event.payload.tool_use_id);

/** What the fold's policies and rules say of a bash command on the SSH hand "laptop". */
function bashOnLaptop(state: GuardrailsState, command: string): EvaluatedPermission {
  const hand = state.hands.get('laptop');
  return evaluate({
    policies: [...state.policies.values()],
    rules: [...state.rules.values()],
    handKind: hand?.kind ?? 'ssh',
    handName: 'laptop',
    tool: 'bash',
    input: { command },
    trusted: hand?.trusted ?? false,
  });
}

describe('policies and rules from the log', () => {
  it('keeps the latest policy per hand and tool, and the hand’s own default apart', () => {
    const state = guardrailsOf(
      log([
        attachSsh,
        setPolicy('laptop', 'bash', 'deny'),
        setPolicy('laptop', null, 'always_allow'),
        setPolicy('laptop', 'bash', 'always_ask'),
      ]),
    );
    expect([...state.policies.values()]).toEqual([
      { hand: 'laptop', tool: 'bash', policy: 'always_ask' },
      { hand: 'laptop', tool: null, policy: 'always_allow' },
    ]);
    expect(bashOnLaptop(state, 'rm x')).toBe('ask');
  });

  it('adds and removes rules by id', () => {
    const state = guardrailsOf(log([attachSsh, addRule('a'), addRule('b'), { type: 'policy.rule_removed', payload: { rule_id: 'a' } }]));
    expect([...state.rules.keys()]).toEqual(['b']);
    expect(bashOnLaptop(state, 'ls -la')).toBe('allow');
    expect(bashOnLaptop(state, 'ls > x')).toBe('ask');
  });

  it('drops a hand’s policies and rules when it is detached, so a later hand of that name starts from its defaults', () => {
    const state = guardrailsOf(
      log([
        attachSsh,
        setPolicy('laptop', null, 'always_allow'),
        addRule('a'),
        { type: 'hand.detached', payload: { hand_id: 'laptop' } },
        attachSsh,
      ]),
    );
    expect(state.policies.size).toBe(0);
    expect(state.rules.size).toBe(0);
    expect(bashOnLaptop(state, 'rm x')).toBe('ask');
  });

  it('drops them when the name is attached again as another kind of hand, and keeps them for the same kind', () => {
    const changed = guardrailsOf(log([attachDocker(), setPolicy('laptop', 'bash', 'always_allow'), attachSsh]));
    expect(changed.policies.size).toBe(0);
    expect(bashOnLaptop(changed, 'rm x')).toBe('ask');
    const updated = guardrailsOf(log([attachSsh, setPolicy('laptop', 'bash', 'always_allow'), attachSsh]));
    expect(bashOnLaptop(updated, 'rm x')).toBe('allow');
  });

  it('knows each hand’s kind, and whether an MCP server is trusted (absent: not)', () => {
    expect(guardrailsOf(log([attachMcp()])).hands.get('mail')).toEqual({ kind: 'mcp', trusted: false });
    expect(guardrailsOf(log([attachMcp(), attachMcp(true)])).hands.get('mail')).toEqual({ kind: 'mcp', trusted: true });
    expect(guardrailsOf(log([attachDocker('box')])).hands.get('box')).toEqual({ kind: 'docker', trusted: false });
  });

  it('keeps the latest budget; null removes it', () => {
    const budget = { type: 'limit' as const, max_list_cost: { amount: '100', currency: 'USD' as const } };
    expect(guardrailsOf(log([{ type: 'session.budget_set', payload: { budget } }])).budget).toEqual(budget);
    expect(
      guardrailsOf(
        log([
          { type: 'session.budget_set', payload: { budget } },
          { type: 'session.budget_set', payload: { budget: null } },
        ]),
      ).budget,
    ).toBeNull();
  });
});

describe('spending from the log', () => {
  it('sums every model request, grader and compaction calls included, priced from the price table', () => {
    // claude-sonnet-5-5: $10 per million output tokens, so 1,000 output tokens are 1 cent.
    const state = guardrailsOf(
      log([
        end('claude-sonnet-5-5', 'turn', 1000),
        end('claude-sonnet-5-5', 'grading', 1000, 500),
        end('claude-sonnet-5-5', 'compaction', 500),
      ]),
    );
    expect(spentOf(state, T0)).toEqual({
      requests: 3,
      input_tokens: 500,
      output_tokens: 2500,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      list_cost_cents: 2.6,
      unpriced_models: [],
      wall_seconds: 0,
    });
  });

  it('counts the tokens of a model without a price and names it', () => {
    const spent = spentOf(guardrailsOf(log([end('someone-elses-model', 'turn', 1000), end('claude-sonnet-5-5', 'turn', 1000)])), T0);
    expect(spent).toMatchObject({ output_tokens: 2000, list_cost_cents: 1, unpriced_models: ['someone-elses-model'] });
  });

  it('sums many small costs exactly enough to meet a cap', () => {
    // 100 requests of 10 output tokens each: 0.01 cent each, 1 cent in all.
    const spent = spentOf(guardrailsOf(log(Array.from({ length: 100 }, () => end('claude-sonnet-5-5', 'turn', 10)))), T0);
    expect(spent.list_cost_cents).toBe(1);
  });

  it('counts time spent running: closed runs, and an open one up to now', () => {
    const state = guardrailsOf(log([user, running, idle, user, running], [0, 1000, 31_000, 100_000, 101_000]));
    expect(wallMsOf(state, T0 + 101_000)).toBe(30_000);
    expect(wallMsOf(state, T0 + 111_000)).toBe(40_000);
    expect(spentOf(state, T0 + 111_000).wall_seconds).toBe(40);
  });

  it('counts a run open at a fork point only up to the parent’s last event in the view', () => {
    const view = log(
      [user, running, end('claude-sonnet-5-5', 'turn', 10), { type: 'session.forked', payload: { parent_session_id: 'p', at_seq: 3 } }],
      [0, 1000, 6000, 86_400_000],
    );
    const state = guardrailsOf(view);
    expect(wallMsOf(state, T0 + 90_000_000)).toBe(5000);
  });
});

describe('approvals from the log', () => {
  it('a tool use that asked waits until it is answered or has a result', () => {
    const asked = [attachSsh, use('t1', 'ask'), use('t2', 'ask')];
    expect(ids(pendingApprovals(guardrailsOf(log(asked))))).toEqual(['t1', 't2']);
    expect(ids(pendingApprovals(guardrailsOf(log([...asked, confirm('t2', 'deny')]))))).toEqual(['t1']);
    expect(ids(pendingApprovals(guardrailsOf(log([...asked, result('t1')]))))).toEqual(['t2']);
  });

  it('an allowed tool is to run until its run starts; then, without a result, it was cut', () => {
    const allowed = [attachSsh, use('t1', 'ask'), confirm('t1', 'allow')];
    let state = guardrailsOf(log(allowed));
    expect(ids(confirmedToRun(state))).toEqual(['t1']);
    expect(ids(startedAndCut(state))).toEqual([]);
    state = guardrailsOf(log([...allowed, runStart('t1')]));
    expect(ids(confirmedToRun(state))).toEqual([]);
    expect(ids(startedAndCut(state))).toEqual(['t1']);
    state = guardrailsOf(log([...allowed, runStart('t1'), result('t1')]));
    expect([confirmedToRun(state), startedAndCut(state), pendingApprovals(state)].flat()).toEqual([]);
  });

  it('a denied tool is to be answered with the user’s message until its result is in', () => {
    let state = guardrailsOf(log([attachSsh, use('t1', 'ask'), confirm('t1', 'deny', 'Not on my laptop.')]));
    expect(deniedToAnswer(state).map((record) => record.confirmation)).toEqual([
      { result: 'deny', denyMessage: 'Not on my laptop.', seq: 3 },
    ]);
    expect(confirmedToRun(state)).toEqual([]);
    state = guardrailsOf(log([attachSsh, use('t1', 'ask'), confirm('t1', 'deny'), result('t1')]));
    expect(deniedToAnswer(state)).toEqual([]);
  });

  it('the first answer counts: a second one in a log is ignored', () => {
    const state = guardrailsOf(log([attachSsh, use('t1', 'ask'), confirm('t1', 'deny'), confirm('t1', 'allow')]));
    expect(confirmedToRun(state)).toEqual([]);
    expect(ids(deniedToAnswer(state))).toEqual(['t1']);
  });

  it('a tool use a policy denied is to be answered, never run', () => {
    const state = guardrailsOf(log([attachSsh, use('t1', 'deny')]));
    expect(ids(policyDenied(state))).toEqual(['t1']);
    expect([pendingApprovals(state), confirmedToRun(state)].flat()).toEqual([]);
    expect(policyDenied(guardrailsOf(log([attachSsh, use('t1', 'deny'), result('t1')])))).toEqual([]);
  });

  it('reads a tool use without evaluated_permission (an older log) as allowed: nothing waits', () => {
    const state = guardrailsOf(log([attachSsh, use('t1')]));
    expect(state.toolUses.get('t1')?.permission).toBe('allow');
    expect(
      [pendingApprovals(state), confirmedToRun(state), deniedToAnswer(state), policyDenied(state), startedAndCut(state)].flat(),
    ).toEqual([]);
  });

  it('follows MCP tool uses by their server', () => {
    const state = guardrailsOf(
      log([attachMcp(), mcpUse('m1', 'ask'), mcpUse('m2', 'ask'), confirm('m2', 'allow'), runStart('m2'), mcpResult('m2')]),
    );
    expect(pendingApprovals(state).map((record) => record.hand)).toEqual(['mail']);
    expect(ids(pendingApprovals(state))).toEqual(['m1']);
  });

  it('ignores answers and run starts for tool uses it has not seen', () => {
    const state = guardrailsOf(log([confirm('ghost', 'allow'), runStart('ghost'), result('ghost')]));
    expect(state.toolUses.size).toBe(0);
  });

  it('finds a tool use by its tool_use_id or by its event’s id', () => {
    const view = log([attachSsh, use('t1', 'ask')]);
    const state = guardrailsOf(view);
    expect(toolUseNamed(state, 't1')?.event.seq).toBe(2);
    expect(toolUseNamed(state, view[1]?.id ?? '')?.event.payload.tool_use_id).toBe('t1');
    expect(toolUseNamed(state, 'nope')).toBeUndefined();
  });

  it('lists what waits as the approval card shows it', () => {
    const view = log([attachSsh, use('t1', 'ask', 'make deploy'), mcpUse('m1', 'ask')]);
    const shown = guardrailsView(guardrailsOf(view), T0);
    expect(shown.pending).toEqual([
      { event_id: view[1]?.id, seq: 2, tool_use_id: 't1', hand: 'laptop', name: 'laptop__bash', input: { command: 'make deploy' } },
      { event_id: view[2]?.id, seq: 3, tool_use_id: 'm1', hand: 'mail', name: 'mail__send', input: { to: 'a@b.c' } },
    ]);
    expect(shown).toMatchObject({ policies: [], rules: [], budget: null, spent: { requests: 0 } });
  });
});

describe('an imported log (events up to importedSeq came from a file)', () => {
  const fromFile: NewEvent[] = [
    attachSsh,
    setPolicy('laptop', 'bash', 'always_allow'),
    setPolicy('laptop', 'editor', 'deny'),
    addRule('r1'),
    attachMcp(true),
    { type: 'session.budget_set', payload: { budget: { type: 'limit', max_tokens: 1000 } } },
    use('t1', 'ask'),
    confirm('t1', 'allow'),
    use('t2', 'ask'),
    confirm('t2', 'deny', 'no'),
  ];
  const imported = () => guardrailsOf(log(fromFile), emptyGuardrails({ importedSeq: fromFile.length }));

  it('keeps what restricts: ask and deny policies, denials, the budget', () => {
    const state = imported();
    expect([...state.policies.values()]).toEqual([{ hand: 'laptop', tool: 'editor', policy: 'deny' }]);
    expect(ids(deniedToAnswer(state))).toEqual(['t2']);
    expect(state.budget).toEqual({ type: 'limit', max_tokens: 1000 });
  });

  it('never loosens: no always_allow, no rule, no allow, no trusted server — the user decides here', () => {
    const state = imported();
    expect(bashOnLaptop(state, 'git status')).toBe('ask');
    expect(state.rules.size).toBe(0);
    expect(state.hands.get('mail')).toEqual({ kind: 'mcp', trusted: false });
    expect(confirmedToRun(state)).toEqual([]);
    expect(ids(pendingApprovals(state))).toEqual(['t1']);
    // The same events recorded here, not imported, do loosen.
    const local = guardrailsOf(log(fromFile));
    expect(bashOnLaptop(local, 'rm x')).toBe('allow');
    expect(ids(confirmedToRun(local))).toEqual(['t1']);
  });

  it('honours what the user does after the import', () => {
    const events = [...fromFile, setPolicy('laptop', 'bash', 'always_allow'), confirm('t1', 'allow'), attachMcp(true)];
    const state = guardrailsOf(log(events), emptyGuardrails({ importedSeq: fromFile.length }));
    expect(bashOnLaptop(state, 'rm x')).toBe('allow');
    expect(ids(confirmedToRun(state))).toEqual(['t1']);
    expect(state.hands.get('mail')?.trusted).toBe(true);
  });
});

describe('a fork or rewind (the fold reads the resolved view)', () => {
  // The parent: an SSH hand whose bash is allowed, a rule, a budget, two tool uses that asked.
  const parent: NewEvent[] = [
    attachSsh,
    setPolicy('laptop', 'editor', 'deny'),
    addRule('r1'),
    { type: 'session.budget_set', payload: { budget: { type: 'limit', max_tokens: 1000 } } },
    user,
    running,
    use('t1', 'ask'),
    use('t2', 'ask'),
    confirm('t1', 'allow'),
    { type: 'session.status_idle', payload: { stop_reason: { type: 'requires_action', event_ids: ['e2'] } } },
  ];
  const forked = (atSeq: number): NewEvent => ({ type: 'session.forked', payload: { parent_session_id: 'parent', at_seq: atSeq } });

  it('inherits the policies, rules and budget set before the fork point', () => {
    const state = guardrailsOf(log([...parent.slice(0, 4), forked(4), setPolicy('laptop', 'bash', 'always_ask')]));
    expect([...state.policies.values()]).toContainEqual({ hand: 'laptop', tool: 'editor', policy: 'deny' });
    expect(bashOnLaptop(state, 'git status')).toBe('allow');
    expect(bashOnLaptop(state, 'rm x')).toBe('ask');
    expect(state.budget).toEqual({ type: 'limit', max_tokens: 1000 });
  });

  it('does not see what the parent set after the fork point', () => {
    const view = log([...parent.slice(0, 2), forked(2)]);
    expect(guardrailsOf(view).rules.size).toBe(0);
    expect(guardrailsOf(view).budget).toBeNull();
  });

  it('still waits for an approval pending at the fork point, and runs it once allowed in the fork', () => {
    const atPending = log([...parent, forked(parent.length)]);
    expect(ids(pendingApprovals(guardrailsOf(atPending)))).toEqual(['t2']);
    const allowedHere = guardrailsOf(log([...parent, forked(parent.length), confirm('t2', 'allow')]));
    expect(ids(confirmedToRun(allowedHere))).toEqual(['t2']);
  });

  it('never runs a tool allowed before the fork point: the parent’s branch may have run it since', () => {
    const state = guardrailsOf(log([...parent, forked(parent.length)]));
    expect(ids(confirmedToRun(state))).toEqual([]);
    expect(ids(cutByFork(state))).toEqual(['t1']);
    // Without a fork, the same log runs it.
    expect(ids(confirmedToRun(guardrailsOf(log(parent))))).toEqual(['t1']);
    expect(cutByFork(guardrailsOf(log(parent)))).toEqual([]);
  });

  it('a rewind at the tool use itself, before any answer, waits for the user again', () => {
    const state = guardrailsOf(log([...parent.slice(0, 7), forked(7)]));
    expect(ids(pendingApprovals(state))).toEqual(['t1']);
  });
});

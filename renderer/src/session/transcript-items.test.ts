// The transcript's folding of events into items, on events shaped exactly as the store writes them.
import { describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import type { McpHandConfig } from '#shared/hands';
import { handsAsOf } from '#renderer/hands/index.ts';
import { FOLD_CHARS, FOLD_LINES, foldedText, handChangeText, inputSummary, transcriptItems } from './transcript-items.ts';

function stored(events: NewEvent[]): StoredEvent[] {
  return events.map(
    (event, index) =>
      ({
        seq: index + 1,
        id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        ts: '2026-11-22T10:00:00.000Z',
        ...event,
      }) as StoredEvent,
  );
}

const usage = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 5, cache_creation_input_tokens: 0 };
const turn: NewEvent[] = [
  { type: 'user.message', payload: { content: [{ type: 'text', text: 'Fix it' }] } },
  { type: 'session.status_running', payload: {} },
  { type: 'agent.thinking', payload: { thinking: 'Look first.', signature: 's' } },
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Running tests.' }] } },
  { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'box__bash', input: { command: 'npm test' }, hand_id: 'box' } },
  {
    type: 'agent.tool_result',
    payload: {
      tool_use_id: 't1',
      content: [{ type: 'text', text: '\u001b[32mok\u001b[0m' }],
      is_error: false,
      status: 'completed',
      duration_ms: 12,
    },
  },
  {
    type: 'span.model_request_end',
    payload: { model: 'm', purpose: 'turn', usage, stop_reason: 'tool_use', is_error: false, duration_ms: 30 },
  },
  {
    type: 'span.model_request_end',
    payload: { model: 'm', purpose: 'turn', usage, stop_reason: 'end_turn', is_error: false, duration_ms: 40 },
  },
  { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
];

describe('transcript items', () => {
  it('folds a turn into a message, thinking, a tool call with its result and a usage line', () => {
    const items = transcriptItems(stored(turn), () => undefined);
    expect(items.map((item) => item.kind)).toEqual(['user', 'thinking', 'agent', 'tool', 'turn-end']);
    const tool = items[3];
    if (tool?.kind !== 'tool') throw new Error('expected a tool call');
    expect(tool).toMatchObject({ on: 'box', name: 'bash', summary: 'npm test' });
    expect(tool.result).toMatchObject({ text: '\u001b[32mok\u001b[0m', isError: false, durationMs: 12 });
    expect(items[4]).toMatchObject({
      kind: 'turn-end',
      requests: 2,
      durationMs: 70,
      usage: { input_tokens: 200, output_tokens: 40, cache_read_input_tokens: 10 },
    });
  });

  it('shows a tool call as running when the cursor is before its result', () => {
    const items = transcriptItems(stored(turn.slice(0, 5)), () => undefined);
    const tool = items.at(-1);
    expect(tool?.kind === 'tool' ? tool.result : 'not a tool').toBeUndefined();
  });

  it('says when a turn stopped early, a branch begins, and a hand started from a snapshot', () => {
    const events = stored([
      { type: 'session.forked', payload: { parent_session_id: 'p', at_seq: 4 } },
      { type: 'hand.ready', payload: { hand_id: 'box', restored_from: { session_id: 'p', at_seq: 3 } } },
      { type: 'session.status_idle', payload: { stop_reason: { type: 'max_tokens' } } },
      {
        type: 'session.error',
        payload: {
          error: { type: 'overloaded_error', message: 'Overloaded', status: 529 },
          retry_status: { type: 'retrying', attempt: 2, delay_ms: 100 },
        },
      },
    ]);
    const items = transcriptItems(events, (id) => (id === 'p' ? 'Parent' : undefined));
    expect(items[0]).toMatchObject({ kind: 'branch', atSeq: 4 });
    expect(items[1]).toMatchObject({ kind: 'notice', text: expect.stringContaining('restored from the snapshot at event #3 of “Parent”') });
    expect(items[2]).toMatchObject({ kind: 'notice', tone: 'error', text: expect.stringContaining('output limit') });
    expect(items[3]).toMatchObject({ kind: 'notice', tone: 'warn', text: 'Overloaded (529). Retrying (attempt 2)…' });
  });

  it('says a stop for an approval or a budget as waiting for the user (a warning, not a failure)', () => {
    const events = stored([
      {
        type: 'session.status_idle',
        payload: { stop_reason: { type: 'requires_action', event_ids: ['e1'], message: 'A tool call waits for your approval.' } },
      },
      { type: 'session.status_idle', payload: { stop_reason: { type: 'budget_reached', message: 'The session reached its budget.' } } },
    ]);
    const items = transcriptItems(events, () => undefined);
    expect(items[0]).toMatchObject({ kind: 'notice', tone: 'warn', text: 'Waiting for you. A tool call waits for your approval.' });
    expect(items[1]).toMatchObject({ kind: 'notice', tone: 'warn', text: 'Stopped at the budget. The session reached its budget.' });
  });

  it('shows a message sent while Claude answered after that answer, as the model read it, and as queued while it is still being written', () => {
    const start: NewEvent = { type: 'span.model_request_start', payload: { model: 'm', purpose: 'turn' } };
    const end: NewEvent = {
      type: 'span.model_request_end',
      payload: { model: 'm', purpose: 'turn', usage, stop_reason: 'end_turn', is_error: false, duration_ms: 30 },
    };
    const events: NewEvent[] = [
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'first' }] } },
      { type: 'session.status_running', payload: {} },
      start,
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'second' }] } },
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'answer to first' }] } },
      end,
    ];
    const done = transcriptItems(stored(events), () => undefined);
    expect(done.filter((item) => item.kind === 'user' || item.kind === 'agent').map((item) => ('text' in item ? item.text : ''))).toEqual([
      'first',
      'answer to first',
      'second',
    ]);
    expect(done.find((item) => item.kind === 'user' && item.text === 'second')).not.toHaveProperty('queued', true);
    // The answer is still being written: the second message waits, marked as queued.
    const writing = transcriptItems(stored(events.slice(0, 4)), () => undefined);
    expect(writing.at(-1)).toMatchObject({ kind: 'user', text: 'second', queued: true });
  });

  it('with no key set, says once that nothing was sent (never that the API refused a key)', () => {
    const noKey =
      'No Anthropic API key is set. Add your key in Settings → Credentials (or set ANTHROPIC_API_KEY before starting Drover), then send your message again.';
    const items = transcriptItems(
      stored([
        { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } },
        { type: 'session.status_running', payload: {} },
        { type: 'session.error', payload: { error: { type: 'authentication_error', message: noKey }, retry_status: { type: 'terminal' } } },
        { type: 'session.status_idle', payload: { stop_reason: { type: 'authentication_failed', message: noKey } } },
      ]),
      () => undefined,
    );
    const notices = items.filter((item) => item.kind === 'notice');
    expect(notices).toEqual([
      expect.objectContaining({ tone: 'error', help: 'api-key', text: 'No Anthropic API key is set, so nothing was sent to Claude.' }),
    ]);
    // A key that was sent and refused: one notice, the harness's own words.
    const refused =
      'The Anthropic API refused the API key (401 authentication_error: invalid x-api-key). Replace the key in Settings → Credentials (or fix ANTHROPIC_API_KEY), then send your message again.';
    const sent = transcriptItems(
      stored([
        {
          type: 'session.error',
          payload: {
            error: { type: 'authentication_error', message: 'invalid x-api-key', status: 401 },
            retry_status: { type: 'terminal' },
          },
        },
        { type: 'session.status_idle', payload: { stop_reason: { type: 'authentication_failed', message: refused } } },
      ]),
      () => undefined,
    );
    expect(sent).toEqual([expect.objectContaining({ kind: 'notice', text: refused })]);
  });

  it('says once that the user stopped Claude', () => {
    const items = transcriptItems(
      stored([
        { type: 'user.message', payload: { content: [{ type: 'text', text: 'hi' }] } },
        { type: 'user.interrupt', payload: {} },
        { type: 'session.status_idle', payload: { stop_reason: { type: 'interrupted' } } },
      ]),
      () => undefined,
    );
    expect(items.filter((item) => item.kind === 'notice').map((item) => (item.kind === 'notice' ? item.text : ''))).toEqual([
      'You stopped Claude.',
    ]);
  });

  it('puts the note that a hand started from a snapshot before the tool call that waited for it', () => {
    const items = transcriptItems(
      stored([
        { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'box__bash', input: { command: 'cat notes.txt' }, hand_id: 'box' } },
        { type: 'hand.ready', payload: { hand_id: 'box', container: 'c1', restored_from: { session_id: 'p', at_seq: 3 } } },
        {
          type: 'agent.tool_result',
          payload: { tool_use_id: 't1', content: [{ type: 'text', text: 'kept' }], is_error: false, status: 'completed', duration_ms: 5 },
        },
      ]),
      () => undefined,
    );
    expect(items.map((item) => item.kind)).toEqual(['notice', 'tool']);
  });

  it('marks a tool call the policy asked about, and only that one', () => {
    const items = transcriptItems(
      stored([
        {
          type: 'agent.tool_use',
          payload: { tool_use_id: 't1', name: 'box__bash', input: { command: 'ls' }, hand_id: 'box', evaluated_permission: 'ask' },
        },
        {
          type: 'agent.tool_use',
          payload: { tool_use_id: 't2', name: 'box__bash', input: { command: 'pwd' }, hand_id: 'box', evaluated_permission: 'allow' },
        },
        { type: 'agent.tool_use', payload: { tool_use_id: 't3', name: 'box__bash', input: { command: 'id' }, hand_id: 'box' } },
      ]),
      () => undefined,
    );
    expect(items.map((item) => (item.kind === 'tool' ? item.asked : null))).toEqual([true, false, false]);
  });

  it('summarizes tool inputs by what matters', () => {
    expect(inputSummary('bash', { command: 'ls -la' })).toBe('ls -la');
    expect(inputSummary('bash', { restart: true })).toBe('restart the shell');
    expect(inputSummary('editor', { command: 'view', path: '/a.txt' })).toBe('view /a.txt');
    expect(inputSummary('x', { q: 'y'.repeat(400) })).toHaveLength(300);
  });
});

describe('long messages fold', () => {
  it('keeps short messages whole and cuts long ones (by size or by lines) at a line end', () => {
    expect(foldedText('short\nmessage')).toBeNull();
    const huge = 'x'.repeat(79) + '\n';
    const big = huge.repeat(2600); // ~200 KB
    const head = foldedText(big);
    expect(head).not.toBeNull();
    expect(head!.length).toBeLessThanOrEqual(FOLD_CHARS);
    expect(head!.endsWith('x')).toBe(true);
    expect(big.startsWith(head!)).toBe(true);
    const tall = Array.from({ length: FOLD_LINES + 10 }, (_, i) => `line ${i}`).join('\n');
    expect(foldedText(tall)?.split('\n')).toHaveLength(FOLD_LINES);
    expect(foldedText('y'.repeat(FOLD_CHARS + 1))).toHaveLength(FOLD_CHARS);
  });
});

describe('hands as of an event', () => {
  const events = stored([
    { type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'docker', image: 'debian:bookworm' } } },
    { type: 'hand.provisioning', payload: { hand_id: 'box', phase: 'pulling', message: 'Pulling debian' } },
    { type: 'hand.ready', payload: { hand_id: 'box', container: 'abc123', restored_from: { session_id: 'p', at_seq: 7 } } },
    { type: 'hand.snapshot', payload: { hand_id: 'box', at_seq: 4, image: 'img', bytes: 1, duration_ms: 1 } },
    { type: 'hand.lost', payload: { hand_id: 'box', reason: 'container exited (137)' } },
    { type: 'hand.detached', payload: { hand_id: 'box' } },
  ]);
  it('follows each hand through its states, and forgets it once detached', () => {
    expect(handsAsOf(events, 0)).toEqual([]);
    expect(handsAsOf(events, 1)).toMatchObject([{ name: 'box', state: 'idle' }]);
    expect(handsAsOf(events, 2)).toMatchObject([{ state: 'provisioning', detail: 'Pulling debian' }]);
    expect(handsAsOf(events, 4)).toMatchObject([{ state: 'ready', restoredFrom: { sessionId: 'p', atSeq: 7 }, snapshots: 1 }]);
    expect(handsAsOf(events, 5)).toMatchObject([{ state: 'lost', detail: 'container exited (137)' }]);
    expect(handsAsOf(events, 6)).toEqual([]);
  });
});

describe('outcomes in the transcript', () => {
  const define: NewEvent = {
    type: 'user.define_outcome',
    payload: {
      description: 'The tests pass',
      rubric: '- `npm test` exits 0',
      max_iterations: 3,
      verification: { hand_id: 'box', command: 'npm test' },
    },
  };
  const start = (iteration: number): NewEvent => ({ type: 'span.outcome_evaluation_start', payload: { iteration } });
  const needsRevision: NewEvent = {
    type: 'span.outcome_evaluation_end',
    payload: {
      iteration: 1,
      result: 'needs_revision',
      explanation: 'One test **still fails**.',
      criteria: [
        { criterion: 'npm test exits 0', met: false, note: '1 failing' },
        { criterion: 'No skipped tests', met: true, note: '' },
      ],
      verification: { hand_id: 'box', command: 'npm test', output: '\u001b[31mFAIL\u001b[0m', is_error: true },
    },
  };

  it('shows the definition as a card with its rubric and verification', () => {
    const [item] = transcriptItems(stored([define]), () => undefined);
    expect(item).toEqual({
      kind: 'outcome-defined',
      key: 'e1',
      seq: 1,
      description: 'The tests pass',
      rubric: '- `npm test` exits 0',
      maxIterations: 3,
      verification: { handId: 'box', command: 'npm test' },
    });
  });

  it('shows a check under way until its verdict, then the verdict in its place', () => {
    const running = transcriptItems(stored([define, start(1)]), () => undefined);
    expect(running[1]).toEqual({ kind: 'outcome-checking', key: 'e2', seq: 2, iteration: 1, maxIterations: 3 });

    const done = transcriptItems(stored([define, start(1), needsRevision]), () => undefined);
    expect(done.map((item) => item.kind)).toEqual(['outcome-defined', 'outcome-check']);
    expect(done[1]).toEqual({
      kind: 'outcome-check',
      key: 'e2',
      seq: 3,
      iteration: 1,
      maxIterations: 3,
      result: 'needs_revision',
      explanation: 'One test **still fails**.',
      criteria: [
        { criterion: 'npm test exits 0', met: false, note: '1 failing' },
        { criterion: 'No skipped tests', met: true, note: '' },
      ],
      verification: { handId: 'box', command: 'npm test', output: '\u001b[31mFAIL\u001b[0m', isError: true },
    });
  });

  it('shows a verdict whose start and definition are out of view, without a limit or criteria', () => {
    const [item] = transcriptItems(
      stored([{ type: 'span.outcome_evaluation_end', payload: { iteration: 2, result: 'satisfied', explanation: 'Done.' } }]),
      () => undefined,
    );
    expect(item).toMatchObject({
      kind: 'outcome-check',
      iteration: 2,
      maxIterations: null,
      result: 'satisfied',
      criteria: [],
      verification: null,
    });
  });

  it('keeps the turns between checks: a second turn after "needs revision", then satisfied', () => {
    const events = stored([
      define,
      ...turn,
      start(1),
      needsRevision,
      { type: 'user.message', payload: { content: [{ type: 'text', text: 'Revise: one test still fails.' }] } },
      { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Fixed it.' }] } },
      start(2),
      { type: 'span.outcome_evaluation_end', payload: { iteration: 2, result: 'satisfied', explanation: 'All green.' } },
    ]);
    const kinds = transcriptItems(events, () => undefined).map((item) => item.kind);
    expect(kinds).toEqual([
      'outcome-defined',
      'user',
      'thinking',
      'agent',
      'tool',
      'turn-end',
      'outcome-check',
      'user',
      'agent',
      'outcome-check',
    ]);
  });
});

describe('MCP in the transcript', () => {
  const config: McpHandConfig = {
    kind: 'mcp',
    transport: { type: 'stdio', command: 'npx', args: [], cwd: null, env: { API_TOKEN: { secret_id: 'sec_0123456789abcdef' } } },
    enabled: true,
    disabled_tools: [],
    timeout_seconds: 120,
  };
  const echoOff: McpHandConfig = { ...config, disabled_tools: ['echo'] };

  it('shows the server and its own tool name, with the structured result', () => {
    const items = transcriptItems(
      stored([
        { type: 'agent.mcp_tool_use', payload: { tool_use_id: 't1', server_name: 'memory', name: 'memory__read_graph', input: {} } },
        {
          type: 'agent.mcp_tool_result',
          payload: { tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }], structured_content: { entities: [] }, is_error: false },
        },
      ]),
      () => undefined,
    );
    expect(items).toMatchObject([{ kind: 'tool', on: 'memory', name: 'read_graph', result: { text: 'ok', structured: { entities: [] } } }]);
  });

  it('folds a reconfiguration (detach + attach) into one notice saying what changed', () => {
    const events = stored([
      { type: 'hand.attached', payload: { hand_id: 'memory', config } },
      { type: 'hand.detached', payload: { hand_id: 'memory' } },
      { type: 'hand.attached', payload: { hand_id: 'memory', config: echoOff } },
      { type: 'hand.detached', payload: { hand_id: 'memory' } },
      { type: 'hand.attached', payload: { hand_id: 'memory', config: { ...echoOff, enabled: false } } },
    ]);
    const texts = transcriptItems(events, () => undefined).map((item) => (item.kind === 'notice' ? item.text : item.kind));
    expect(texts).toEqual([
      expect.stringContaining('Hand memory attached'),
      'Tools of memory: echo turned off.',
      'MCP server memory turned off: its tools are no longer offered.',
    ]);
  });

  it('says which tools were marked as changing files, or no longer', () => {
    const marked: McpHandConfig = { ...config, writing_tools: ['create_entities', 'delete_entities'] };
    expect(handChangeText('memory', config, marked)).toBe(
      "Tools of memory: create_entities, delete_entities marked as changing files (Drover checkpoints the session's files after each call).",
    );
    expect(handChangeText('memory', marked, { ...config, writing_tools: ['delete_entities'] })).toBe(
      'Tools of memory: create_entities no longer marked as changing files.',
    );
  });
});

describe('custom tools', () => {
  it('a custom call is a tool item that waits for the program until a result names its event; a system message is a notice', () => {
    const events = stored([
      { type: 'system.message', payload: { content: [{ type: 'text', text: 'Use metric units.' }] } },
      { type: 'agent.custom_tool_use', payload: { tool_use_id: 't1', name: 'get_weather', input: { city: 'Oslo' } } },
      { type: 'agent.custom_tool_use', payload: { tool_use_id: 't2', name: 'get_weather', input: { city: 'Bergen' } } },
    ]);
    const answer = stored([
      ...events.map(({ type, payload }) => ({ type, payload }) as NewEvent),
      {
        type: 'user.custom_tool_result',
        payload: { custom_tool_use_id: events[2]!.id, content: [{ type: 'text', text: 'Rain' }], is_error: true },
      },
    ]);
    const before = transcriptItems(events, () => undefined);
    expect(before[0]).toMatchObject({ kind: 'notice', tone: 'info', text: 'System message for Claude: Use metric units.' });
    expect(before.slice(1)).toEqual([
      expect.objectContaining({ kind: 'tool', custom: true, on: null, name: 'get_weather', toolUseId: 't1', result: undefined }),
      expect.objectContaining({ kind: 'tool', custom: true, toolUseId: 't2', result: undefined }),
    ]);
    const after = transcriptItems(answer, () => undefined);
    expect(after[1]).toMatchObject({ toolUseId: 't1', result: undefined });
    expect(after[2]).toMatchObject({ toolUseId: 't2', result: { text: 'Rain', isError: true, status: 'completed' } });
  });
});

import { describe, expect, it } from 'vitest';
import { storedEvents } from '#test/support/event-log';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { type NewEvent, type SessionSettings, type StoredEvent } from '#shared/events';
import type { ToolSpec } from '#services/hands/hand';
import {
  buildContext,
  clearedResultText,
  compactionCut,
  compactionRequest,
  CONTINUE_PROMPT,
  SUMMARY_PREAMBLE,
  COMPACTION_INSTRUCTION,
} from './context.ts';
import { DEFAULT_SETTINGS } from './models.ts';

/** Events as the store would hand them back: dense seqs, payload defaults applied. */
const log = storedEvents;

const user = (text: string): NewEvent => ({ type: 'user.message', payload: { content: [{ type: 'text', text }] } });
const say = (text: string): NewEvent => ({ type: 'agent.message', payload: { content: [{ type: 'text', text }] } });
const start = (): NewEvent => ({ type: 'span.model_request_start', payload: { model: 'm' } });
const end = (stop = 'end_turn'): NewEvent => ({
  type: 'span.model_request_end',
  payload: {
    model: 'm',
    usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    stop_reason: stop,
    is_error: false,
    duration_ms: 1,
  },
});
const use = (id: string, input: Record<string, unknown> = {}): NewEvent => ({
  type: 'agent.tool_use',
  payload: { tool_use_id: id, name: 'add', input },
});
const result = (id: string, text: string): NewEvent => ({
  type: 'agent.tool_result',
  payload: { tool_use_id: id, content: [{ type: 'text', text }], is_error: false },
});

const tools: ToolSpec[] = [
  { name: 'add', description: 'Adds numbers.', input_schema: { type: 'object', properties: { a: { type: 'number' } } } },
];
const settings: SessionSettings = { ...DEFAULT_SETTINGS, system: 'You are careful.' };
const build = (events: StoredEvent[], budget = 100_000, overrides: Partial<SessionSettings> = {}) =>
  buildContext({ events, settings: { ...settings, ...overrides }, tools, budget });

/** The rules the Messages API enforces on a conversation. */
function expectValidConversation(messages: MessageParam[]): void {
  expect(messages[0]?.role).toBe('user');
  messages.forEach((message, i) => {
    if (i > 0) expect(message.role).not.toBe(messages[i - 1]?.role);
    const content = Array.isArray(message.content) ? message.content : [];
    if (message.role !== 'assistant') return;
    const uses = content.flatMap((block) => (block.type === 'tool_use' ? [block.id] : []));
    if (uses.length === 0) return;
    const next = messages[i + 1];
    const nextContent = next && Array.isArray(next.content) ? next.content : [];
    expect(nextContent.slice(0, uses.length).map((block) => (block.type === 'tool_result' ? block.tool_use_id : block.type))).toEqual(uses);
  });
}

function cacheMarks(view: ReturnType<typeof build>): number {
  return (JSON.stringify(view.params).match(/"cache_control"/g) ?? []).length;
}

describe('buildContext', () => {
  it('turns a first message into a request with system, tools and cache breakpoints', () => {
    const view = build(log(user('Add 2 and 3')));
    expect(view.params).toMatchObject({
      model: DEFAULT_SETTINGS.model,
      max_tokens: DEFAULT_SETTINGS.max_tokens,
      stream: true,
      system: [{ type: 'text', text: 'You are careful.', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'add', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Add 2 and 3', cache_control: { type: 'ephemeral' } }] }],
    });
    expect(view.params.thinking).toBeUndefined();
    expect(view.overBudget).toBe(false);
  });

  it('returns tool results in the order of the tool uses, before any user text', () => {
    const view = build(
      log(
        user('go'),
        start(),
        say('Two sums.'),
        use('t1'),
        use('t2'),
        end('tool_use'),
        result('t2', 'B'),
        user('also this'),
        result('t1', 'A'),
      ),
    );
    const messages = view.params.messages;
    expectValidConversation(messages);
    expect(messages[2]).toMatchObject({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'A' }] },
        { type: 'tool_result', tool_use_id: 't2', content: [{ type: 'text', text: 'B' }] },
        { type: 'text', text: 'also this' },
      ],
    });
  });

  it('gives the model tool output without ANSI colours (the log keeps them)', () => {
    const events = log(
      user('go'),
      start(),
      use('t1'),
      end('tool_use'),
      result('t1', '\u001b[1;31merror\u001b[0m: \u001b[32mok\u001b[0m\ttab'),
    );
    const view = build(events);
    expect(view.params.messages[2]).toMatchObject({
      content: [{ type: 'tool_result', content: [{ type: 'text', text: 'error: ok\ttab' }] }],
    });
    expect(JSON.stringify(events.at(-1)?.payload)).toContain('\\u001b[1;31m');
  });

  it('puts a message sent while a response streamed after that response', () => {
    const messages = build(log(user('first'), start(), user('second, sent mid-stream'), say('answer to first'), end())).params.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[2]?.content).toMatchObject([{ type: 'text', text: 'second, sent mid-stream' }]);
  });

  it('keeps thinking with its signature and redacted thinking as they were', () => {
    const messages = build(
      log(
        user('q'),
        start(),
        { type: 'agent.thinking', payload: { thinking: 'hmm', signature: 'sig1' } },
        { type: 'agent.thinking', payload: { redacted: true, data: 'opaque' } },
        say('a'),
        end(),
        user('q2'),
      ),
      100_000,
      { thinking_budget: 2048 },
    ).params.messages;
    expect(messages[1]?.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: 'sig1' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'a' },
    ]);
  });

  it('continues a cut-off response by prefill where the model allows it, else with a prompt', async () => {
    const events = log(user('long essay'), start(), say('The first part ends here   '), end('max_tokens'));
    const prefill = build(events, 100_000, { model: 'claude-haiku-4-5' }).params;
    expect(prefill.messages.at(-1)).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'The first part ends here' }] });
    const budgeted = build(events, 100_000, { model: 'claude-haiku-4-5', thinking_budget: 2048 }).params;
    expect(budgeted.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(budgeted.messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'text', text: CONTINUE_PROMPT }] });
    // Sonnet 5.5 thinks adaptively (a budget is refused), and may think by default: no prefill.
    const adaptive = build(events, 100_000, { model: 'claude-sonnet-5-5', thinking_budget: 2048 }).params;
    expect(adaptive.thinking).toEqual({ type: 'adaptive' });
    expect(build(events, 100_000, { model: 'claude-sonnet-5-5' }).params.messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('merges a continued response into one assistant message', () => {
    const messages = build(log(user('q'), start(), say('part one'), end('max_tokens'), start(), say('part two'), end()), 100_000, {
      model: 'claude-haiku-4-5',
    }).params.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]?.content).toHaveLength(2);
  });

  it('never uses more than four cache breakpoints', () => {
    const events: NewEvent[] = [user('q')];
    for (let i = 0; i < 20; i++) events.push(start(), use(`t${i}`), end('tool_use'), result(`t${i}`, 'ok'));
    const view = build(log(...events));
    expectValidConversation(view.params.messages);
    expect(cacheMarks(view)).toBe(4);
  });

  it('clears the oldest tool results past the budget, keeps the newest, and changes no event', () => {
    const big = 'x'.repeat(4000); // ~1000 tokens each
    const events: NewEvent[] = [user('q')];
    for (let i = 0; i < 12; i++) events.push(start(), use(`t${i}`), end('tool_use'), result(`t${i}`, `${i}:${big}`));
    const stored = log(...events);
    const before = JSON.stringify(stored);
    const view = build(stored, 8000);
    expect(JSON.stringify(stored)).toBe(before);
    expect(view.clearedToolResults).toBeGreaterThan(0);
    expect(view.overBudget).toBe(false);
    expect(view.estimatedTokens).toBeLessThanOrEqual(8000);
    const results = view.params.messages
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b) => b.type === 'tool_result');
    const texts = results.map((b) => JSON.stringify(b.content));
    expect(texts[0]).toContain(clearedResultText(stored[4]?.seq ?? 0));
    expect(texts.at(-1)).toContain('11:xxx');
  });

  it('moves the cleared boundary only in steps, so the cached prefix survives small growth', () => {
    const big = 'y'.repeat(4000);
    const events: NewEvent[] = [user('q')];
    for (let i = 0; i < 12; i++) events.push(start(), use(`t${i}`), end('tool_use'), result(`t${i}`, big));
    const first = build(log(...events), 8000);
    const grown = build(log(...events, start(), say('short note'), end(), user('ok')), 8000);
    expect(grown.clearedToolResults).toBe(first.clearedToolResults);
  });

  it('says when the budget cannot be met by clearing', () => {
    const view = build(log(user('z'.repeat(40_000))), 1000);
    expect(view.overBudget).toBe(true);
  });

  it('starts from the latest compaction summary and leaves out what it covers', () => {
    const events = log(
      user('old question'), // 1
      start(), // 2
      say('old answer'), // 3
      end(), // 4
      user('new question'), // 5
      start(), // 6
      say('new answer'), // 7
      end(), // 8
      { type: 'agent.thread_context_compacted', payload: { summary: 'They asked an old question.', through_seq: 5 } }, // 9
    );
    const messages = build(events).params.messages;
    expectValidConversation(messages);
    expect(JSON.stringify(messages)).not.toContain('old answer');
    expect(messages[0]?.content).toMatchObject([{ type: 'text', text: `${SUMMARY_PREAMBLE}They asked an old question.` }]);
    expect(messages[1]).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'new answer' }] });
  });
});

describe('compaction', () => {
  const long = 'w'.repeat(2000); // ~500 tokens
  const turns = (count: number): NewEvent[] => {
    const events: NewEvent[] = [];
    for (let i = 0; i < count; i++) events.push(user(`question ${i} ${long}`), start(), say(`answer ${i} ${long}`), end());
    return events;
  };

  it('cuts just before a model request, keeping at most 40 % of the budget', () => {
    const events = log(...turns(10));
    const cut = compactionCut(events, 5000) as number;
    expect(events[cut]?.type).toBe('span.model_request_start');
    const kept = events.filter((event) => event.seq > cut);
    const keptText = JSON.stringify(kept.map((e) => e.payload)).length / 4;
    expect(keptText).toBeLessThanOrEqual(2000 + 200);
    expect(kept.length).toBeGreaterThan(0);
  });

  it('keeps at least the last response when even that is large, and has nothing to cut in a one-turn session', () => {
    const events = log(...turns(3));
    const cut = compactionCut(events, 100) as number;
    expect(events[cut]?.type).toBe('span.model_request_start');
    expect(cut).toBe(events.length - 3);
    expect(compactionCut(log(user('q')), 100)).toBeNull();
  });

  it('asks for a summary of the part before the cut, with tools but no tool calls', () => {
    const events = log(...turns(4));
    const params = compactionRequest({ events, settings, tools, budget: 100_000 }, 8);
    expectValidConversation(params.messages);
    const text = JSON.stringify(params.messages);
    expect(text).toContain('answer 1');
    expect(text).not.toContain('answer 2');
    expect(params.messages.at(-1)?.content).toContainEqual({ type: 'text', text: COMPACTION_INSTRUCTION });
    expect(params.tool_choice).toEqual({ type: 'none' });
    expect(params.thinking).toBeUndefined();
  });
});

describe('random sessions', () => {
  it('always give a valid conversation', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 200; run++) {
      const events: NewEvent[] = [user('start')];
      let toolId = 0;
      for (let turn = 0; turn < 1 + random(6); turn++) {
        events.push(start());
        if (random(3) === 0) events.push(user('typed while streaming'));
        if (random(2) === 0) events.push({ type: 'agent.thinking', payload: { thinking: 't', signature: 's' } });
        if (random(2) === 0) events.push(say('text'));
        const uses = random(3);
        const ids = Array.from({ length: uses }, () => `t${toolId++}`);
        for (const id of ids) events.push(use(id));
        events.push(end(uses > 0 ? 'tool_use' : random(2) === 0 ? 'max_tokens' : 'end_turn'));
        for (const id of ids.sort(() => random(3) - 1)) events.push(result(id, 'r'));
        if (random(3) === 0) events.push(user('next'));
      }
      const view = build(log(...events), random(2) === 0 ? 100_000 : 50, { thinking_budget: random(2) === 0 ? null : 2048 });
      expectValidConversation(view.params.messages);
      expect(cacheMarks(view)).toBeLessThanOrEqual(4);
    }
  });
});

describe('outcome feedback', () => {
  const define: NewEvent = { type: 'user.define_outcome', payload: { description: 'sum', max_iterations: 3 } };
  const evalEnd = (result: 'needs_revision' | 'satisfied'): NewEvent => ({
    type: 'span.outcome_evaluation_end',
    payload: {
      iteration: 1,
      result,
      explanation: 'The sum is wrong.',
      criteria: [{ criterion: 'Sum is 5', met: false, note: 'It says 6.' }],
    },
  });

  it('renders a needs_revision evaluation as the user turn the agent answers next', () => {
    const { params } = build(log(define, user('2+3?'), start(), say('6'), end(), evalEnd('needs_revision'), start(), say('5'), end()));
    expectValidConversation(params.messages);
    expect(params.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    const feedback = params.messages[2]?.content as Array<{ type: string; text: string }>;
    expect(feedback[0]?.text).toContain(
      'An independent check of your work against the outcome found it not done yet (check 1 of 3): The sum is wrong.',
    );
    expect(feedback[0]?.text).toContain('- Sum is 5: It says 6.');
  });

  it('leaves other results and the grader’s own request out of the conversation', () => {
    const grading: NewEvent[] = [
      { type: 'span.outcome_evaluation_start', payload: { iteration: 1 } },
      { type: 'span.model_request_start', payload: { model: 'm', purpose: 'grading' } },
      { type: 'span.model_request_end', payload: { ...(end('tool_use').payload as object), purpose: 'grading' } as never },
    ];
    const { params } = build(log(define, user('2+3?'), start(), say('5'), end(), ...grading, evalEnd('satisfied'), user('thanks')));
    expect(JSON.stringify(params.messages)).not.toContain('independent check');
    expect(params.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });
});

import { describe, expect, it } from 'vitest';
import { storedEvents } from '#test/support/event-log';
import { OutcomeDefinitionSchema, type NewEvent } from '#shared/events';
import {
  capVerificationOutput,
  GRADER_SYSTEM,
  graderPrompt,
  graderRequest,
  MAX_TOOL_EVIDENCE_CHARS,
  MAX_VERIFICATION_CHARS,
  parseVerdict,
  resultOf,
  revisionFeedback,
  VERDICT_TOOL,
} from './grader.ts';
import type { CompletedBlock } from './model-client.ts';
import { DEFAULT_SETTINGS } from './models.ts';

const user = (text: string): NewEvent => ({ type: 'user.message', payload: { content: [{ type: 'text', text }] } });
const say = (text: string): NewEvent => ({ type: 'agent.message', payload: { content: [{ type: 'text', text }] } });
const use = (id: string, input: Record<string, unknown> = {}): NewEvent => ({
  type: 'agent.tool_use',
  payload: { tool_use_id: id, name: 'add', input },
});
const result = (id: string, text: string, isError = false): NewEvent => ({
  type: 'agent.tool_result',
  payload: { tool_use_id: id, content: [{ type: 'text', text }], is_error: isError },
});
const outcome = OutcomeDefinitionSchema.parse({ description: 'Add 2 and 3 and report it.', rubric: '- The sum is 5' });
const settings = { ...DEFAULT_SETTINGS, system: 'The agent’s own system prompt.', thinking_budget: 2048 };

const call = (input: Record<string, unknown>, extra: Partial<Extract<CompletedBlock, { type: 'tool_use' }>> = {}): CompletedBlock => ({
  type: 'tool_use',
  id: 't',
  name: VERDICT_TOOL,
  input,
  ...extra,
});

describe('graderRequest', () => {
  it('has its own system prompt, one forced verdict tool, thinking off, and a bounded output', () => {
    const params = graderRequest({ events: storedEvents(user('hi'), say('done')), outcome, settings, verification: null });
    expect(params.system).toBe(GRADER_SYSTEM);
    expect(params.tools?.map((tool) => ('name' in tool ? tool.name : tool.type))).toEqual([VERDICT_TOOL]);
    expect(params.tool_choice).toEqual({ type: 'tool', name: VERDICT_TOOL });
    expect(params.thinking).toEqual({ type: 'disabled' });
    expect(params.max_tokens).toBeLessThanOrEqual(8192);
    expect(params.model).toBe(settings.model);
    expect(params.messages).toHaveLength(1);
    expect(JSON.stringify(params)).not.toContain('The agent’s own system prompt.');
  });
});

describe('graderModel', () => {
  it('is the outcome’s own choice when it has one, else the session’s model', () => {
    expect(
      graderRequest({
        events: storedEvents(user('hi')),
        outcome: { ...outcome, grader_model: 'claude-haiku-4-5' },
        settings,
        verification: null,
      }).model,
    ).toBe('claude-haiku-4-5');
    expect(graderRequest({ events: storedEvents(user('hi')), outcome, settings, verification: null }).model).toBe(settings.model);
  });
});

describe('graderPrompt', () => {
  it('gives the task, the user’s messages, the rubric and the evidence since the last user message', () => {
    const events = storedEvents(
      user('first ask'),
      use('old', { a: 1 }),
      result('old', 'OLD RESULT'),
      say('first answer'),
      user('now add 2 and 3'),
      use('t1', { a: 2, b: 3 }),
      result('t1', '5'),
      say('The sum is 5.'),
    );
    const prompt = graderPrompt({ events, outcome, settings, verification: null });
    expect(prompt).toContain('<task>\nAdd 2 and 3 and report it.\n</task>');
    expect(prompt).toContain('- first ask\n- now add 2 and 3');
    expect(prompt).toContain('<rubric>\n- The sum is 5\n</rubric>');
    expect(prompt).toContain('<final_message>\nThe sum is 5.\n</final_message>');
    expect(prompt).toContain('### add {"a":2,"b":3}\n5');
    expect(prompt).not.toContain('OLD RESULT');
    expect(prompt).not.toContain('<verification');
  });

  it('reads terminal output as plain text (the log keeps the colours for the UI)', () => {
    const events = storedEvents(
      user('run the tests'),
      use('t1'),
      result('t1', '\u001b[31mFAIL\u001b[0m checkout.test.ts'),
      say('One test fails.'),
    );
    const verification = { hand_id: 'box', command: 'npm test', output: '\u001b[32mPASS\u001b[0m 41 tests', is_error: false };
    const prompt = graderPrompt({ events, outcome, settings, verification });
    expect(prompt).toContain('FAIL checkout.test.ts');
    expect(prompt).toContain('PASS 41 tests');
    expect(prompt).not.toContain('\u001b');
  });

  it('counts a custom tool’s answer from the program as evidence', () => {
    const events = storedEvents(user('what is the rate?'), {
      type: 'agent.custom_tool_use',
      payload: { tool_use_id: 'c1', name: 'get_rate', input: { pair: 'EURUSD' } },
    });
    events.push(
      ...storedEvents({
        type: 'user.custom_tool_result',
        payload: { custom_tool_use_id: events[1]!.id, content: [{ type: 'text', text: '1.0842' }], is_error: false },
      }).map((event) => ({ ...event, seq: 3 })),
    );
    const prompt = graderPrompt({ events, outcome, settings, verification: null });
    expect(prompt).toContain('### get_rate {"pair":"EURUSD"}\n1.0842');
  });

  it('says when there is no rubric, no final message, or no tool results', () => {
    const prompt = graderPrompt({ events: storedEvents(user('hi')), outcome: { ...outcome, rubric: '  ' }, settings, verification: null });
    expect(prompt).toContain('No rubric was given');
    expect(prompt).toContain('ended its turn without a message');
    expect(prompt).toContain('ran no tools');
  });

  it('keeps the newest tool results within the budget and says how many were left out', () => {
    const big = 'x'.repeat(7_000);
    const events: NewEvent[] = [user('go')];
    for (let i = 0; i < 20; i++) events.push(use(`t${i}`, { i }), result(`t${i}`, `${i}:${big}`));
    const prompt = graderPrompt({ events: storedEvents(...events), outcome, settings, verification: null });
    expect(prompt).toContain('### add {"i":19}');
    expect(prompt).not.toContain('### add {"i":0}');
    expect(prompt).toMatch(/\[\d+ older tool results left out to save space\]/);
    expect(prompt.length).toBeLessThan(MAX_TOOL_EVIDENCE_CHARS + 5_000);
  });

  it('includes the verification run, marked when it failed', () => {
    const prompt = graderPrompt({
      events: storedEvents(user('hi')),
      outcome,
      settings,
      verification: { hand_id: 'box', command: 'npm test', output: '1 failing', is_error: true },
    });
    expect(prompt).toContain('<verification hand="box" command="npm test" failed="true">\n1 failing\n</verification>');
  });
});

describe('parseVerdict', () => {
  const criteria = [{ criterion: 'The sum is 5', met: true, note: 'add returned 5' }];

  it('reads a well-formed verdict', () => {
    expect(parseVerdict([call({ criteria, verdict: 'satisfied', explanation: 'All good.' })], 'tool_use')).toEqual({
      ok: true,
      verdict: 'satisfied',
      explanation: 'All good.',
      criteria,
    });
  });

  it('counts "satisfied" with an unmet criterion as needing revision', () => {
    const parsed = parseVerdict(
      [call({ criteria: [{ ...criteria[0], met: false }], verdict: 'satisfied', explanation: 'Fine.' })],
      'tool_use',
    );
    expect(parsed).toMatchObject({ ok: true, verdict: 'needs_revision' });
  });

  it('refuses an answer without the tool, with bad JSON, or with the wrong shape, saying why', () => {
    expect(parseVerdict([{ type: 'text', text: 'Looks fine to me.' }], 'end_turn')).toEqual({
      ok: false,
      explanation: expect.stringMatching(/did not record a verdict \(stop reason end_turn\); it said: Looks fine to me\./),
    });
    expect(parseVerdict([call({}, { inputError: 'the input was not valid JSON' })], 'max_tokens')).toEqual({
      ok: false,
      explanation: expect.stringMatching(/cut off by the output limit.*not valid JSON/),
    });
    const wrong = parseVerdict([call({ criteria: 'all', verdict: 'maybe', explanation: '' })], 'tool_use');
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.explanation).toMatch(/criteria: .*verdict: .*explanation: the explanation is empty/);
  });

  it('clips over-long criteria to what the log keeps', () => {
    const parsed = parseVerdict(
      [call({ criteria: [{ criterion: 'c'.repeat(3000), met: true, note: 'n'.repeat(20_000) }], verdict: 'satisfied', explanation: 'ok' })],
      'tool_use',
    );
    expect(parsed.ok && parsed.criteria[0]?.criterion.length).toBe(2000);
    expect(parsed.ok && parsed.criteria[0]?.note.length).toBe(10_000);
  });
});

describe('results and feedback', () => {
  it('asks for a revision only while iterations are left', () => {
    expect(resultOf('satisfied', 3, 3)).toBe('satisfied');
    expect(resultOf('needs_revision', 2, 3)).toBe('needs_revision');
    expect(resultOf('needs_revision', 3, 3)).toBe('max_iterations_reached');
  });

  it('tells the agent which check failed, why, and what to do', () => {
    const text = revisionFeedback(
      {
        iteration: 2,
        result: 'needs_revision',
        explanation: 'Tests fail.',
        criteria: [
          { criterion: 'Tests pass', met: false, note: '1 failing' },
          { criterion: 'Lint', met: true, note: 'ok' },
        ],
        verification: { hand_id: 'box', command: 'npm test', output: '', is_error: true },
      },
      3,
    );
    expect(text).toContain('(check 2 of 3): Tests fail.');
    expect(text).toContain('- Tests pass: 1 failing');
    expect(text).not.toContain('- Lint');
    expect(text).toContain('`npm test` on box (it failed)');
    expect(text).toMatch(/Revise your work, then finish your turn\.$/);
    expect(revisionFeedback({ iteration: 1, result: 'needs_revision', explanation: 'x' }, null)).toContain('(check 1)');
  });

  it('keeps the end of a long verification output', () => {
    const out = capVerificationOutput(`${'a'.repeat(MAX_VERIFICATION_CHARS)}THE END`);
    expect(out.endsWith('THE END')).toBe(true);
    expect(out).toMatch(/^\[… the first 7 characters are left out …\]/);
  });
});

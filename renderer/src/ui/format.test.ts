import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import {
  formatMegabytesOf,
  outcomeResultLabel,
  outcomeResultTone,
  outcomeStatusText,
  plural,
  readableReason,
  statusText,
  summarizeEvent,
  toolOutputText,
} from './format.ts';

const noTitle = () => undefined;
const envelope = { id: '0b7f2a10-1d2e-4f30-8a40-5b6c7d8e9f01', ts: '2026-11-20T09:00:00.000Z' };

describe('tool output in the event list', () => {
  const result: StoredEvent = {
    ...envelope,
    seq: 1,
    type: 'agent.tool_result',
    payload: {
      tool_use_id: 'toolu_1',
      content: [{ type: 'text', text: '\u001b]0;npm test\u0007\u001b[1;32m3 passed\u001b[0m\n\u001b[31m1 failed\u001b[0m\u001b[?25h' }],
      is_error: false,
      status: 'completed',
      duration_ms: 1200,
    },
  };
  const message: StoredEvent = { ...envelope, seq: 2, type: 'agent.message', payload: { content: [{ type: 'text', text: 'Done.' }] } };

  it('shows the whole output without terminal codes, and a one-line summary of it', () => {
    expect(toolOutputText(result)).toBe('3 passed\n1 failed');
    expect(summarizeEvent(result, noTitle)).toBe('OK in 1.2 s: 3 passed 1 failed');
    expect(toolOutputText(message)).toBeNull();
  });

  it('writes pull progress in decimal megabytes, as Docker does', () => {
    expect(formatMegabytesOf(12_345_678, 45_600_000)).toBe('12.3 / 45.6 MB');
  });
});

describe('outcome state in the sidebar', () => {
  const outcome = { description: 'The tests pass', maxIterations: 3, iterations: 0, state: null };

  it('says nothing for a session without an outcome', () => {
    expect(outcomeStatusText(null)).toBeNull();
  });

  it('says where the outcome stands, with the iterations', () => {
    expect(outcomeStatusText(outcome)).toEqual({ text: 'outcome not checked yet', tone: 'muted' });
    expect(outcomeStatusText({ ...outcome, iterations: 1, state: 'evaluating' })).toEqual({ text: 'checking… (2/3)', tone: 'pending' });
    expect(outcomeStatusText({ ...outcome, iterations: 1, state: 'needs_revision' })).toEqual({
      text: 'needs revision (1/3)',
      tone: 'warn',
    });
    expect(outcomeStatusText({ ...outcome, iterations: 2, state: 'satisfied' })).toEqual({
      text: '✓ satisfied after 2 iterations',
      tone: 'ok',
    });
    expect(outcomeStatusText({ ...outcome, iterations: 1, state: 'satisfied' })?.text).toBe('✓ satisfied after 1 iteration');
    expect(outcomeStatusText({ ...outcome, iterations: 3, state: 'max_iterations_reached' })).toEqual({
      text: '✗ not satisfied after 3 iterations',
      tone: 'bad',
    });
    expect(outcomeStatusText({ ...outcome, iterations: 1, state: 'failed' })).toEqual({ text: '✗ check failed (1/3)', tone: 'bad' });
    expect(outcomeStatusText({ ...outcome, iterations: 2, state: 'interrupted' })).toEqual({
      text: 'check interrupted (2/3)',
      tone: 'muted',
    });
  });

  it('never counts past the limit while checking', () => {
    expect(outcomeStatusText({ ...outcome, iterations: 3, state: 'evaluating' })?.text).toBe('checking… (3/3)');
  });

  it('gives each verdict its words and colour', () => {
    expect(outcomeResultLabel('needs_revision')).toBe('Needs revision');
    expect(outcomeResultTone('satisfied')).toBe('ok');
    expect(outcomeResultTone('needs_revision')).toBe('warn');
    expect(outcomeResultTone('max_iterations_reached')).toBe('bad');
    expect(outcomeResultTone('failed')).toBe('bad');
    expect(outcomeResultTone('interrupted')).toBe('muted');
  });
});

describe('counts and reasons in words', () => {
  it("puts a count's noun in the right number", () => {
    expect(plural(1, 'event')).toBe('1 event');
    expect(plural(0, 'event')).toBe('0 events');
    expect(plural(2048, 'event')).toBe('2,048 events');
    expect(plural(1, 'branch', 'branches')).toBe('1 branch');
    expect(plural(3, 'branch', 'branches')).toBe('3 branches');
  });

  it('reads an API error body as its message, not as JSON', () => {
    const raw =
      'The Models API could not be reached: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}';
    expect(readableReason(raw)).toBe('The Models API could not be reached: 401 invalid x-api-key.');
    expect(readableReason('No API key is set yet.')).toBe('No API key is set yet.');
    expect(readableReason('Broken {not json')).toBe('Broken {not json');
  });

  it('says "at most 1 iteration" in the event list', () => {
    const event = {
      ...envelope,
      seq: 3,
      type: 'user.define_outcome',
      payload: { description: 'Tests pass', rubric: '', max_iterations: 1, grader_model: null },
    } as unknown as StoredEvent;
    expect(summarizeEvent(event, noTitle)).toBe('Outcome: Tests pass (at most 1 iteration)');
  });

  it('does not call a missing key a failed authentication', () => {
    expect(statusText('error', 'authentication_failed')).toBe('Stopped: no working API key');
    expect(statusText('error', 'retries_exhausted')).toBe('Stopped: retries exhausted');
  });
});

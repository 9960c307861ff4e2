// A tool call's card says how many files it changed — from the hand's checkpoint that follows its
// result in the log — and its "3 files changed" opens the Changes tab on that call's range.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import { ToolCall } from './ToolCall.tsx';
import { transcriptItems, type TranscriptItem } from './transcript-items.ts';

function stored(events: NewEvent[]): StoredEvent[] {
  return events.map(
    (event, index) =>
      ({
        seq: index + 1,
        id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        ts: '2026-12-03T09:00:00.000Z',
        ...event,
      }) as StoredEvent,
  );
}

const checkpoint = (atSeq: number, changed: number): NewEvent => ({
  type: 'hand.checkpoint',
  payload: {
    hand_id: 'box',
    at_seq: atSeq,
    manifest: 'a'.repeat(64),
    parent: null,
    base: 'sha256:' + 'b'.repeat(64),
    captured_at: 1,
    changed_paths: changed,
    bytes_stored: 10,
    duration_ms: 5,
  },
});

const events = stored([
  { type: 'user.message', payload: { content: [{ type: 'text', text: 'Edit' }] } },
  { type: 'agent.tool_use', payload: { tool_use_id: 't1', name: 'box__bash', input: { command: 'touch a b c' }, hand_id: 'box' } },
  {
    type: 'agent.tool_result',
    payload: { tool_use_id: 't1', content: [{ type: 'text', text: '' }], is_error: false, status: 'completed' },
  },
  checkpoint(3, 3),
  { type: 'agent.tool_use', payload: { tool_use_id: 't2', name: 'box__bash', input: { command: 'ls' }, hand_id: 'box' } },
  {
    type: 'agent.tool_result',
    payload: { tool_use_id: 't2', content: [{ type: 'text', text: 'a b c' }], is_error: false, status: 'completed' },
  },
  checkpoint(6, 0),
]);

function tools(): Array<Extract<TranscriptItem, { kind: 'tool' }>> {
  return transcriptItems(events, () => undefined).filter((item): item is Extract<TranscriptItem, { kind: 'tool' }> => item.kind === 'tool');
}

describe('files changed on a tool call', () => {
  it('takes the count from the checkpoint after its result', () => {
    const [first, second] = tools();
    expect(first?.result?.files).toEqual({ hand: 'box', changed: 3 });
    expect(second?.result?.files).toEqual({ hand: 'box', changed: 0 });
  });

  it('shows "3 files changed" as a button only when something changed and the Changes tab can open', () => {
    const [first, second] = tools();
    if (!first || !second) throw new Error('no tool calls');
    const render = (row: typeof first, open: boolean): string =>
      renderToStaticMarkup(
        <ToolCall
          row={row}
          pending="cut"
          expanded={false}
          onToggle={() => undefined}
          liveOutput={undefined}
          onShowChanges={open ? () => undefined : undefined}
        />,
      );
    expect(render(first, true)).toMatch(/<button type="button" class="tool-changes"[^>]*>3 files changed<\/button>/);
    expect(render(second, true)).not.toContain('files changed');
    expect(render(first, false)).not.toContain('files changed');
  });
});

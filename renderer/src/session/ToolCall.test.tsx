// The tool card of a custom tool call: while it has no result it waits for the program that drives
// the session (never "cut off", never "running"); answered, it shows the program's result.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ToolCall, type Pending } from './ToolCall.tsx';
import type { TranscriptItem } from './transcript-items.ts';

const row: Extract<TranscriptItem, { kind: 'tool' }> = {
  kind: 'tool',
  key: 'e4',
  seq: 4,
  toolUseId: 'toolu_1',
  on: null,
  name: 'get_weather',
  summary: '{"city":"Oslo"}',
  input: { city: 'Oslo' },
  result: undefined,
  asked: false,
  custom: true,
};

const render = (item: typeof row, pending: Pending, expanded = true): string =>
  renderToStaticMarkup(<ToolCall row={item} pending={pending} expanded={expanded} onToggle={() => undefined} liveOutput={undefined} />);

describe('a custom tool call', () => {
  it('waits for your program’s result while live, whether the session idles or runs other tools', () => {
    for (const pending of ['cut', 'running'] as const) {
      const html = render(row, pending);
      expect(html).toContain('custom · </span>get_weather');
      expect(html).toContain('waits for your program&#x27;s result');
      expect(html).toContain('It waits for your program&#x27;s result');
    }
    expect(render(row, 'past')).toContain('not finished yet');
  });

  it('shows the program’s answer once it has one', () => {
    const html = render(
      { ...row, result: { seq: 6, text: 'Sunny', images: 0, isError: false, status: 'completed', durationMs: undefined } },
      'cut',
    );
    expect(html).toContain('Sunny');
    expect(html).toContain('done');
    expect(html).not.toContain('waits for your program');
  });
});

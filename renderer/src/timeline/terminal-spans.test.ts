import { describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from '#shared/events';
import { eventName } from './event-names.ts';
import { spanBands, spansAt, terminalSpanLabel, terminalSpanText, terminalSpans } from './terminal-spans.ts';

const T1 = 'term_0000000000000001';
const T2 = 'term_0000000000000002';
const T3 = 'term_0000000000000003';

/** Hand events at the given seqs (the log's other events are not among a session's hand events). */
function at(seq: number, event: NewEvent): StoredEvent {
  return { ...event, seq, id: `e${seq}`, ts: '2026-12-03T10:00:00.000Z' } as StoredEvent;
}
const opened = (seq: number, hand: string, terminal: string) =>
  at(seq, { type: 'hand.terminal_opened', payload: { hand_id: hand, terminal_id: terminal } });
const closed = (seq: number, hand: string, terminal: string, openedSeq: number) =>
  at(seq, { type: 'hand.terminal_closed', payload: { hand_id: hand, terminal_id: terminal, opened_seq: openedSeq, ended: 'closed' } });

describe('terminal spans on the timeline', () => {
  const events = [
    at(1, { type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'ssh', host: 'h', user: 'u', port: 22 } as never } }),
    opened(10, 'box', T1),
    opened(15, 'lab', T2),
    closed(40, 'box', T1, 10),
    at(41, { type: 'hand.checkpoint', payload: { hand_id: 'box' } as never }),
    closed(50, 'lab', T2, 15),
    opened(60, 'box', T3),
  ];

  it('pairs each close with the open it names, and leaves a terminal still open without an end', () => {
    expect(terminalSpans(events)).toEqual([
      { hand: 'box', terminalId: T1, fromSeq: 10, toSeq: 40 },
      { hand: 'lab', terminalId: T2, fromSeq: 15, toSeq: 50 },
      { hand: 'box', terminalId: T3, fromSeq: 60, toSeq: null },
    ]);
    // A close naming an open that is not there (or another terminal's) ends nothing.
    expect(terminalSpans([opened(3, 'box', T1), closed(9, 'box', T2, 3), closed(12, 'box', T1, 4)])).toEqual([
      { hand: 'box', terminalId: T1, fromSeq: 3, toSeq: null },
    ]);
    expect(terminalSpans([])).toEqual([]);
  });

  it('labels a band "terminal on <hand>" and says its events', () => {
    const [first, , open] = terminalSpans(events);
    expect(first && terminalSpanLabel(first)).toBe('terminal on box');
    expect(first && terminalSpanText(first)).toBe('terminal on box, events 10–40');
    expect(open && terminalSpanText(open)).toBe('terminal on box, from event 60, still open');
    expect(eventName('hand.terminal_opened', events[1])).toBe('Terminal opened on box');
    expect(eventName('hand.terminal_closed', events[3])).toBe('Terminal on box closed (opened at #10)');
  });

  it('places bands over the tape window, clipped to it, overlapping spans on rows of their own', () => {
    const spans = terminalSpans(events);
    // Window of 100 events from 1: every span in it; box's open terminal runs to the log's end (70).
    const whole = spanBands(spans, 1, 100, 70);
    expect(whole.map((band) => [band.span.fromSeq, band.left, band.width, band.row])).toEqual([
      [10, 0.09, 0.31, 0],
      [15, 0.14, 0.36, 1],
      [60, 0.59, 0.11, 0],
    ]);
    // A window of events 30…49 cuts the first two bands to it; the third is outside.
    const cut = spanBands(spans, 30, 20, 70);
    expect(cut.map((band) => [band.span.fromSeq, band.left, band.width, band.row])).toEqual([
      [10, 0, 11 / 20, 0],
      [15, 0, 1, 1],
    ]);
    // Rows come from the whole log: lab's band stays on row 1 even where box's is out of the window.
    expect(spanBands(spans, 45, 10, 70).map((band) => [band.span.fromSeq, band.row])).toEqual([[15, 1]]);
    expect(spanBands(spans, 1, 0, 0)).toEqual([]);
    // More overlapping spans than rows stack on the last row.
    const many = [opened(1, 'a', T1), opened(2, 'b', T2), opened(3, 'c', T3)];
    expect(spanBands(terminalSpans(many), 1, 10, 10, 2).map((band) => band.row)).toEqual([0, 1, 1]);
  });

  it('says which terminals were open at an event', () => {
    const spans = terminalSpans(events);
    expect(spansAt(spans, 12, 70).map((span) => span.terminalId)).toEqual([T1]);
    expect(spansAt(spans, 40, 70).map((span) => span.terminalId)).toEqual([T1, T2]);
    expect(spansAt(spans, 55, 70)).toEqual([]);
    expect(spansAt(spans, 70, 70).map((span) => span.terminalId)).toEqual([T3]);
  });
});

/**
 * The terminals a person had open on a session's hands (issue 23), as spans of the log: a terminal
 * opened at `hand.terminal_opened` (event N) and ended at its `hand.terminal_closed` (event M, which
 * names N as `opened_seq`). What the person did there is outside the log; the timeline draws a band
 * over N…M labelled "terminal on <hand>". A terminal still open runs to the log's end. Pure: no I/O.
 */
import type { StoredEvent } from '#shared/events';

export interface TerminalSpan {
  hand: string;
  terminalId: string;
  /** The `hand.terminal_opened` event. */
  fromSeq: number;
  /** The `hand.terminal_closed` event; null while the terminal is still open. */
  toSeq: number | null;
}

/** The terminal spans among a session's hand events (ascending seq), in the order they opened. */
export function terminalSpans(events: readonly StoredEvent[]): TerminalSpan[] {
  const spans: TerminalSpan[] = [];
  const open = new Map<number, TerminalSpan>();
  for (const event of events) {
    if (event.type === 'hand.terminal_opened') {
      const span: TerminalSpan = { hand: event.payload.hand_id, terminalId: event.payload.terminal_id, fromSeq: event.seq, toSeq: null };
      spans.push(span);
      open.set(event.seq, span);
    } else if (event.type === 'hand.terminal_closed') {
      const span = open.get(event.payload.opened_seq);
      if (span !== undefined && span.terminalId === event.payload.terminal_id) {
        span.toSeq = event.seq;
        open.delete(event.payload.opened_seq);
      }
    }
  }
  return spans;
}

/** What a band says: "terminal on box". */
export function terminalSpanLabel(span: TerminalSpan): string {
  return `terminal on ${span.hand}`;
}

/** Its events in words, for a title or a screen reader: "terminal on box, events 12–40" or "…, from event 12, still open". */
export function terminalSpanText(span: TerminalSpan): string {
  return span.toSeq === null
    ? `${terminalSpanLabel(span)}, from event ${span.fromSeq}, still open`
    : `${terminalSpanLabel(span)}, events ${span.fromSeq}–${span.toSeq}`;
}

export interface SpanBand {
  span: TerminalSpan;
  /** Left edge and width as fractions of the tape's width (0…1), clipped to the window. */
  left: number;
  width: number;
  /** Which row of bands (0 first): overlapping spans go on rows of their own. */
  row: number;
}

/**
 * The bands over a tape window showing events `first`…`first + span - 1` one tick each: every
 * terminal span that overlaps it, clipped to it, overlapping spans on separate rows (at most
 * `maxRows`; more stack on the last). `lastSeq` ends a span still open.
 */
export function spanBands(spans: readonly TerminalSpan[], first: number, span: number, lastSeq: number, maxRows = 3): SpanBand[] {
  if (span <= 0) return [];
  const last = first + span - 1;
  const bands: SpanBand[] = [];
  const rowEnds: number[] = [];
  for (const terminal of spans) {
    const to = terminal.toSeq ?? lastSeq;
    // Rows are assigned over the whole log so a band keeps its row as the window moves.
    let row = rowEnds.findIndex((end) => end < terminal.fromSeq);
    if (row === -1) row = rowEnds.length < maxRows ? rowEnds.length : maxRows - 1;
    rowEnds[row] = Math.max(rowEnds[row] ?? 0, to);
    if (to < first || terminal.fromSeq > last) continue;
    const from = Math.max(terminal.fromSeq, first);
    const end = Math.min(to, last);
    bands.push({ span: terminal, left: (from - first) / span, width: (end - from + 1) / span, row });
  }
  return bands;
}

/** The spans open at event `seq` (open ≤ seq ≤ close). */
export function spansAt(spans: readonly TerminalSpan[], seq: number, lastSeq: number): TerminalSpan[] {
  return spans.filter((span) => span.fromSeq <= seq && seq <= (span.toSeq ?? lastSeq));
}

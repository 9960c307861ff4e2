/**
 * Over the tape: a band for each terminal a person had open on a hand (issue 23) across the events
 * the tape shows — "terminal on box" from its `hand.terminal_opened` to its `hand.terminal_closed`
 * (what was done there is outside the log). Nothing when the session never had a terminal.
 */
import { useMemo } from 'react';
import type { SessionLog } from '#renderer/client/session-log.ts';
import { tapeWindow } from './lane-model.ts';
import { spanBands, terminalSpanLabel, terminalSpanText, terminalSpans } from './terminal-spans.ts';

export function TerminalBands({ log, cursor, lastSeq }: { log: SessionLog; cursor: number; lastSeq: number }) {
  // The log appends to its hand events in place: their count is what changes when one arrives.
  const count = log.handEvents.length;
  const spans = useMemo(() => terminalSpans(log.handEvents.slice(0, count)), [log, count]);
  if (spans.length === 0) return null;
  const { first, span } = tapeWindow(cursor, lastSeq);
  const bands = spanBands(spans, first, span, lastSeq);
  const rows = bands.reduce((most, band) => Math.max(most, band.row + 1), 1);
  return (
    <ul className="terminal-bands" aria-label="Terminals open on hands" style={{ height: `${rows * 14}px` }} data-testid="terminal-bands">
      {bands.map((band) => (
        <li
          key={band.span.fromSeq}
          className="terminal-band"
          style={{ left: `${band.left * 100}%`, width: `${band.width * 100}%`, top: `${band.row * 14}px` }}
          title={`${terminalSpanText(band.span)} — what was done there is not in the log; a checkpoint holds the files as it left them`}
          data-testid="terminal-band"
          data-from={band.span.fromSeq}
          data-to={band.span.toSeq ?? ''}
        >
          <span className="terminal-band-label">{terminalSpanLabel(band.span)}</span>
          <span className="visually-hidden">
            {band.span.toSeq === null
              ? `, from event ${band.span.fromSeq}, still open`
              : `, events ${band.span.fromSeq} to ${band.span.toSeq}`}
          </span>
        </li>
      ))}
    </ul>
  );
}

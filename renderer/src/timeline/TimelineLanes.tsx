/**
 * The timeline's thread lanes (issue 21): under the tape, one row per thread (the primary first)
 * over the same window of events, each event drawn in its own thread's row, coloured by type.
 * A row collapses to a thin strip of its thread's colour; the whole block hides and shows.
 * Clicking a row moves the cursor to that thread's event nearest the click.
 */
import { useLayoutEffect, useRef, useState, type PointerEvent } from 'react';
import type { SessionLog } from '#renderer/client/session-log.ts';
import { EVENT_CATEGORIES, categoryOf } from './event-categories.ts';
import { nearestInLane, tapeWindow, type TimelineLanes } from './lane-model.ts';
import { seqAt } from './timeline-nav.ts';
import './lanes.css';

export interface LanesProps {
  log: SessionLog;
  lanes: TimelineLanes;
  cursor: number;
  lastSeq: number;
  /** Category colours (EVENT_CATEGORIES order). */
  colors: readonly string[];
  onSeek: (seq: number) => void;
  /** Draws on a canvas sized for the device (Timeline's `prepare`). */
  prepare: (element: HTMLCanvasElement, width: number) => CanvasRenderingContext2D | null;
}

export function Lanes({ log, lanes, cursor, lastSeq, colors, onSeek, prepare }: LanesProps) {
  const [hidden, setHidden] = useState(false);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  const { first, last, span } = tapeWindow(cursor, lastSeq);
  // A fraction of the bar, as on the tape: the lanes' bars are narrower than the tape (their labels).
  const cursorAt = span === 0 ? 0 : (cursor - first + 0.5) / span;

  function toggle(lane: number): void {
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(lane)) next.delete(lane);
      else next.add(lane);
      return next;
    });
  }

  return (
    <div className="lanes" data-testid="timeline-lanes">
      <button
        type="button"
        className="lanes-toggle"
        aria-expanded={!hidden}
        onClick={() => setHidden((value) => !value)}
        title={hidden ? 'Show one lane per thread' : 'Hide the thread lanes'}
      >
        {hidden ? `Show ${lanes.names.length} thread lanes` : 'Thread lanes'}
      </button>
      {!hidden &&
        lanes.names.map((name, lane) => (
          <div key={lane} className="lane" data-collapsed={collapsed.has(lane)} data-testid="timeline-lane">
            <button
              type="button"
              className="lane-label"
              aria-expanded={!collapsed.has(lane)}
              onClick={() => toggle(lane)}
              title={collapsed.has(lane) ? `Expand ${name}'s lane` : `Collapse ${name}'s lane`}
            >
              <span className="lane-swatch" style={{ background: lanes.colors[lane] }} aria-hidden="true" />
              {name}
            </button>
            <LaneBar
              log={log}
              lanes={lanes}
              lane={lane}
              first={first}
              last={last}
              span={span}
              cursorAt={cursorAt}
              collapsed={collapsed.has(lane)}
              colors={colors}
              onSeek={onSeek}
              prepare={prepare}
            />
          </div>
        ))}
    </div>
  );
}

interface LaneBarProps {
  log: SessionLog;
  lanes: TimelineLanes;
  lane: number;
  first: number;
  last: number;
  span: number;
  cursorAt: number;
  collapsed: boolean;
  colors: readonly string[];
  onSeek: (seq: number) => void;
  prepare: LanesProps['prepare'];
}

function LaneBar({ log, lanes, lane, first, last, span, cursorAt, collapsed, colors, onSeek, prepare }: LaneBarProps) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useLayoutEffect(() => {
    const element = canvas.current;
    if (element === null) return;
    const width = element.clientWidth;
    if (width === 0) return;
    const context = prepare(element, width);
    if (context === null) return;
    const height = element.clientHeight;
    const tick = width / Math.max(span, 1);
    const own = lanes.colors[lane] ?? '#888';
    for (let seq = first; seq <= last; seq++) {
      if (lanes.laneAt(seq) !== lane) continue;
      const type = log.typeAt(seq);
      if (type === undefined) continue;
      const x = (seq - first) * tick;
      if (collapsed) {
        context.fillStyle = own;
        context.fillRect(x, 0, Math.max(1, tick), height);
        continue;
      }
      context.fillStyle = colors[EVENT_CATEGORIES.indexOf(categoryOf(type))] ?? '#888';
      const barWidth = Math.max(1, Math.min(tick * 0.7, 6));
      context.fillRect(x + (tick - barWidth) / 2, 2, barWidth, height - 4);
    }
  });

  function onPointerDown(event: PointerEvent<HTMLDivElement>): void {
    if (span === 0) return;
    const rect = event.currentTarget.getBoundingClientRect();
    const seq = nearestInLane(lane, seqAt(event.clientX - rect.left, rect.width, first, last), first, last, lanes.laneAt);
    if (seq !== null) onSeek(seq);
  }

  return (
    <div className="lane-bar" onPointerDown={onPointerDown} aria-hidden="true" style={{ borderLeftColor: lanes.colors[lane] }}>
      <canvas ref={canvas} className="lane-canvas" />
      <div className="lane-cursor" style={{ left: `${(cursorAt * 100).toFixed(3)}%` }} />
    </div>
  );
}

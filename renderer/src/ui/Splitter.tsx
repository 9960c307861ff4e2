/**
 * A handle that resizes a panel: drag it, or focus it (Tab) and use the arrow keys (Shift for
 * bigger steps, Home/End for the smallest/largest); a double-click gives the panel its first size
 * back. An ARIA window splitter (role="separator" with its value), and the size it leaves is
 * remembered (ui/preferences.ts).
 */
import { useCallback, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { clampSize, readSize, sizeAfterKey, writeSize, type SizeSpec } from './preferences.ts';
import './layout.css';

export interface SplitterProps {
  /** What it resizes, for its accessible name: "Resize the side panel". */
  label: string;
  spec: SizeSpec;
  size: number;
  /** The new size; `remember` once the drag or key press is done. */
  onResize: (size: number, remember: boolean) => void;
  /** 'vertical': a vertical bar between side-by-side panes (resizes a width); 'horizontal': between stacked ones. */
  orientation: 'vertical' | 'horizontal';
  /** The arrow (and pointer direction) that makes the panel bigger: 'ArrowLeft' for a panel on the right. */
  grows: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown';
  /** The id of the panel it resizes. */
  controls?: string;
  className?: string;
  testId?: string;
}

export function Splitter({ label, spec, size, onResize, orientation, grows, controls, className, testId }: SplitterProps) {
  const drag = useRef<{ from: number; size: number; last: number } | null>(null);
  const sign = grows === 'ArrowLeft' || grows === 'ArrowUp' ? -1 : 1;
  const along = (event: PointerEvent<HTMLDivElement>) => (orientation === 'vertical' ? event.clientX : event.clientY);

  function onPointerDown(event: PointerEvent<HTMLDivElement>): void {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    event.currentTarget.focus();
    drag.current = { from: along(event), size, last: size };
  }

  function onPointerMove(event: PointerEvent<HTMLDivElement>): void {
    const start = drag.current;
    if (start === null) return;
    const next = clampSize(spec, start.size + sign * (along(event) - start.from));
    if (next === start.last) return;
    start.last = next;
    onResize(next, false);
  }

  function onPointerEnd(): void {
    const start = drag.current;
    if (start === null) return;
    drag.current = null;
    onResize(start.last, true);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>): void {
    const next = sizeAfterKey(spec, size, event.key, event.shiftKey, grows);
    if (next === null) return;
    // Taken here: the session's own arrow keys (the timeline's) must not also move.
    event.preventDefault();
    event.stopPropagation();
    onResize(next, true);
  }

  return (
    <div
      role="separator"
      tabIndex={0}
      aria-orientation={orientation}
      aria-label={label}
      aria-valuenow={size}
      aria-valuemin={spec.min}
      aria-valuemax={spec.max}
      aria-controls={controls}
      className={`splitter splitter-${orientation}${className === undefined ? '' : ` ${className}`}`}
      title={`${label}: drag, or use the arrow keys; double-click for the first size`}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerEnd}
      onPointerCancel={onPointerEnd}
      onDoubleClick={() => onResize(spec.initial, true)}
      onKeyDown={onKeyDown}
      data-testid={testId}
    />
  );
}

/** A panel's size, read from and remembered in localStorage. */
export function useStoredSize(spec: SizeSpec): [number, (size: number, remember: boolean) => void] {
  const [size, setSize] = useState(() => readSize(window.localStorage, spec));
  const resize = useCallback(
    (next: number, remember: boolean) => {
      setSize(clampSize(spec, next));
      if (remember) writeSize(window.localStorage, spec, next);
    },
    [spec],
  );
  return [size, resize];
}

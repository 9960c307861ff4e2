/**
 * A handle that resizes a panel: drag it, or focus it (Tab) and use the arrow keys (Shift for
 * bigger steps, Home/End for the smallest/largest); a double-click gives the panel its first size
 * back. An ARIA window splitter (role="separator" with its value), and the size it leaves is
 * remembered (ui/preferences.ts).
 */
import { useCallback, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type PointerEvent } from 'react';
import { clampSize, readSize, sizeAfterKey, writeSize, type SizeSpec } from './preferences.ts';
import './layout.css';

export interface SplitterProps {
  /** What it resizes, for its accessible name: "Resize the side panel". */
  label: string;
  spec: SizeSpec;
  /** The panel's size; null: the layout's own (measured from the panel, the handle's parent element). */
  size: number | null;
  /** The new size (null: back to the first size); `remember` once the drag or key press is done. */
  onResize: (size: number | null, remember: boolean) => void;
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
  const handle = useRef<HTMLDivElement>(null);
  const [measured, setMeasured] = useState<number>(spec.min);
  // The layout's own size, while the user has not chosen one: read from the panel and kept current.
  useLayoutEffect(() => {
    const panel = handle.current?.parentElement;
    if (size !== null || panel === null || panel === undefined) return;
    const read = () => {
      const box = panel.getBoundingClientRect();
      setMeasured(Math.round(orientation === 'vertical' ? box.width : box.height));
    };
    read();
    const observer = new ResizeObserver(read);
    observer.observe(panel);
    return () => observer.disconnect();
  }, [size, orientation]);
  const current = size ?? measured;
  const sign = grows === 'ArrowLeft' || grows === 'ArrowUp' ? -1 : 1;
  const along = (event: PointerEvent<HTMLDivElement>) => (orientation === 'vertical' ? event.clientX : event.clientY);

  function onPointerDown(event: PointerEvent<HTMLDivElement>): void {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    event.currentTarget.focus();
    drag.current = { from: along(event), size: current, last: current };
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
    const next = sizeAfterKey(spec, current, event.key, event.shiftKey, grows);
    if (next === null) return;
    // Taken here: the session's own arrow keys (the timeline's) must not also move.
    event.preventDefault();
    event.stopPropagation();
    onResize(next, true);
  }

  return (
    <div
      ref={handle}
      role="separator"
      tabIndex={0}
      aria-orientation={orientation}
      aria-label={label}
      aria-valuenow={current}
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

/** A panel's size, read from and remembered in localStorage (null: the layout's own, not chosen). */
export function useStoredSize(spec: SizeSpec): [number | null, (size: number | null, remember: boolean) => void] {
  const [size, setSize] = useState(() => readSize(window.localStorage, spec));
  const resize = useCallback(
    (next: number | null, remember: boolean) => {
      setSize(next === null ? spec.initial : clampSize(spec, next));
      if (remember) writeSize(window.localStorage, spec, next);
    },
    [spec],
  );
  return [size, resize];
}

/** The style that gives a panel its chosen size through a CSS variable (nothing while the layout's own applies). */
export function sizeStyle(sizes: Readonly<Record<string, number | null>>): CSSProperties {
  const style: Record<string, string> = {};
  for (const [name, size] of Object.entries(sizes)) if (size !== null) style[name] = `${size}px`;
  return style as CSSProperties;
}

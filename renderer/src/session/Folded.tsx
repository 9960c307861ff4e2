/**
 * A long message folded until "Show all": by characters and lines (only the head is rendered — a
 * 200 KB message would be tens of thousands of pixels tall), and by height (what still renders taller
 * than FOLD_HEIGHT_PX, e.g. a few long code blocks, is clipped to it). "Show less" folds it again.
 */
import { useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { plural } from '#renderer/ui/format.ts';
import { foldedText } from './transcript-items.ts';

/** A folded message shows this much of its height. */
export const FOLD_HEIGHT_PX = 480;
/** Only a message taller than this is folded by height: one a little over the fold is shown whole. */
const FOLD_SLACK_PX = 120;

export function Folded({
  text,
  expanded,
  onToggle,
  children,
}: {
  text: string;
  expanded: boolean;
  onToggle: () => void;
  children: (text: string, folded: boolean) => ReactNode;
}) {
  const head = useMemo(() => foldedText(text), [text]);
  const body = useRef<HTMLDivElement>(null);
  const [tall, setTall] = useState(false);

  // Measured before paint (and again when the content resizes, e.g. highlighted code): no flash of the whole message.
  useLayoutEffect(() => {
    const element = body.current;
    const content = element?.firstElementChild;
    if (element === null || content === null || content === undefined) return;
    const measure = () => setTall(element.scrollHeight > FOLD_HEIGHT_PX + FOLD_SLACK_PX);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(content);
    return () => observer.disconnect();
  }, [text, expanded]);

  const folds = head !== null || tall;
  const shown = expanded || head === null ? text : head;
  return (
    <>
      <div ref={body} className={folds && !expanded && tall ? 'message-clamp' : undefined} data-testid="message-folded-body">
        {children(shown, !expanded && head !== null)}
      </div>
      {folds && (
        <div className={expanded ? 'message-fold message-fold-open' : 'message-fold'}>
          <button type="button" className="button button-quiet button-small" aria-expanded={expanded} onClick={onToggle}>
            {expanded ? 'Show less' : `Show all (${plural(text.length, 'character')}, ${plural(text.split('\n').length, 'line')})`}
          </button>
        </div>
      )}
    </>
  );
}

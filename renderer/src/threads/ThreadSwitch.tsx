/**
 * Above the transcript of a session with threads: show every thread interleaved (each item
 * labelled with its thread) or one thread alone. A radio group; the lane colours mark the threads.
 */
import type { ThreadSummary } from '#shared/thread-view';
import { threadColor, threadLabels } from './thread-model.ts';
import './threads.css';

export interface ThreadSwitchProps {
  threads: readonly ThreadSummary[];
  /** undefined: all threads. */
  shown: string | null | undefined;
  onShow: (thread: string | null | undefined) => void;
}

export function ThreadSwitch({ threads, shown, onShow }: ThreadSwitchProps) {
  if (threads.length < 2) return null;
  const labels = threadLabels(threads);
  return (
    <div className="thread-switch" role="radiogroup" aria-label="Threads shown in the transcript" data-testid="thread-switch">
      <button type="button" role="radio" aria-checked={shown === undefined} className="thread-choice" onClick={() => onShow(undefined)}>
        All threads
      </button>
      {threads.map((thread, index) => (
        <button
          key={thread.id ?? 'primary'}
          type="button"
          role="radio"
          aria-checked={shown === thread.id}
          className="thread-choice"
          onClick={() => onShow(thread.id)}
          title={thread.task === '' ? undefined : thread.task}
        >
          <span className="thread-swatch" style={{ background: threadColor(index) }} aria-hidden="true" />
          {labels[index]}
        </button>
      ))}
    </div>
  );
}

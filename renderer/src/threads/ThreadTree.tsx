/**
 * The session's threads beside the branch tree (issue 21): the primary (the coordinator) and the
 * threads it started, below it, each with its status, its tokens and its estimated cost. A click
 * shows that thread alone in the transcript; the one shown is marked. Reads the fold only.
 */
import { formatCost, formatDuration, plural } from '#renderer/ui/format.ts';
import type { ThreadSummary } from '#shared/thread-view';
import { threadColor, threadTree, tokensText, type ThreadNode } from './thread-model.ts';
import './threads.css';

export interface ThreadTreeProps {
  threads: readonly ThreadSummary[];
  /** The thread the transcript shows (undefined: all of them, interleaved). */
  shown: string | null | undefined;
  onShow: (thread: string | null | undefined) => void;
  error?: string | null;
}

export function ThreadTree({ threads, shown, onShow, error = null }: ThreadTreeProps) {
  const root = threadTree(threads);
  if (root === null || threads.length < 2) return null;
  const total = threads.reduce((sum, thread) => sum + thread.costUsd, 0);
  return (
    <section className="thread-tree-panel" aria-label="Threads" data-testid="thread-tree">
      <header className="thread-tree-header">
        <h3>Threads</h3>
        <span className="thread-tree-total" title="Estimated cost of every thread's model requests">
          {plural(threads.length, 'thread')} · {formatCost(total)}
        </span>
      </header>
      {error !== null && (
        <p className="thread-tree-error" role="alert">
          Could not read the threads: {error}
        </p>
      )}
      <ul className="thread-tree">
        <ThreadItem node={root} shown={shown} onShow={onShow} />
      </ul>
    </section>
  );
}

function ThreadItem({ node, shown, onShow }: { node: ThreadNode; shown: string | null | undefined; onShow: ThreadTreeProps['onShow'] }) {
  const { thread } = node;
  const current = shown === thread.id;
  const status = statusLabel(thread);
  return (
    <li>
      <button
        type="button"
        className={current ? 'thread-node thread-node-current' : 'thread-node'}
        aria-pressed={current}
        onClick={() => onShow(current ? undefined : thread.id)}
        title={current ? 'Show every thread in the transcript' : `Show only ${node.label} in the transcript`}
        data-testid="thread-node"
      >
        <span className="thread-swatch" style={{ background: threadColor(node.index) }} aria-hidden="true" />
        <span className="thread-text">
          <span className="thread-name">
            {node.label}
            {thread.id === null && <span className="thread-role"> (primary)</span>}
            <span className={`thread-status thread-status-${thread.status}`}>{status}</span>
          </span>
          {thread.task !== '' && (
            <span className="thread-task" title={thread.task}>
              {thread.task}
            </span>
          )}
          <span className="thread-meta" data-testid="thread-cost">
            {formatCost(thread.costUsd)} · {tokensText(thread)} · {plural(thread.requests, 'request')}
            {thread.activeMs > 0 && ` · ${formatDuration(thread.activeMs)} active`}
            {thread.unpricedModels.length > 0 && ` · ${thread.unpricedModels.join(', ')} not priced`}
          </span>
        </span>
      </button>
      {node.children.length > 0 && (
        <ul>
          {node.children.map((child) => (
            <ThreadItem key={child.index} node={child} shown={shown} onShow={onShow} />
          ))}
        </ul>
      )}
    </li>
  );
}

function statusLabel(thread: ThreadSummary): string {
  const reason = thread.stopReason === null ? '' : `: ${thread.stopReason.replaceAll('_', ' ')}`;
  switch (thread.status) {
    case 'running':
      return 'running';
    case 'idle':
      return `idle${reason}`;
    case 'terminated':
      return `ended${reason}`;
    case 'new':
      return 'not started';
  }
}

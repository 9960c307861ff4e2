/**
 * The session's family in the inspector: the original conversation, its rewind branches and
 * forks, as an indented tree with connector lines. One click on a node opens it; the session
 * being viewed is marked and is not a button. Reads `sessions-tree` only; changes nothing.
 */
import { useEffect, useRef, useState } from 'react';
import type { SessionKind, SessionTreeNode } from '#shared/sessions';
import { formatFullTime, formatRelativeTime, plural } from '#renderer/ui/format.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import './branches.css';

export interface BranchTreeProps {
  transport: Transport;
  sessionId: string;
  /** Reloads the tree whenever it changes (e.g. after a rewind or fork). */
  refreshKey: unknown;
  onOpen: (node: SessionTreeNode) => void;
  /** Hears why the tree could not be loaded (it is also shown inline, with Retry). */
  onError: (reason: unknown) => void;
}

interface Branch {
  node: SessionTreeNode;
  children: Branch[];
}

const KIND_NAMES: Readonly<Record<SessionKind, string>> = {
  root: 'Original conversation',
  fork: 'Fork',
  rewind: 'Rewind branch',
};

export function BranchTree({ transport, sessionId, refreshKey, onOpen, onError }: BranchTreeProps) {
  const [nodes, setNodes] = useState<readonly SessionTreeNode[] | null>(null);
  const [failure, setFailure] = useState<{ sessionId: string; message: string } | null>(null);
  const [attempt, setAttempt] = useState(0);
  const onErrorRef = useRef(onError);
  useEffect(() => {
    onErrorRef.current = onError;
  });

  useEffect(() => {
    let active = true;
    transport.call('sessions-tree', { sessionId }).then(
      (tree) => {
        if (!active) return;
        setNodes(tree);
        setFailure(null);
      },
      (reason: unknown) => {
        if (!active) return;
        setFailure({ sessionId, message: messageOf(reason) });
        onErrorRef.current(reason);
      },
    );
    return () => {
      active = false;
    };
  }, [transport, sessionId, refreshKey, attempt]);

  // While another session's tree loads, the old one stays only if it holds that session (moving
  // between branches of one conversation does not flash "Loading").
  const shown = nodes?.some((node) => node.id === sessionId) ? nodes : null;
  const error = failure?.sessionId === sessionId ? failure.message : null;

  return (
    <div className="branch-tree-panel" data-testid="branch-tree">
      {error !== null && (
        <p className="branch-tree-error" role="alert">
          Could not load the branches: {error}{' '}
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setFailure(null);
              setAttempt((count) => count + 1);
            }}
          >
            Retry
          </button>
        </p>
      )}
      {shown === null ? (
        error === null && <p className="branch-tree-status">Loading branches…</p>
      ) : (
        <>
          <ul className="branch-tree" aria-label="Branches and forks">
            {nest(shown).map((branch) => (
              <BranchItem key={branch.node.id} branch={branch} currentId={sessionId} onOpen={onOpen} />
            ))}
          </ul>
          {shown.length === 1 && <p className="branch-tree-status">No branches yet: rewind or fork from any event to start one.</p>}
        </>
      )}
    </div>
  );
}

interface BranchItemProps {
  branch: Branch;
  currentId: string;
  onOpen: (node: SessionTreeNode) => void;
}

function BranchItem({ branch, currentId, onOpen }: BranchItemProps) {
  const { node, children } = branch;
  const current = node.id === currentId;
  const content = (
    <>
      <span className="branch-kind" data-kind={node.kind} aria-hidden="true" title={KIND_NAMES[node.kind]}>
        <KindIcon kind={node.kind} />
      </span>
      <span className="branch-text">
        <span className="branch-title" title={nodeTitle(node)}>
          <span className="visually-hidden">{KIND_NAMES[node.kind]}: </span>
          {nodeTitle(node)}
        </span>
        <span className="branch-meta" title={`Last activity ${formatFullTime(node.lastActivityAt)}`}>
          {plural(node.lastSeq, 'event')} · {formatRelativeTime(node.lastActivityAt)}
        </span>
      </span>
      {current && <span className="branch-viewing">viewing</span>}
    </>
  );
  return (
    <li data-depth={node.depth}>
      {current ? (
        <div className="branch-node branch-node-current" aria-current="true">
          {content}
        </div>
      ) : (
        <button type="button" className="branch-node" onClick={() => onOpen(node)}>
          {content}
        </button>
      )}
      {children.length > 0 && (
        <ul>
          {children.map((child) => (
            <BranchItem key={child.node.id} branch={child} currentId={currentId} onOpen={onOpen} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** The kind as a glyph every system font has (↺ rewind, ↳ fork, • root); the label says it in words. */
const KIND_GLYPHS: Readonly<Record<SessionKind, string>> = { root: '•', fork: '↳', rewind: '↺' };

function KindIcon({ kind }: { kind: SessionKind }) {
  return (
    <span className="branch-kind-glyph" aria-hidden="true">
      {KIND_GLYPHS[kind]}
    </span>
  );
}

function nodeTitle(node: SessionTreeNode): string {
  const at = `#${node.forkSeq ?? 0}`;
  switch (node.kind) {
    case 'rewind':
      return `Branch from ${at}`;
    case 'fork':
      return `${node.title} · fork at ${at}`;
    case 'root':
      return node.title;
  }
}

/** The flat list (any order) as a forest by parentId; a node whose parent is absent is a root. */
function nest(nodes: readonly SessionTreeNode[]): Branch[] {
  const branches = new Map<string, Branch>();
  for (const node of nodes) branches.set(node.id, { node, children: [] });
  const roots: Branch[] = [];
  for (const branch of branches.values()) {
    const parent = branch.node.parentId === null ? undefined : branches.get(branch.node.parentId);
    if (parent === undefined) roots.push(branch);
    else parent.children.push(branch);
  }
  return roots;
}

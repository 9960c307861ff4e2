/**
 * The session's hands, above its events: one compact row per hand (state, image, network,
 * container, tools; for a machine, user@host), a progress bar while a hand starts, Detach, and
 * the forms that add a Docker hand, attach a machine over SSH or add an MCP server (whose rows
 * are McpHandRow.tsx). Says so when the Docker engine does not answer.
 */
import { Fragment, useId, useState } from 'react';
import type { HandProgress, HandStatus } from '#shared/hands';
import { AttachHandForm } from './docker/AttachHandForm.tsx';
import { AttachMachineForm } from './machine/AttachMachineForm.tsx';
import { AttachMcpForm } from './mcp/AttachMcpForm.tsx';
import { McpHandRow } from './mcp/McpHandRow.tsx';
import { ImportedHandsReview } from './ImportedHandsReview.tsx';
import { describeHand, formatMegabytesOf, plural } from '#renderer/ui/format.ts';
import type { HandAsOf } from './hand-history.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useDockerStatus, useHands } from './useHands.ts';
import { WorkerRows } from './WorkerRows.tsx';
import { HandHolders } from './HandHolders.tsx';
import { describeHolding } from '#shared/hand-holders';
import { SaveToLibrary } from './library/SaveToLibrary.tsx';
import { TerminalPane, terminalStore } from '#renderer/terminal/index.ts';

export interface HandsPanelProps {
  transport: Transport;
  sessionId: string;
  /** When the timeline is scrubbed back: the hands as they stood at that event (read-only). */
  asOf?: { seq: number; hands: readonly HandAsOf[] } | null;
  titleOf?: (sessionId: string) => string | undefined;
}

export function HandsPanel({ transport, sessionId, asOf = null, titleOf = () => undefined }: HandsPanelProps) {
  // Terminals (issue 23) outlive a scrub back in time and a switch of tab: they live in the window's store.
  const terminals = terminalStore(transport);
  const [activeTerminal, setActiveTerminal] = useState<string | null>(null);
  return (
    <>
      {asOf !== null ? (
        <HandsAsOf seq={asOf.seq} hands={asOf.hands} titleOf={titleOf} />
      ) : (
        <LiveHands
          transport={transport}
          sessionId={sessionId}
          onOpenTerminal={(hand) => setActiveTerminal(terminals.open(sessionId, hand))}
        />
      )}
      <TerminalPane store={terminals} sessionId={sessionId} active={activeTerminal} onActivate={setActiveTerminal} />
    </>
  );
}

/** The hands at a past event, folded from the log: what was attached and what state each was in. */
function HandsAsOf({
  seq,
  hands,
  titleOf,
}: {
  seq: number;
  hands: readonly HandAsOf[];
  titleOf: (sessionId: string) => string | undefined;
}) {
  return (
    <section className="hands hands-past" data-testid="hands-panel" aria-label={`Hands as of event ${seq}`}>
      <div className="hands-header">
        <h3 className="hands-title">Hands</h3>
        <p className="hands-hint">As of event #{seq.toLocaleString()}. Go back to live to attach or detach.</p>
      </div>
      {hands.length === 0 ? (
        <p className="hands-hint">No hands were attached at this point.</p>
      ) : (
        <ul className="hands-list">
          {hands.map((hand) => {
            const restored = hand.restoredFrom;
            const source = restored === null ? undefined : titleOf(restored.sessionId);
            return (
              <li key={hand.name} className="hand" aria-label={`Hand ${hand.name}`}>
                <div className="hand-line">
                  <span className={`hand-state hand-state-${hand.state}`}>{hand.state}</span>
                  <span className="hand-name">{hand.name}</span>
                  <span className="hand-metas">
                    <span className="hand-meta">{describeHand(hand.config)}</span>
                    {hand.snapshots > 0 && <span className="hand-meta">{plural(hand.snapshots, 'snapshot')}</span>}
                  </span>
                </div>
                {hand.detail !== null && (
                  <div className="hand-line hand-line-secondary">
                    <span className="hand-detail">{hand.detail}</span>
                  </div>
                )}
                {restored !== null && (
                  <p className="hand-restored">
                    Files restored from the snapshot at event #{restored.atSeq}
                    {source === undefined ? '' : ` of “${source}”`}.
                  </p>
                )}
                {hand.holders.length > 0 && (
                  <ul className="hand-holders" aria-label={`Threads holding ${hand.name}`}>
                    {hand.holders.map((holding) => (
                      <li key={`${holding.session_thread_id}/${holding.copy ?? hand.name}`} className="hand-holder">
                        <span className="hand-name">{holding.copy ?? hand.name}</span> — {describeHolding(holding)}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function LiveHands({
  transport,
  sessionId,
  onOpenTerminal,
}: {
  transport: Transport;
  sessionId: string;
  onOpenTerminal: (hand: string) => void;
}) {
  const { hands, progress, loadError, attach, detach } = useHands(transport, sessionId);
  const docker = useDockerStatus(transport);
  const [adding, setAdding] = useState<'docker' | 'machine' | 'mcp' | null>(null);
  /**
   * The list 'hands-update' answered with, for as long as no newer list has arrived: a switch
   * flipped in a row shows at once, and the next refresh supersedes it.
   */
  const [updated, setUpdated] = useState<{ basis: readonly HandStatus[] | null; list: readonly HandStatus[] } | null>(null);
  const shown = updated !== null && updated.basis === hands ? updated.list : hands;
  const [detaching, setDetaching] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const headingId = useId();
  // Machines over SSH and MCP servers need no Docker: its absence matters only where Docker hands are (or may be) used.
  const onlyMachines =
    adding === 'machine' || adding === 'mcp' || (hands !== null && hands.length > 0 && hands.every((hand) => hand.kind !== 'docker'));

  async function confirmDetach(name: string, kind: HandStatus['kind']): Promise<void> {
    const consequence =
      kind === 'ssh'
        ? 'Its connection is closed; nothing on the machine is deleted, and its snapshots stay for forks.'
        : kind === 'mcp'
          ? 'The server is stopped and its tools are no longer offered.'
          : 'Its container is removed; its snapshots stay for forks.';
    if (!window.confirm(`Detach ${name}? ${consequence}`)) return;
    setDetaching(name);
    setActionError(null);
    try {
      await detach(name);
    } catch (reason) {
      setActionError(`Could not detach ${name}: ${messageOf(reason)}`);
    } finally {
      setDetaching(null);
    }
  }

  return (
    <section className="hands" data-testid="hands-panel" aria-labelledby={headingId}>
      <div className="hands-header">
        <h3 id={headingId} className="hands-title">
          Hands
        </h3>
        <p className="hands-hint">
          {hands?.length === 0
            ? 'None yet: Claude has no computer to run commands on.'
            : 'Computers Claude works on; each starts on its first tool call.'}
        </p>
        {adding === null && (
          <span className="hands-add">
            <button type="button" className="button button-small" onClick={() => setAdding('docker')}>
              Add a Docker hand
            </button>
            <button type="button" className="button button-small" onClick={() => setAdding('machine')}>
              Attach a machine
            </button>
            <button type="button" className="button button-small" onClick={() => setAdding('mcp')}>
              Add MCP server
            </button>
          </span>
        )}
      </div>
      {docker !== null && !docker.available && !onlyMachines && (
        <p className="hands-warning" role="note">
          <strong>Docker is not available.</strong> {docker.reason ?? 'The Docker engine did not answer.'} Hands cannot start until it does.
        </p>
      )}
      {loadError !== null && (
        <p className="hands-error" role="alert">
          Could not load the hands: {loadError}
        </p>
      )}
      {actionError !== null && (
        <p className="hands-error" role="alert">
          <span className="hands-error-message">{actionError}</span>
          <button type="button" className="banner-dismiss" onClick={() => setActionError(null)} aria-label="Dismiss error">
            ×
          </button>
        </p>
      )}
      {shown !== null && (
        <ImportedHandsReview
          transport={transport}
          sessionId={sessionId}
          hands={shown}
          onApproved={(list) => setUpdated({ basis: hands, list })}
        />
      )}
      {shown !== null && shown.some((hand) => hand.review === undefined) && (
        <ul className="hands-list">
          {shown
            .filter((hand) => hand.review === undefined)
            .map((hand) =>
              hand.config.kind === 'mcp' ? (
                <McpHandRow
                  key={hand.name}
                  transport={transport}
                  sessionId={sessionId}
                  hand={{ ...hand, config: hand.config }}
                  progressBar={<StartingBar name={hand.name} state={hand.state} progress={progress.get(hand.name)} />}
                  detaching={detaching === hand.name}
                  onDetach={() => void confirmDetach(hand.name, hand.kind)}
                  onUpdated={(list) => setUpdated({ basis: hands, list })}
                />
              ) : (
                <HandRow
                  key={hand.name}
                  transport={transport}
                  hand={hand}
                  progress={progress.get(hand.name)}
                  detaching={detaching === hand.name}
                  onDetach={() => void confirmDetach(hand.name, hand.kind)}
                  onOpenTerminal={() => onOpenTerminal(hand.name)}
                />
              ),
            )}
        </ul>
      )}
      <WorkerRows transport={transport} sessionId={sessionId} />
      {adding === 'docker' && (
        <AttachHandForm
          transport={transport}
          existingNames={(hands ?? []).map((hand) => hand.name)}
          onAttach={attach}
          onClose={() => setAdding(null)}
        />
      )}
      {adding === 'machine' && (
        <AttachMachineForm
          transport={transport}
          existingNames={(hands ?? []).map((hand) => hand.name)}
          onAttach={attach}
          onClose={() => setAdding(null)}
        />
      )}
      {adding === 'mcp' && (
        <AttachMcpForm
          transport={transport}
          existingNames={(hands ?? []).map((hand) => hand.name)}
          onAttach={attach}
          onClose={() => setAdding(null)}
        />
      )}
    </section>
  );
}

interface HandRowProps {
  transport: Transport;
  hand: HandStatus;
  progress: HandProgress | undefined;
  detaching: boolean;
  onDetach: () => void;
  onOpenTerminal: () => void;
}

function HandRow({ transport, hand, progress, detaching, onDetach, onOpenTerminal }: HandRowProps) {
  const { name, config, state, detail, container, tools } = hand;
  const starting = progress !== undefined && state !== 'ready' && state !== 'failed';
  const mounts =
    config.kind === 'docker'
      ? config.mounts.map((mount) => `${mount.host_path} → ${mount.container_path}${mount.read_only ? ' (read-only)' : ''}`)
      : [];
  return (
    <li className="hand" aria-label={`Hand ${name}`}>
      <div className="hand-line">
        <span className={`hand-state hand-state-${state}`}>{state}</span>
        <span className="hand-name">{name}</span>
        {/* One group: where it wraps, no separator is left at a line's start. */}
        <span className="hand-metas">
          <span className="hand-meta">{describeHand(config)}</span>
          {config.kind === 'docker' && <span className="hand-meta">{config.network === 'none' ? 'no network' : 'network on'}</span>}
          {mounts.length > 0 && (
            <span className="hand-meta" title={mounts.join('\n')}>
              {plural(mounts.length, 'mount')}
            </span>
          )}
        </span>
        {/* A machine's user@host is already in its description; a container's id is not. */}
        {container !== null && hand.kind === 'docker' && (
          <span className="hand-container" title="Container id">
            {container.slice(0, 12)}
          </span>
        )}
        <button
          type="button"
          className="button button-small button-quiet hand-terminal"
          onClick={onOpenTerminal}
          aria-label={`Open a terminal on ${name}`}
          title={
            config.kind === 'ssh'
              ? 'A shell on this machine for you (what you do there is not in the log; closing it checkpoints the files)'
              : 'A shell in this container for you (what you do there is not in the log; closing it checkpoints the files)'
          }
        >
          Open terminal
        </button>
        <button
          type="button"
          className="button button-small button-quiet hand-detach"
          onClick={onDetach}
          disabled={detaching}
          aria-label={`Detach ${name}`}
          title={
            config.kind === 'ssh'
              ? 'Remove this machine from the session (nothing on it is deleted)'
              : 'Remove this hand and its container from the session'
          }
        >
          {detaching ? 'Detaching…' : 'Detach'}
        </button>
      </div>
      <div className="hand-line hand-line-secondary">
        <span className="hand-detail" title={detail}>
          {detail}
        </span>
        <span className="hand-tools">
          <span className="visually-hidden">Tools: </span>
          {tools.map((tool, index) => (
            <Fragment key={tool}>
              {index > 0 && ' '}
              <code>{tool}</code>
            </Fragment>
          ))}
        </span>
      </div>
      <SaveToLibrary transport={transport} name={name} config={config} />
      <HandHolders hand={name} holders={hand.threads} />
      {starting && <HandProgressBar name={name} progress={progress} />}
    </li>
  );
}

/** The progress bar while a hand starts; nothing once it is settled. */
function StartingBar({ name, state, progress }: { name: string; state: HandStatus['state']; progress: HandProgress | undefined }) {
  if (progress === undefined || state === 'ready' || state === 'failed') return null;
  return <HandProgressBar name={name} progress={progress} />;
}

function HandProgressBar({ name, progress }: { name: string; progress: HandProgress }) {
  const { current, total, message } = progress;
  const sized = current !== undefined && total !== undefined && total > 0;
  const percent = sized ? Math.min(100, Math.round((current / total) * 100)) : null;
  const amount = sized ? formatMegabytesOf(current, total) : null;
  return (
    <div className="hand-progress">
      <div
        className={percent === null ? 'progress progress-indeterminate' : 'progress'}
        role="progressbar"
        aria-label={`Starting ${name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={amount === null ? message : `${amount}: ${message}`}
      >
        <div className="progress-fill" style={percent === null ? undefined : { width: `${percent}%` }} />
      </div>
      <span className="hand-progress-text">
        {amount !== null && <span className="hand-progress-amount">{amount}</span>}
        {message}
      </span>
    </div>
  );
}

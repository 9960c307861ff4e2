/**
 * Hands that came from an imported session file: someone else chose what they run, so they stay
 * off until the user has read exactly that — the command, its arguments and environment names; the
 * image, its host folders and network; the machine and how Drover would log in; the URL and its
 * headers — and turns each on ('hands-approve', recorded in the log so forks inherit it).
 */
import { useState } from 'react';
import type { HandConfig, HandStatus } from '#shared/hands';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';

export interface ReviewLine {
  label: string;
  value: string;
}

type McpValue = { value: string } | { secret_id: string };
const valueSource = (value: McpValue): string => ('secret_id' in value ? `vault secret ${value.secret_id}` : 'a value from the file');
const names = (record: Record<string, McpValue | string>): string =>
  Object.entries(record)
    .map(([name, value]) => (typeof value === 'string' ? name : `${name} (${valueSource(value)})`))
    .join(', ') || 'none';

/** What a hand would run and reach, line by line, as the review shows it. */
export function reviewLinesOf(config: HandConfig): ReviewLine[] {
  if (config.kind === 'mcp') {
    const transport = config.transport;
    if (transport.type === 'stdio') {
      return [
        { label: 'Runs on this computer', value: [transport.command, ...transport.args].map(quote).join(' ') },
        { label: 'In folder', value: transport.cwd ?? 'Drover’s own' },
        { label: 'Environment', value: names(transport.env) },
      ];
    }
    return [
      { label: 'Connects to', value: transport.url },
      { label: 'Headers', value: names(transport.headers) },
      { label: 'Bearer token', value: transport.bearer_secret_id === null ? 'none' : `vault secret ${transport.bearer_secret_id}` },
    ];
  }
  if (config.kind === 'docker') {
    const mounts = config.mounts.map(
      (mount) => `${mount.host_path} → ${mount.container_path} (${mount.read_only ? 'read-only' : 'READ-WRITE'})`,
    );
    return [
      { label: 'Image', value: config.image },
      { label: 'Host folders', value: mounts.join('; ') || 'none' },
      { label: 'Network', value: config.network === 'none' ? 'none' : 'on (internet through this computer)' },
      { label: 'Environment', value: names(config.env) },
      {
        label: 'Repositories',
        value:
          config.repos
            .map((repo) => `${repo.url}${repo.token_secret_id === null ? '' : ` with vault secret ${repo.token_secret_id}`}`)
            .join('; ') || 'none',
      },
    ];
  }
  const login =
    config.auth.method === 'agent'
      ? 'your ssh-agent'
      : config.auth.method === 'key'
        ? `vault key ${config.auth.key_secret_id}`
        : `vault password ${config.auth.password_secret_id}`;
  return [
    { label: 'Machine', value: `${config.user}@${config.host}:${config.port}` },
    { label: 'Through', value: config.jump === null ? 'direct' : `${config.jump.user}@${config.jump.host}:${config.jump.port}` },
    { label: 'Logs in with', value: login },
  ];
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface ImportedHandsReviewProps {
  transport: Transport;
  sessionId: string;
  hands: readonly HandStatus[];
  /** The hands list after a hand was turned on. */
  onApproved: (list: readonly HandStatus[]) => void;
}

export function ImportedHandsReview({ transport, sessionId, hands, onApproved }: ImportedHandsReviewProps) {
  const pending = hands.filter((hand) => hand.review === 'pending');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (pending.length === 0) return null;

  async function approve(hand: HandStatus): Promise<void> {
    if (hand.attachedSeq === undefined) return;
    setBusy(hand.name);
    setError(null);
    try {
      onApproved(await transport.call('hands-approve', { sessionId, name: hand.name, attachedSeq: hand.attachedSeq }));
    } catch (reason) {
      setError(`Could not turn on ${hand.name}: ${messageOf(reason)}`);
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="hands-review" role="region" aria-label="Imported hands to review" data-testid="imported-hands-review">
      <p className="hands-warning" role="note">
        <strong>Imported from a file.</strong> These hands were chosen by whoever made the file and are off: nothing of theirs runs and
        Claude cannot use them until you turn each on. Turn one on only if you trust everything it would do.
      </p>
      {error !== null && (
        <p className="hands-error" role="alert">
          {error}
        </p>
      )}
      <ul className="hands-list">
        {pending.map((hand) => (
          <li key={hand.name} className="hand" aria-label={`Imported hand ${hand.name}`}>
            <div className="hand-line">
              <span className="hand-state">off</span>
              <span className="hand-name">{hand.name}</span>
              <span className="hand-meta">{hand.kind === 'mcp' ? 'MCP server' : hand.kind === 'ssh' ? 'SSH machine' : 'Docker hand'}</span>
              <button type="button" className="button button-small" disabled={busy !== null} onClick={() => void approve(hand)}>
                {busy === hand.name ? 'Turning on…' : `Turn on ${hand.name}`}
              </button>
            </div>
            <p className="hand-detail">{hand.detail}</p>
            <dl className="hand-review-lines">
              {reviewLinesOf(hand.config).map((line) => (
                <div key={line.label} className="hand-line hand-line-secondary">
                  <dt>{line.label}:</dt>{' '}
                  <dd>
                    <code>{line.value}</code>
                  </dd>
                </div>
              ))}
            </dl>
          </li>
        ))}
      </ul>
    </div>
  );
}

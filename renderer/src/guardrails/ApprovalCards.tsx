/**
 * The approval cards under the transcript: one per tool call that waits for the user, with the
 * hand, the tool, the full command or the edit's diff, or an MCP tool's input. Allow / Allow
 * similar for this session (says what it will allow) / Deny with a message. Keyboard-first: Enter
 * allows the focused card, Esc goes to its deny message (Enter there denies). Several waiting:
 * answer one by one or "Allow all". Cards answered here stay, saying the decision.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { GuardrailsView, ToolConfirmation } from '#shared/guardrails';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { approvalCardOf, type ApprovalBody, type ApprovalCardModel } from './approval-model.ts';
import './guardrails.css';

export interface ApprovalCardsProps {
  transport: Transport;
  sessionId: string;
  view: GuardrailsView | null;
  onView: (view: GuardrailsView) => void;
}

/** Answered cards stay as one line each, the latest few. */
const ANSWERED_SHOWN = 3;

interface Answered {
  card: ApprovalCardModel;
  decision: string;
}

export function ApprovalCards({ transport, sessionId, view, onView }: ApprovalCardsProps) {
  const cards = useMemo(() => (view?.pending ?? []).map(approvalCardOf), [view]);
  const [answered, setAnswered] = useState<Answered[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLElement>(null);
  const firstId = cards[0]?.toolUseId ?? null;

  // A card that starts waiting takes the focus (Enter allows it), unless the user is typing
  // something elsewhere (an empty message box, as after sending, is not typing).
  useEffect(() => {
    if (firstId !== null && !isTyping(document.activeElement)) first.current?.focus();
  }, [firstId]);

  async function answer(
    list: ApprovalCardModel[],
    confirmations: ToolConfirmation[],
    decision: (card: ApprovalCardModel) => string,
    before?: () => Promise<GuardrailsView>,
  ): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      if (before) onView(await before());
      onView(await transport.call('sessions-confirm-tool', { sessionId, confirmations }));
      setAnswered((done) => [...done, ...list.map((card) => ({ card, decision: decision(card) }))]);
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  const allow = (card: ApprovalCardModel) => answer([card], [{ tool_use_id: card.toolUseId, result: 'allow' }], () => 'Allowed');
  const allowSimilar = (card: ApprovalCardModel) => {
    const similar = card.similar;
    if (similar.kind === 'none') return Promise.resolve();
    const before =
      similar.kind === 'rule'
        ? () => transport.call('sessions-add-rule', { sessionId, hand: similar.hand, tool: similar.tool, rule: similar.rule })
        : () => transport.call('sessions-set-policy', { sessionId, hand: similar.hand, tool: similar.tool, policy: 'always_allow' });
    return answer([card], [{ tool_use_id: card.toolUseId, result: 'allow' }], () => `Allowed; “Allow similar” ${similar.label}`, before);
  };
  const deny = (card: ApprovalCardModel, message: string) =>
    answer(
      [card],
      [{ tool_use_id: card.toolUseId, result: 'deny', ...(message.trim() === '' ? {} : { deny_message: message.trim() }) }],
      () => (message.trim() === '' ? 'Denied' : `Denied: “${message.trim()}”`),
    );
  const allowAll = () =>
    answer(
      cards,
      cards.map((card) => ({ tool_use_id: card.toolUseId, result: 'allow' })),
      () => 'Allowed (Allow all)',
    );

  if (cards.length === 0 && answered.length === 0) return null;
  return (
    <section className="approvals" aria-label="Tool calls waiting for your approval" data-testid="approvals">
      {answered.slice(-ANSWERED_SHOWN).map(({ card, decision }) => (
        <p key={`done-${card.toolUseId}`} className="approval-answered" data-testid="approval-answered">
          <span className="approval-tool">{card.tool}</span> on {card.hand ?? 'no hand'}
          {card.body.kind === 'command' && <code className="approval-answered-command">{card.body.command}</code>}
          {card.body.kind === 'edit' && <code className="approval-answered-command">{card.body.path}</code>}
          <span className="approval-decision">{decision}</span>
        </p>
      ))}
      {cards.length > 1 && (
        <div className="approvals-bar">
          <span>{cards.length} tool calls wait for your approval.</span>
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void allowAll()}>
            Allow all
          </button>
        </div>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          Could not answer: {error} Try again, or send a message instead.
        </p>
      )}
      {cards.map((card, index) => (
        <Card
          key={card.toolUseId}
          ref={index === 0 ? first : undefined}
          card={card}
          busy={busy}
          onAllow={() => void allow(card)}
          onAllowSimilar={() => void allowSimilar(card)}
          onDeny={(message) => void deny(card, message)}
        />
      ))}
    </section>
  );
}

function CardHeading({ card }: { card: ApprovalCardModel }) {
  return (
    <header className="approval-heading">
      <span className="approval-tool">{card.tool}</span>
      <span className="approval-hand">on {card.hand ?? 'no hand'}</span>
    </header>
  );
}

interface CardProps {
  ref?: React.Ref<HTMLElement> | undefined;
  card: ApprovalCardModel;
  busy: boolean;
  onAllow: () => void;
  onAllowSimilar: () => void;
  onDeny: (message: string) => void;
}

function Card({ ref, card, busy, onAllow, onAllowSimilar, onDeny }: CardProps) {
  const [message, setMessage] = useState('');
  const denyField = useRef<HTMLInputElement>(null);
  function onKeyDown(event: KeyboardEvent<HTMLElement>): void {
    if (busy || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      denyField.current?.focus();
    } else if (event.key === 'Enter' && event.target === event.currentTarget) {
      event.preventDefault();
      onAllow();
    }
  }
  return (
    <article
      ref={ref}
      className="approval-card"
      tabIndex={0}
      aria-label={`${card.tool} on ${card.hand ?? 'no hand'} waits for approval`}
      onKeyDown={onKeyDown}
      data-testid="approval-card"
    >
      <CardHeading card={card} />
      <Body body={card.body} />
      <div className="approval-actions">
        <button type="button" className="button button-primary" disabled={busy} onClick={onAllow} title="Run this call once (Enter)">
          Allow
        </button>
        {card.similar.kind !== 'none' && (
          <button type="button" className="button" disabled={busy} onClick={onAllowSimilar} title={card.similar.label}>
            Allow similar for this session
          </button>
        )}
        <form
          className="approval-deny"
          onSubmit={(event) => {
            event.preventDefault();
            onDeny(message);
          }}
        >
          <input
            ref={denyField}
            className="input"
            value={message}
            onChange={(event) => setMessage(event.target.value)}
            placeholder="Why not? Claude reads this (Esc)"
            aria-label="Deny message"
            maxLength={10_000}
          />
          <button type="submit" className="button button-danger-quiet" disabled={busy}>
            Deny
          </button>
        </form>
      </div>
      {card.similar.kind !== 'none' && <p className="approval-similar">Allow similar: {card.similar.label}.</p>}
    </article>
  );
}

function Body({ body }: { body: ApprovalBody }) {
  if (body.kind === 'command')
    return (
      <pre className="approval-command" data-testid="approval-command">
        {body.command}
      </pre>
    );
  if (body.kind === 'input') return <pre className="approval-input">{body.json}</pre>;
  return (
    <div className="approval-edit">
      <p className="approval-path">
        {body.command} <code>{body.path}</code>
        {body.note !== null && ` — ${body.note}`}
      </p>
      <pre className="approval-diff" data-testid="approval-diff">
        {body.lines.map((line, index) => (
          <span key={index} className={`diff-${line.kind}`}>
            {line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  '}
            {line.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}

function isTyping(element: Element | null): boolean {
  if (!(element instanceof HTMLElement)) return false;
  if (element.isContentEditable) return true;
  if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) return element.value !== '';
  return element instanceof HTMLSelectElement;
}

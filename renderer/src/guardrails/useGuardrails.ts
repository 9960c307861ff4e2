/**
 * A session's guardrails as the main process answers `sessions-guardrails` (policies with their
 * effective defaults, rules, budget, what was spent, the calls waiting), fetched again whenever an
 * event that can change them arrives. Every change goes through an RPC that answers with the new
 * view, so `apply` shows it at once.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EventType } from '#shared/events';
import type { GuardrailsView } from '#shared/guardrails';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';

const REFRESH_ON: ReadonlySet<EventType> = new Set<EventType>([
  'session.status_idle',
  'session.status_running',
  'session.budget_set',
  'session.usage',
  'user.tool_confirmation',
  'policy.set',
  'policy.rule_added',
  'policy.rule_removed',
  'hand.attached',
  'hand.detached',
  'span.model_request_end',
]);

export interface GuardrailsState {
  view: GuardrailsView | null;
  /** Why the last fetch failed (shown where the view would be). */
  error: string | null;
  /** Shows the view an RPC answered with (newer than any fetch under way). */
  apply: (view: GuardrailsView) => void;
}

export function useGuardrails(transport: Transport, sessionId: string): GuardrailsState {
  const [view, setView] = useState<GuardrailsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const request = useRef(0);

  // setState only in the answer's callbacks; a slower, older answer never overwrites a newer view.
  useEffect(() => {
    const load = (): void => {
      const mine = ++request.current;
      transport.call('sessions-guardrails', { sessionId }).then(
        (next) => {
          if (mine !== request.current) return;
          setView(next);
          setError(null);
        },
        (reason: unknown) => {
          if (mine === request.current) setError(messageOf(reason));
        },
      );
    };
    load();
    const off = transport.on('session-event', ({ sessionId: from, event }) => {
      if (from === sessionId && REFRESH_ON.has(event.type)) load();
    });
    return off;
  }, [transport, sessionId]);

  const apply = useCallback((next: GuardrailsView) => {
    request.current++;
    setView(next);
    setError(null);
  }, []);

  return { view, error, apply };
}

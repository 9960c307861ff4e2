/**
 * The budget in the session header (a cost meter against the cap: "$0.42 / $25.00" and a bar) and,
 * when the session stopped at its budget, a bar to raise or remove the cap (`sessions-set-budget`;
 * a cap at or below what is spent is refused by the main process, and its words are shown).
 */
import { useState } from 'react';
import type { GuardrailsView } from '#shared/guardrails';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { dollarsOf, meterOf, parseBudgetDollars, withCostCap } from './budget-model.ts';
import './guardrails.css';

export function BudgetMeter({ view }: { view: GuardrailsView | null }) {
  // Without a budget the header's cost says it all.
  if (view === null || view.budget === null) return null;
  const meter = meterOf(view.spent, view.budget);
  return (
    <div
      className={`budget-meter budget-${meter.tone}`}
      data-testid="budget-meter"
      title="List cost of this session’s model requests against its budget"
    >
      <span>Budget {meter.label}</span>
      {meter.fraction !== null && (
        <div
          className="budget-bar"
          role="meter"
          aria-label="Budget used"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(meter.fraction * 100)}
        >
          <div className="budget-fill" style={{ width: `${meter.fraction * 100}%` }} />
        </div>
      )}
    </div>
  );
}

export interface BudgetReachedProps {
  transport: Transport;
  sessionId: string;
  view: GuardrailsView | null;
  onView: (view: GuardrailsView) => void;
}

/** Shown while the session is stopped at its budget. */
export function BudgetReached({ transport, sessionId, view, onView }: BudgetReachedProps) {
  const current = view?.budget ?? null;
  const [text, setText] = useState(() => {
    const dollars = Number(dollarsOf(current));
    return dollars > 0 ? (dollars * 2).toFixed(2) : '';
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save(budgetText: string | null): Promise<void> {
    const parsed = budgetText === null ? ({ ok: true, budget: null } as const) : parseBudgetDollars(budgetText);
    if (!parsed.ok) {
      setError(parsed.problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onView(
        await transport.call('sessions-set-budget', {
          sessionId,
          budget: budgetText === null ? null : withCostCap(current, parsed.budget),
        }),
      );
    } catch (reason) {
      setError(`${messageOf(reason)} Give a higher cap, or remove it.`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="budget-reached-bar"
      role="region"
      aria-label="Budget reached"
      data-testid="budget-reached"
      onSubmit={(event) => {
        event.preventDefault();
        void save(text);
      }}
    >
      <strong>Budget reached.</strong>
      <span>
        {view === null
          ? 'Claude stopped before its next request.'
          : `Claude stopped before its next request: ${meterOf(view.spent, view.budget).label}.`}
      </span>
      <label>
        New cap ${' '}
        <input
          className="input"
          value={text}
          onChange={(event) => setText(event.target.value)}
          aria-label="New budget in US dollars"
          inputMode="decimal"
        />
      </label>
      <button type="submit" className="button button-primary" disabled={busy}>
        Raise cap and continue
      </button>
      <button type="button" className="button" disabled={busy} onClick={() => void save(null)}>
        Remove cap
      </button>
      {error !== null && (
        <span className="notice notice-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

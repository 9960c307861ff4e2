/**
 * Budgets as the user types and sees them (pure, tested in node): dollars in a field ↔ the
 * `{type: 'limit', max_list_cost: {amount: cents}}` budget, and the meter's numbers.
 */
import type { Budget, Spent } from '#shared/guardrails';
import { formatCost } from '#renderer/ui/format.ts';

/** "$0.42" from cents (fractional cents are rounded to the cent shown). */
export function formatCents(cents: number): string {
  return `$${(Math.round(cents) / 100).toFixed(2)}`;
}

/** The field's text for a budget's cost cap ("25.00"), or '' without one. */
export function dollarsOf(budget: Budget | null): string {
  const amount = budget?.max_list_cost?.amount;
  return amount === undefined ? '' : (Number(amount) / 100).toFixed(2);
}

export type BudgetParse = { ok: true; budget: Budget | null } | { ok: false; problem: string };

/** A cost cap from a dollar amount the user typed ("25", "$0.50"); '' means no budget. */
export function parseBudgetDollars(text: string): BudgetParse {
  const trimmed = text.trim().replace(/^\$/, '').replaceAll(',', '');
  if (trimmed === '') return { ok: true, budget: null };
  if (!/^\d{1,10}(\.\d{0,2})?$/.test(trimmed))
    return { ok: false, problem: 'Give the budget in US dollars, like 25 or 0.50 (at most two decimals), or leave it empty for none.' };
  const cents = Math.round(Number(trimmed) * 100);
  if (cents < 1) return { ok: false, problem: 'A budget is at least $0.01; leave it empty for none.' };
  return { ok: true, budget: { type: 'limit', max_list_cost: { amount: String(cents), currency: 'USD' } } };
}

/** A budget with its cost cap replaced (token and time caps kept); null when nothing is left. */
export function withCostCap(budget: Budget | null, cap: Budget | null): Budget | null {
  const rest =
    budget === null
      ? {}
      : {
          ...(budget.max_tokens !== undefined ? { max_tokens: budget.max_tokens } : {}),
          ...(budget.max_wall_seconds !== undefined ? { max_wall_seconds: budget.max_wall_seconds } : {}),
        };
  const cost = cap?.max_list_cost;
  if (cost === undefined && Object.keys(rest).length === 0) return null;
  return { type: 'limit', ...rest, ...(cost !== undefined ? { max_list_cost: cost } : {}) };
}

export interface Meter {
  /** "$0.42 / $25.00", or "$0.42 spent" without a cost cap. */
  label: string;
  /** 0..1 of the cap, null without one. */
  fraction: number | null;
  tone: 'ok' | 'near' | 'reached';
}

export function meterOf(spent: Spent, budget: Budget | null): Meter {
  const capText = budget?.max_list_cost?.amount;
  const spentText = formatCost(spent.list_cost_cents / 100);
  if (capText === undefined) return { label: `${spentText} spent`, fraction: null, tone: 'ok' };
  const cap = Number(capText);
  const fraction = Math.min(1, spent.list_cost_cents / cap);
  return {
    label: `${spentText} / ${formatCents(cap)}`,
    fraction,
    tone: spent.list_cost_cents >= cap ? 'reached' : fraction >= 0.8 ? 'near' : 'ok',
  };
}

/**
 * Budgets: what a session has spent against its caps, as Managed Agents counts it — list cost in
 * US cents from the price table in harness/models.ts (the same estimate the sessions list shows),
 * every model request counted, grader and compaction calls included. Drover adds optional caps on
 * tokens (input, output, cache reads and cache writes summed) and on wall time (time spent running).
 *
 * A cap is reached when what is spent is at or over it: then no model request starts (the one
 * running when it was crossed finishes and counts). A new cap must be above what is already spent.
 * Pure: no I/O, no clock (callers pass the elapsed time).
 */
import { AppError } from '#shared/errors';
import type { EventOf, StoredEvent } from '#shared/events';
import type { Budget, Spent } from '#shared/guardrails';
import { usageTotals } from '#services/harness/models';

/** The figures a budget is checked against. */
export type BudgetTotals = Pick<
  Spent,
  'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens' | 'list_cost_cents'
>;

export type BudgetCap = 'list_cost' | 'tokens' | 'wall_time';

/** Why a session stops for its budget: which cap, and the words the idle event and the UI carry. */
export interface BudgetStop {
  cap: BudgetCap;
  message: string;
}

/** List cost in US cents of one model request, and whether its model has a known price. */
export function requestCostCents(end: EventOf<'span.model_request_end'>): { cents: number; priced: boolean } {
  const totals = usageTotals([end]);
  return { cents: totals.cost_usd * 100, priced: totals.unpriced_models.length === 0 };
}

/** Whether Drover knows `model`'s list price (a cost cap cannot see the spending of one it does not). */
export function hasListPrice(model: string): boolean {
  const probe: StoredEvent = {
    seq: 1,
    id: '00000000-0000-4000-8000-000000000000',
    ts: new Date(0).toISOString(),
    type: 'span.model_request_end',
    payload: {
      model,
      purpose: 'turn',
      usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      stop_reason: null,
      is_error: false,
      duration_ms: 0,
    },
  };
  return usageTotals([probe]).unpriced_models.length === 0;
}

export function totalTokens(totals: BudgetTotals): number {
  return totals.input_tokens + totals.output_tokens + totals.cache_read_input_tokens + totals.cache_creation_input_tokens;
}

/** The cost cap in cents, or null when the budget has none. */
export function costCapCents(budget: Budget): number | null {
  return budget.max_list_cost === undefined ? null : Number(budget.max_list_cost.amount);
}

/** US cents as dollars: `$25.00`; below a dollar with four decimals so a fraction of a cent shows (`$0.0042`). */
export function formatCents(cents: number): string {
  return `$${(cents / 100).toFixed(cents < 100 ? 4 : 2)}`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.floor(seconds)} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const tokenFormat = new Intl.NumberFormat('en-US');

/** The caps of `budget` with what is spent against each. */
function measures(budget: Budget, totals: BudgetTotals, wallMs: number): { cap: BudgetCap; spent: number; limit: number; words: string }[] {
  const list: { cap: BudgetCap; spent: number; limit: number; words: string }[] = [];
  const cents = costCapCents(budget);
  if (cents !== null) {
    list.push({
      cap: 'list_cost',
      spent: totals.list_cost_cents,
      limit: cents,
      words: `${formatCents(totals.list_cost_cents)} of its ${formatCents(cents)} cost cap`,
    });
  }
  if (budget.max_tokens !== undefined) {
    const tokens = totalTokens(totals);
    list.push({
      cap: 'tokens',
      spent: tokens,
      limit: budget.max_tokens,
      words: `${tokenFormat.format(tokens)} of its ${tokenFormat.format(budget.max_tokens)} token cap`,
    });
  }
  if (budget.max_wall_seconds !== undefined) {
    const seconds = wallMs / 1000;
    list.push({
      cap: 'wall_time',
      spent: seconds,
      limit: budget.max_wall_seconds,
      words: `${formatSeconds(seconds)} of its ${formatSeconds(budget.max_wall_seconds)} time cap`,
    });
  }
  return list;
}

/** The first cap `totals` (and `wallMs` of running) reached, or null while the session may go on. */
export function budgetReached(budget: Budget | null, totals: BudgetTotals, wallMs: number): BudgetStop | null {
  if (budget === null) return null;
  const reached = measures(budget, totals, wallMs).find((measure) => measure.spent >= measure.limit);
  if (reached === undefined) return null;
  return {
    cap: reached.cap,
    message: `The session reached its budget: it has used ${reached.words}. Raise or remove the budget to let it continue.`,
  };
}

/**
 * Refuses a new budget with a cap at or below what is already spent (it would stop the session at
 * once, and a cap cannot undo spending): the error says what was spent and what to do. Null: fine.
 */
export function checkBudgetChange(budget: Budget | null, totals: BudgetTotals, wallMs: number): AppError | null {
  if (budget === null) return null;
  const under = measures(budget, totals, wallMs).filter((measure) => measure.limit <= measure.spent);
  if (under.length === 0) return null;
  return new AppError(
    'invalid-argument',
    `That budget is not above what this session has already spent: it has used ${under
      .map((measure) => measure.words.replace(' of its ', ' against the new '))
      .join(', and ')}. Set each cap above what is spent, or remove the cap.`,
  );
}

/**
 * Why a cost cap cannot hold a request to `model` (Drover does not know its price, so its spending
 * would not count), or null. The wiring checks this before a request so a cap is never silently blind.
 */
export function costCapProblem(budget: Budget | null, model: string): string | null {
  if (budget === null || costCapCents(budget) === null || hasListPrice(model)) return null;
  return `Drover does not know the list price of ${model}, so the session's cost cap cannot count what it spends. Choose a priced model, or replace the cost cap with a token cap.`;
}

import { describe, expect, it } from 'vitest';
import type { EventOf } from '#shared/events';
import { BudgetSchema, type Budget } from '#shared/guardrails';
import { usageTotals } from '#services/harness/models';
import { storedEvents } from '#test/support/event-log';
import {
  budgetReached,
  checkBudgetChange,
  costCapProblem,
  formatCents,
  hasListPrice,
  requestCostCents,
  totalTokens,
  type BudgetTotals,
} from './budget.ts';

const end = (
  model: string,
  usage: Partial<Record<'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens', number>>,
  purpose: 'turn' | 'grading' = 'turn',
) =>
  storedEvents({
    type: 'span.model_request_end',
    payload: {
      model,
      purpose,
      usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, ...usage },
      stop_reason: 'end_turn',
      is_error: false,
      duration_ms: 1,
    },
  })[0] as EventOf<'span.model_request_end'>;

const zero: BudgetTotals = {
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  list_cost_cents: 0,
};
const cents = (amount: string): Budget => BudgetSchema.parse({ type: 'limit', max_list_cost: { amount, currency: 'USD' } });

describe('requestCostCents', () => {
  it('prices a request from the price table the sessions list uses', () => {
    // claude-sonnet-5-5: $2 / $10 per million input / output tokens.
    expect(requestCostCents(end('claude-sonnet-5-5', { output_tokens: 1000 })).cents).toBeCloseTo(1, 10);
    expect(requestCostCents(end('claude-sonnet-5-5', { input_tokens: 1_000_000 })).cents).toBeCloseTo(200, 10);
    const mixed = end('claude-haiku-4-5-20251001', {
      input_tokens: 1234,
      output_tokens: 567,
      cache_read_input_tokens: 8900,
      cache_creation_input_tokens: 4321,
    });
    expect(requestCostCents(mixed)).toEqual({ cents: usageTotals([mixed]).cost_usd * 100, priced: true });
  });

  it('says when a model has no known price (its cost is not guessed)', () => {
    expect(requestCostCents(end('someone-elses-model', { output_tokens: 1_000_000 }))).toEqual({ cents: 0, priced: false });
    expect(hasListPrice('claude-sonnet-5-5')).toBe(true);
    expect(hasListPrice('someone-elses-model')).toBe(false);
  });
});

describe('budgetReached', () => {
  it('is never reached without a budget', () => {
    expect(budgetReached(null, { ...zero, list_cost_cents: 1e9 }, 1e12)).toBeNull();
  });

  it('stops at or over the cost cap, not below it', () => {
    expect(budgetReached(cents('1'), { ...zero, list_cost_cents: 0.999 }, 0)).toBeNull();
    expect(budgetReached(cents('1'), { ...zero, list_cost_cents: 1 }, 0)).toMatchObject({ cap: 'list_cost' });
    const over = budgetReached(cents('2500'), { ...zero, list_cost_cents: 2612.5 }, 0);
    expect(over).toEqual({
      cap: 'list_cost',
      message: 'The session reached its budget: it has used $26.13 of its $25.00 cost cap. Raise or remove the budget to let it continue.',
    });
  });

  it('counts all four kinds of tokens against a token cap', () => {
    const budget = BudgetSchema.parse({ type: 'limit', max_tokens: 100 });
    expect(
      budgetReached(
        budget,
        { ...zero, input_tokens: 40, output_tokens: 30, cache_read_input_tokens: 20, cache_creation_input_tokens: 9 },
        0,
      ),
    ).toBeNull();
    expect(
      budgetReached(
        budget,
        { ...zero, input_tokens: 40, output_tokens: 30, cache_read_input_tokens: 20, cache_creation_input_tokens: 10 },
        0,
      ),
    ).toMatchObject({ cap: 'tokens' });
    expect(totalTokens({ ...zero, input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 })).toBe(
      10,
    );
  });

  it('stops when the running time reaches the time cap', () => {
    const budget = BudgetSchema.parse({ type: 'limit', max_wall_seconds: 60 });
    expect(budgetReached(budget, zero, 59_999)).toBeNull();
    expect(budgetReached(budget, zero, 60_000)?.message).toContain('60 s of its 60 s time cap');
  });

  it('names the first cap reached when several are', () => {
    const budget = BudgetSchema.parse({
      type: 'limit',
      max_list_cost: { amount: '100', currency: 'USD' },
      max_tokens: 10,
      max_wall_seconds: 1,
    });
    expect(budgetReached(budget, { ...zero, input_tokens: 10 }, 5000)).toMatchObject({ cap: 'tokens' });
    expect(budgetReached(budget, { ...zero, input_tokens: 1 }, 0)).toBeNull();
  });
});

describe('checkBudgetChange', () => {
  it('accepts removing the budget, or caps above what is spent', () => {
    expect(checkBudgetChange(null, { ...zero, list_cost_cents: 5000 }, 0)).toBeNull();
    expect(checkBudgetChange(cents('51'), { ...zero, list_cost_cents: 50.5 }, 0)).toBeNull();
  });

  it('refuses a cap at or below what is already spent, saying what was spent', () => {
    const error = checkBudgetChange(cents('50'), { ...zero, list_cost_cents: 50.5 }, 0);
    expect(error?.code).toBe('invalid-argument');
    expect(error?.message).toBe(
      'That budget is not above what this session has already spent: it has used $0.5050 against the new $0.5000 cost cap. Set each cap above what is spent, or remove the cap.',
    );
    expect(
      checkBudgetChange(BudgetSchema.parse({ type: 'limit', max_tokens: 100 }), { ...zero, output_tokens: 100 }, 0)?.message,
    ).toContain('100 against the new 100 token cap');
    expect(
      checkBudgetChange(BudgetSchema.parse({ type: 'limit', max_wall_seconds: 30, max_tokens: 5 }), { ...zero, output_tokens: 6 }, 45_000)
        ?.message,
    ).toContain(', and 45 s against the new 30 s time cap');
  });
});

describe('costCapProblem', () => {
  it('flags a cost cap that cannot see a model’s spending', () => {
    expect(costCapProblem(cents('100'), 'claude-sonnet-5-5')).toBeNull();
    expect(costCapProblem(null, 'someone-elses-model')).toBeNull();
    expect(costCapProblem(BudgetSchema.parse({ type: 'limit', max_tokens: 5 }), 'someone-elses-model')).toBeNull();
    expect(costCapProblem(cents('100'), 'someone-elses-model')).toContain('does not know the list price of someone-elses-model');
  });
});

describe('BudgetSchema', () => {
  it('takes Managed Agents’ shape: whole cents as a string, in USD', () => {
    expect(BudgetSchema.safeParse({ type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' } }).success).toBe(true);
    for (const amount of ['0', '-1', '1.5', '25.00', '', '0100', '1e3', '9999999999999']) {
      expect(BudgetSchema.safeParse({ type: 'limit', max_list_cost: { amount, currency: 'USD' } }).success, amount).toBe(false);
    }
    expect(BudgetSchema.safeParse({ type: 'limit', max_list_cost: { amount: 2500, currency: 'USD' } }).success).toBe(false);
    expect(BudgetSchema.safeParse({ type: 'limit', max_list_cost: { amount: '2500', currency: 'EUR' } }).success).toBe(false);
  });

  it('needs at least one cap, and nothing else', () => {
    expect(BudgetSchema.safeParse({ type: 'limit' }).success).toBe(false);
    expect(BudgetSchema.safeParse({ type: 'limit', max_tokens: 0 }).success).toBe(false);
    expect(BudgetSchema.safeParse({ type: 'limit', max_wall_seconds: 1.5 }).success).toBe(false);
    expect(BudgetSchema.safeParse({ type: 'limit', max_tokens: 5, extra: 1 }).success).toBe(false);
  });
});

describe('formatCents', () => {
  it('shows dollars, with fractions of a cent below a dollar', () => {
    expect(formatCents(2500)).toBe('$25.00');
    expect(formatCents(0.42)).toBe('$0.0042');
  });
});

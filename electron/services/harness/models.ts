/**
 * What Drover knows about models without asking the API: default settings, context windows and
 * prices (for cost estimates). The model list itself comes from the Models API when reachable.
 *
 * Prices are only listed where they are known; a model missing here is reported as unpriced,
 * never guessed.
 */
import type { SessionSettings, StoredEvent } from '#shared/events';
import type { ModelInfo, SessionUsage } from '#shared/harness';

// claude-sonnet-4-5 reaches end of life on 2026-11-30 (the SDK warns on every request naming it).
export const FALLBACK_MODEL = 'claude-sonnet-5-5';

export const DEFAULT_SETTINGS: SessionSettings = {
  model: FALLBACK_MODEL,
  max_tokens: 16_384,
  system: '',
  thinking_budget: null,
  context_budget: null,
};

/** Shown when the Models API cannot be reached (no key yet, offline). Newest first. */
export const FALLBACK_MODELS: readonly ModelInfo[] = [
  { id: 'claude-sonnet-5-5', displayName: 'Claude Sonnet 5.5' },
  { id: 'claude-opus-5-5', displayName: 'Claude Opus 5.5' },
  { id: 'claude-haiku-4-5', displayName: 'Claude Haiku 4.5' },
];

/**
 * Models that take extended thinking with a token budget (`thinking.type = 'enabled'`). Newer
 * models think adaptively: a budget is deprecated on the 4.6 generation and refused (400) from
 * Sonnet 5 on, so for them "thinking on" means `{type: 'adaptive'}`.
 */
const BUDGETED_THINKING = /^claude-(3-.+|(opus|sonnet|haiku)-4(-[015])?)$/;

/** The 5th generation (and Fable, Mythos) has a 1M-token window; earlier models 200k. */
const MILLION_WINDOW = /^claude-((opus|sonnet|haiku)-5|fable|mythos)/;

export function usesBudgetedThinking(model: string): boolean {
  return BUDGETED_THINKING.test(baseModel(model));
}

/** The model id without a date or `-latest` suffix (claude-haiku-4-5-20251001 → claude-haiku-4-5). */
function baseModel(model: string): string {
  return model.replace(/-(\d{8}|latest)$/, '');
}

function contextWindow(model: string): number {
  return MILLION_WINDOW.test(model) ? 1_000_000 : 200_000;
}

/**
 * Input tokens a request may use: the window minus the reply's room, with 10 % slack because the
 * builder estimates tokens from characters.
 */
export function contextBudget(settings: SessionSettings): number {
  if (settings.context_budget !== null) return settings.context_budget;
  return Math.floor((contextWindow(settings.model) - settings.max_tokens) * 0.9);
}

/** The model the launch form preselects: the newest Sonnet the API lists, else the first listed. */
export function pickDefaultModel(models: readonly ModelInfo[]): string {
  return models.find((model) => model.id.includes('sonnet'))?.id ?? models[0]?.id ?? FALLBACK_MODEL;
}

/** USD per million tokens (Anthropic's list prices). Cache writes cost 1.25× input (5-minute cache), cache reads 0.1×. */
const PRICES: Readonly<Record<string, { input: number; output: number }>> = {
  'claude-fable-5-1': { input: 10, output: 50 },
  'claude-opus-5-5': { input: 4, output: 20 },
  'claude-opus-5': { input: 5, output: 25 },
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4-0': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4-0': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
};

function priceOf(model: string): { input: number; output: number } | undefined {
  return PRICES[baseModel(model)];
}

/** Token totals and estimated cost over every model request in `events`. */
export function usageTotals(events: Iterable<StoredEvent>): SessionUsage {
  const totals: SessionUsage = {
    requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    cost_usd: 0,
    unpriced_models: [],
  };
  const unpriced = new Set<string>();
  for (const event of events) {
    if (event.type !== 'span.model_request_end') continue;
    const { usage, model } = event.payload;
    totals.requests++;
    totals.input_tokens += usage.input_tokens;
    totals.output_tokens += usage.output_tokens;
    totals.cache_read_input_tokens += usage.cache_read_input_tokens;
    totals.cache_creation_input_tokens += usage.cache_creation_input_tokens;
    const price = priceOf(model);
    if (price === undefined) {
      unpriced.add(model);
      continue;
    }
    totals.cost_usd +=
      (usage.input_tokens * price.input +
        usage.cache_creation_input_tokens * price.input * 1.25 +
        usage.cache_read_input_tokens * price.input * 0.1 +
        usage.output_tokens * price.output) /
      1_000_000;
  }
  totals.unpriced_models = [...unpriced].sort();
  return totals;
}

/**
 * What Drover knows about models without asking the API: default settings, context windows and
 * prices (for cost estimates). The model list itself comes from the Models API when reachable.
 *
 * Prices are only listed where they are known; a model missing here is reported as unpriced,
 * never guessed.
 */
import type { SessionSettings, StoredEvent } from '#shared/events';
import type { ModelInfo, SessionUsage } from '#shared/harness';

export const FALLBACK_MODEL = 'claude-sonnet-4-5';

export const DEFAULT_SETTINGS: SessionSettings = {
  model: FALLBACK_MODEL,
  max_tokens: 8192,
  system: '',
  thinking_budget: null,
  context_budget: null,
};

/** Shown when the Models API cannot be reached (no key yet, offline). Newest first. */
export const FALLBACK_MODELS: readonly ModelInfo[] = [
  { id: 'claude-sonnet-4-5', displayName: 'Claude Sonnet 4.5' },
  { id: 'claude-opus-4-5', displayName: 'Claude Opus 4.5' },
  { id: 'claude-haiku-4-5', displayName: 'Claude Haiku 4.5' },
];

/** Every current Claude model has a 200k-token window (1M variants need a beta header we do not send). */
const CONTEXT_WINDOW = 200_000;

/**
 * Input tokens a request may use: the window minus the reply's room, with 10 % slack because the
 * builder estimates tokens from characters.
 */
export function contextBudget(settings: SessionSettings): number {
  if (settings.context_budget !== null) return settings.context_budget;
  return Math.floor((CONTEXT_WINDOW - settings.max_tokens) * 0.9);
}

/** The model the launch form preselects: the newest Sonnet the API lists, else the first listed. */
export function pickDefaultModel(models: readonly ModelInfo[]): string {
  return models.find((model) => model.id.includes('sonnet'))?.id ?? models[0]?.id ?? FALLBACK_MODEL;
}

/** USD per million tokens. Cache writes cost 1.25× input (5-minute cache), cache reads 0.1×. */
const PRICES: Readonly<Record<string, { input: number; output: number }>> = {
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
  const base = model.replace(/-(\d{8}|latest)$/, '');
  return PRICES[base];
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

/**
 * The launch dialog's form as plain data: the draft the user types, the `sessions-launch` argument
 * built from it (with the problems found before asking the main process), where the main
 * process's refusals land. No DOM and no React, so it is tested in node; LaunchDialog.tsx renders
 * it. Its parts live with their features: the Docker hand draft in hands/docker/docker-draft.ts,
 * the outcome draft in outcome/outcome-draft.ts; the remembered defaults in remembered.ts.
 */
import { SETTINGS_LIMITS, describeIssues, type OutcomeDefinitionInput } from '#shared/events';
import type { ModelList } from '#shared/harness';
import { MAX_LAUNCH_HANDS, rpcMethods, type RpcArg } from '#shared/rpc';
import { MAX_TITLE_CHARS } from '#shared/sessions';
import {
  DOCKER_FIELDS,
  EMPTY_DOCKER_DRAFT,
  HAND_FIELD_PATHS,
  dockerConfigOf,
  dockerDraftProblems,
  handNameProblems,
  nextFreeName,
  type DockerFieldName,
  type DockerFieldProblems,
  type DockerHandDraft,
  type HandFieldName,
} from '#renderer/hands/index.ts';
import type { PermissionPolicy } from '#shared/guardrails';
import type { HandConfig } from '#shared/hands';
import type { HandLibraryItem } from '#shared/hand-library';
import { parseBudgetDollars } from '#renderer/guardrails/index.ts';
import {
  EMPTY_OUTCOME_DRAFT,
  OUTCOME_FIELD_KEYS,
  buildOutcome,
  type OutcomeDraft,
  type OutcomeHandChoice,
} from '#renderer/outcome/index.ts';
import { placeIssues, wholeNumber, type FormProblems } from '#renderer/ui/problems.ts';
import { presetById, type PresetId } from './presets.ts';
import type { RememberedLaunch } from './remembered.ts';

/** The argument of `sessions-launch`. */
export type LaunchRequest = RpcArg<'sessions-launch'>;

/** The launch schema's limits (shared/rpc.ts, shared/events.ts, shared/sessions.ts), said before asking. */
export const MAX_HANDS = MAX_LAUNCH_HANDS;
const MAX_TOKENS_LIMIT = SETTINGS_LIMITS.maxTokens;
const MIN_THINKING_BUDGET = SETTINGS_LIMITS.minThinkingBudget;

// ------------------------------------------------------------------------------ the form

/** A hand row of the dialog; `key` only identifies the row on screen. */
export interface HandDraft extends DockerHandDraft {
  key: string;
  name: string;
}

/**
 * A hand from the hand library (Settings → Hands library): a Docker preset, a machine or an MCP
 * server, attached at launch exactly as saved; only its name in the session can change.
 */
export interface SavedHandDraft {
  key: string;
  name: string;
  /** The library entry's label and id, shown on the row. */
  label: string;
  libraryId: string;
  config: HandConfig;
}

export interface LaunchForm {
  title: string;
  /** Empty: the main process's default model. */
  model: string;
  presetId: PresetId;
  system: string;
  /** The last text the user typed as a system prompt, given back when "Custom" is chosen again. */
  customSystem: string;
  hands: HandDraft[];
  /** Hands from the library, after the Docker rows (their indexes in the request follow theirs). */
  saved: SavedHandDraft[];
  /** As typed; empty: the main process's default. */
  maxTokens: string;
  thinking: boolean;
  thinkingBudget: string;
  /** Off: no outcome is sent (what was typed in it is kept, not checked). */
  outcomeOn: boolean;
  outcome: OutcomeDraft;
  message: string;
  /** The session's budget in US dollars, as typed; empty: the default budget for new sessions. */
  budget: string;
  /** A policy per hand row key; absent: the hand's default (containers always allow). */
  handPolicies: Record<string, PermissionPolicy>;
}

let handKeys = 0;

function handDraft(name: string, config: DockerHandDraft): HandDraft {
  handKeys += 1;
  return { key: `hand-${handKeys}`, name, ...config };
}

/** An empty form with the remembered model, preset and hands. */
export function initialForm(remembered: RememberedLaunch): LaunchForm {
  const presetId = remembered.presetId ?? 'none';
  return {
    title: '',
    model: remembered.model ?? '',
    presetId,
    system: presetById(presetId).prompt,
    customSystem: '',
    hands: (remembered.hands ?? []).map(({ name, ...config }) => handDraft(name, config)),
    saved: [],
    maxTokens: '',
    thinking: false,
    thinkingBudget: '4096',
    outcomeOn: false,
    outcome: { ...EMPTY_OUTCOME_DRAFT },
    message: '',
    budget: '',
    handPolicies: {},
  };
}

/** The model to preselect: the draft's or remembered one when the list has it, else the list's default. */
export function pickModel(list: ModelList, preferred: string): string {
  return list.models.some((model) => model.id === preferred) ? preferred : list.defaultModel;
}

/** Chooses a preset: its text replaces the prompt; "Custom" gives back what the user last typed. */
export function choosePreset(form: LaunchForm, presetId: PresetId): LaunchForm {
  if (presetId === 'custom') return { ...form, presetId, system: form.customSystem !== '' ? form.customSystem : form.system };
  return { ...form, presetId, system: presetById(presetId).prompt };
}

/** The user edited the prompt: it is theirs now ("Custom"). */
export function editSystem(form: LaunchForm, system: string): LaunchForm {
  return { ...form, presetId: 'custom', system, customSystem: system };
}

/** Every hand row of the form, Docker rows first then the library's: the order of the request's `hands`. */
export function handRows(form: LaunchForm): ReadonlyArray<{ key: string; name: string; defaultPolicy?: PermissionPolicy }> {
  return [...form.hands, ...form.saved.map((hand) => ({ key: hand.key, name: hand.name, defaultPolicy: defaultPolicyOf(hand.config) }))];
}

/** Issue 18's defaults: containers always allow; machines ask; MCP servers ask unless trusted. */
function defaultPolicyOf(config: HandConfig): PermissionPolicy {
  return config.kind === 'docker' || (config.kind === 'mcp' && config.trusted === true) ? 'always_allow' : 'always_ask';
}

/** Adds a Docker hand with the next free name (none past MAX_HANDS). */
export function addHand(form: LaunchForm): LaunchForm {
  if (handRows(form).length >= MAX_HANDS) return form;
  const name = nextFreeName(handRows(form).map((hand) => hand.name));
  return { ...form, hands: [...form.hands, handDraft(name, EMPTY_DOCKER_DRAFT)] };
}

/** Adds a hand from the library under its saved name, or that name and "-2", "-3"… when the name is taken (none past MAX_HANDS). */
export function addSavedHand(form: LaunchForm, item: HandLibraryItem): LaunchForm {
  if (handRows(form).length >= MAX_HANDS) return form;
  const taken = new Set(handRows(form).map((hand) => hand.name.trim()));
  let name = item.hand.name;
  for (let n = 2; taken.has(name); n++) name = `${item.hand.name.slice(0, 29)}-${n}`;
  handKeys += 1;
  const row: SavedHandDraft = { key: `hand-${handKeys}`, name, label: item.label, libraryId: item.id, config: item.hand.config };
  return { ...form, saved: [...form.saved, row] };
}

// ------------------------------------------------------------------------------ fields and problems

/**
 * Where a problem is shown: the path of the field in the `sessions-launch` argument, the same
 * path the main process names in its `issues`.
 */
export const FIELD = {
  title: 'title',
  model: 'settings.model',
  system: 'settings.system',
  maxTokens: 'settings.max_tokens',
  thinkingBudget: 'settings.thinking_budget',
  message: 'message',
  hands: 'hands',
  budget: 'budget',
} as const;

/** The field key of one field of the hand at `index` (`row`: the hand as a whole). */
export function handField(index: number, field: HandFieldName): string {
  return `hands.${index}${HAND_FIELD_PATHS[field]}`;
}

/** The problems of the hand at `index` among a form's problems, by field of its Docker draft. */
export function handProblems(fields: Readonly<Record<string, string>>, index: number): DockerFieldProblems {
  const problems: DockerFieldProblems = {};
  for (const field of DOCKER_FIELDS) {
    const text = fields[handField(index, field)];
    if (text !== undefined) problems[field] = text;
  }
  return problems;
}

/** Every place in this form a problem can be shown. */
export function fieldKeysOf(form: LaunchForm): ReadonlySet<string> {
  const keys = new Set<string>([...Object.values(FIELD), ...OUTCOME_FIELD_KEYS]);
  form.hands.forEach((_, index) => {
    for (const field of Object.keys(HAND_FIELD_PATHS) as HandFieldName[]) keys.add(handField(index, field));
  });
  form.saved.forEach((_, index) => {
    keys.add(handField(form.hands.length + index, 'row'));
    keys.add(handField(form.hands.length + index, 'name'));
  });
  return keys;
}

/** Problems by field key (one each), and those that belong to no field (shown above the form). */
export type LaunchProblems = FormProblems;

export type LaunchBuild = { ok: true; request: LaunchRequest } | { ok: false; problems: LaunchProblems };

/**
 * The `sessions-launch` argument for this form, or what must change first. Checks the obvious
 * things in the user's words, then the real schema for the rest (an image like "Debian
 * Bookworm", a relative container path…); the main process checks everything again.
 */
export function buildLaunchRequest(form: LaunchForm): LaunchBuild {
  const fields: Record<string, string> = {};

  const title = form.title.trim();
  if (title === '') fields[FIELD.title] = 'Give the session a name.';
  else if (title.length > MAX_TITLE_CHARS)
    fields[FIELD.title] = `A name is at most ${MAX_TITLE_CHARS} characters (this one has ${title.length}).`;

  const settings: NonNullable<LaunchRequest['settings']> = {};
  if (form.model.trim() !== '') settings.model = form.model.trim();
  if (form.system.trim() !== '') settings.system = form.system.trim();
  const maxTokens = wholeNumber(form.maxTokens);
  if (form.maxTokens.trim() !== '') {
    if (maxTokens === null || maxTokens < 1 || maxTokens > MAX_TOKENS_LIMIT) {
      fields[FIELD.maxTokens] = 'Max tokens is a whole number from 1 to 128,000; leave it empty for the default.';
    } else {
      settings.max_tokens = maxTokens;
    }
  }
  if (form.thinking) {
    const budget = wholeNumber(form.thinkingBudget);
    if (budget === null || budget < MIN_THINKING_BUDGET) {
      fields[FIELD.thinkingBudget] = 'A thinking budget is a whole number of at least 1,024 tokens.';
    } else if (settings.max_tokens !== undefined && budget >= settings.max_tokens) {
      fields[FIELD.thinkingBudget] = `The thinking budget must be below max tokens (${settings.max_tokens.toLocaleString('en-US')}).`;
    } else {
      settings.thinking_budget = budget;
    }
  }

  const rows = handRows(form);
  if (rows.length > MAX_HANDS) fields[FIELD.hands] = `A session has at most ${MAX_HANDS} hands: remove one.`;
  const nameProblems = handNameProblems(rows.map((hand) => hand.name));
  form.hands.forEach((hand, index) => {
    const nameProblem = nameProblems[index];
    if (nameProblem) fields[handField(index, 'name')] = nameProblem;
    for (const [field, text] of Object.entries(dockerDraftProblems(hand)) as [DockerFieldName, string][])
      fields[handField(index, field)] = text;
  });
  form.saved.forEach((_, offset) => {
    const nameProblem = nameProblems[form.hands.length + offset];
    if (nameProblem) fields[handField(form.hands.length + offset, 'name')] = nameProblem;
  });

  let outcome: OutcomeDefinitionInput | undefined;
  if (form.outcomeOn) {
    const built = buildOutcome(form.outcome, launchHandChoices(form));
    if (built.ok) outcome = built.outcome;
    else Object.assign(fields, built.fields);
  }

  const budget = parseBudgetDollars(form.budget);
  if (!budget.ok) fields[FIELD.budget] = budget.problem;
  const policies = rows.flatMap((hand) => {
    const policy = form.handPolicies[hand.key];
    return policy === undefined ? [] : [{ hand: hand.name.trim(), tool: null, policy }];
  });

  const message = form.message.trim();
  const request: LaunchRequest = {
    title,
    ...(Object.keys(settings).length > 0 ? { settings } : {}),
    ...(rows.length > 0
      ? {
          hands: [
            ...form.hands.map((hand) => ({ name: hand.name.trim(), config: dockerConfigOf(hand) })),
            ...form.saved.map((hand) => ({ name: hand.name.trim(), config: hand.config })),
          ],
        }
      : {}),
    ...(outcome !== undefined ? { outcome } : {}),
    ...(message !== '' ? { message } : {}),
    ...(budget.ok && budget.budget !== null ? { budget: budget.budget } : {}),
    ...(policies.length > 0 ? { policies } : {}),
  };

  const parsed = rpcMethods['sessions-launch'].arg.safeParse(request);
  const fromSchema: LaunchProblems = parsed.success
    ? { fields: {}, general: [] }
    : placeIssues(describeIssues(parsed.error.issues), fieldKeysOf(form));
  // The checks above say it better: drop the schema's word on a field they marked, or on a field
  // holding one they marked (its "two hands have the same name" when a row says which).
  const known = Object.keys(fields);
  for (const [key, text] of Object.entries(fromSchema.fields)) {
    if (!known.some((field) => field === key || field.startsWith(`${key}.`))) fields[key] = text;
  }
  const problems: LaunchProblems = { fields, general: fromSchema.general };
  if (Object.keys(problems.fields).length > 0 || problems.general.length > 0) return { ok: false, problems };
  return { ok: true, request };
}

/** The launch's hands a verification command can run on: its rows, kept by row key. */
export function launchHandChoices(form: LaunchForm): OutcomeHandChoice[] {
  return handRows(form).map((hand) => ({ id: hand.key, name: hand.name }));
}

/** The hand policies with `key`'s set (or, null, back to its default). */
export function withPolicy(
  policies: Readonly<Record<string, PermissionPolicy>>,
  key: string,
  policy: PermissionPolicy | null,
): Record<string, PermissionPolicy> {
  const next = { ...policies };
  if (policy === null) delete next[key];
  else next[key] = policy;
  return next;
}

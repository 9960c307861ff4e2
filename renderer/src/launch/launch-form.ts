/**
 * The launch dialog's form as plain data: the draft the user types, the `sessions-launch` argument
 * built from it (with the problems found before asking the main process), where the main
 * process's refusals land, and the defaults remembered between launches. Also the Docker hand
 * draft shared with the hands panel's "Add a Docker hand" form. No DOM and no React, so it is
 * tested in node; LaunchDialog.tsx renders it.
 *
 * What is remembered (localStorage, read back as untrusted input) must never hold a secret or
 * anything the user wrote for one session: only the model, the preset and the hands — never the
 * title, the system prompt's text, an outcome or a message. A hand's repository is remembered by
 * its URL (never one with credentials in it) and its token by the vault secret's id, which is not
 * a secret. The outcome draft is shared with the session's "Outcome" dialog.
 */
import { z } from 'zod';
import type { RpcError } from '#shared/errors';
import { describeIssues, type OutcomeDefinitionInput } from '#shared/events';
import { HandNameSchema, type DockerHandConfigSchema } from '#shared/hands';
import type { ModelList } from '#shared/harness';
import { rpcMethods, type RpcArg } from '#shared/rpc';
import { SecretIdSchema, type SecretMeta } from '#shared/vault';
import { PRESET_IDS, presetById, type PresetId } from './presets.ts';

/** The argument of `sessions-launch`. */
export type LaunchRequest = RpcArg<'sessions-launch'>;

/** The launch schema's limits (shared/rpc.ts, shared/events.ts), repeated to say them before asking. */
export const MAX_HANDS = 8;
const MAX_TITLE_CHARS = 200;
const MAX_TOKENS_LIMIT = 128_000;
const MIN_THINKING_BUDGET = 1024;

// ------------------------------------------------------------------------------ Docker hand drafts

export type Network = 'bridge' | 'none';

/**
 * A Docker hand's configuration as typed: strings as they are in the fields, at most one host
 * folder and at most one git repository.
 */
export interface DockerHandDraft {
  image: string;
  network: Network;
  /** Empty with `containerPath` empty: no folder from this computer. */
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
  /** Empty: no repository (its other fields are then ignored, unless given: see `dockerDraftProblems`). */
  repoUrl: string;
  /** The vault secret (a git token) for the repository; empty: none, a public repository. */
  repoTokenId: string;
  /** Where the working tree goes in the container; empty: `defaultRepoPath(repoUrl)`. */
  repoPath: string;
  /** Empty: the repository's default branch. */
  repoBranch: string;
}

export const EMPTY_DOCKER_DRAFT: Readonly<DockerHandDraft> = {
  image: '',
  network: 'bridge',
  hostPath: '',
  containerPath: '',
  readOnly: true,
  repoUrl: '',
  repoTokenId: '',
  repoPath: '',
  repoBranch: '',
};

/** The fields of a Docker hand draft a problem can be shown under. */
export const DOCKER_FIELDS = ['image', 'network', 'hostPath', 'containerPath', 'repoUrl', 'repoTokenId', 'repoPath', 'repoBranch'] as const;
export type DockerFieldName = (typeof DOCKER_FIELDS)[number];
/** A problem per field of a Docker hand draft. */
export type DockerFieldProblems = Partial<Record<DockerFieldName, string>>;

/** Where a repository goes when no path is given. */
export const REPO_ROOT = '/workspace';

/**
 * `/workspace/<name>` for a repository URL: its last path segment without `.git`
 * (`https://github.com/team/api.git/` → `/workspace/api`); `/workspace/repo` when the URL names none.
 */
export function defaultRepoPath(url: string): string {
  let path = url.trim();
  try {
    path = new URL(path).pathname;
  } catch {
    path = path.replace(/[?#].*$/s, ''); // not a URL (yet): read it as a path
  }
  let name = path.split(/[/\\:]/).filter((part) => part !== '').at(-1) ?? '';
  try {
    name = decodeURIComponent(name);
  } catch {
    // a stray "%": keep it as written (it is replaced below)
  }
  name = name
    .replace(/\.git$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 100)
    .replace(/^[.-]+|[.-]+$/g, '');
  return `${REPO_ROOT}/${name === '' ? 'repo' : name}`;
}

/** What the RPC takes for a drafted Docker hand. The main process checks it again. */
type DockerHandConfigInput = z.input<typeof DockerHandConfigSchema>;

export function dockerConfigOf(draft: DockerHandDraft): DockerHandConfigInput {
  const hostPath = draft.hostPath.trim();
  const containerPath = draft.containerPath.trim();
  const withMount = hostPath !== '' || containerPath !== '';
  const repoUrl = draft.repoUrl.trim();
  const repoPath = draft.repoPath.trim();
  const repoBranch = draft.repoBranch.trim();
  return {
    kind: 'docker',
    image: draft.image.trim(),
    network: draft.network,
    ...(withMount ? { mounts: [{ host_path: hostPath, container_path: containerPath, read_only: draft.readOnly }] } : {}),
    ...(repoUrl !== ''
      ? {
          repos: [
            {
              url: repoUrl,
              token_secret_id: draft.repoTokenId === '' ? null : draft.repoTokenId,
              path: repoPath === '' ? defaultRepoPath(repoUrl) : repoPath,
              branch: repoBranch === '' ? null : repoBranch,
            },
          ],
        }
      : {}),
  };
}

/**
 * What is wrong with a Docker hand draft, in the user's words, before asking the main process:
 * no image, half a folder, a repository URL that is not http(s) or holds credentials, a token
 * with the network off. The schema's finer rules (an image reference, an absolute path, a branch
 * name) are left to it.
 */
export function dockerDraftProblems(draft: DockerHandDraft): DockerFieldProblems {
  const problems: DockerFieldProblems = {};
  if (draft.image.trim() === '') problems.image = 'Choose an image, e.g. debian:bookworm.';
  const hostPath = draft.hostPath.trim();
  const containerPath = draft.containerPath.trim();
  if (hostPath !== '' && containerPath === '') problems.containerPath = 'Say where the folder appears in the container, e.g. /workspace/project.';
  if (hostPath === '' && containerPath !== '') problems.hostPath = 'Choose the folder on this computer to show there.';

  const repoUrl = draft.repoUrl.trim();
  if (repoUrl === '') {
    if (draft.repoTokenId !== '' || draft.repoPath.trim() !== '' || draft.repoBranch.trim() !== '') {
      problems.repoUrl = "Give the repository's URL, e.g. https://github.com/team/repo.git, or clear its other fields.";
    }
    return problems;
  }
  const url = parseUrl(repoUrl);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    problems.repoUrl = "Use the repository's https:// address, e.g. https://github.com/team/repo.git.";
  } else if (url.username !== '' || url.password !== '') {
    problems.repoUrl = 'Take the user name and token out of the URL: put the token in Settings → Credentials, not in the URL.';
  }
  if (draft.repoTokenId !== '' && draft.network === 'none') {
    problems.network = 'A repository needs network on to use its token: turn it on, or choose no token.';
  }
  return problems;
}

/** The vault's secrets a repository can use as its token (git tokens and plain tokens), by name. */
export function gitTokenChoices(credentials: readonly SecretMeta[] | null | undefined): SecretMeta[] {
  return (credentials ?? [])
    .filter((secret) => secret.kind === 'git-token' || secret.kind === 'token')
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/**
 * The fields whose problem a change may have fixed: those changed, and those a problem links to
 * them ("a token needs network on" from either side, the other half of a folder, the URL a
 * repository's other fields need).
 */
export function fieldsFixedBy(before: DockerHandDraft, after: DockerHandDraft): DockerFieldName[] {
  const fixed = new Set(DOCKER_FIELDS.filter((field) => before[field] !== after[field]));
  if (fixed.has('repoTokenId') || fixed.has('repoUrl')) fixed.add('network');
  if (fixed.has('network')) fixed.add('repoTokenId');
  if (fixed.has('hostPath') || fixed.has('containerPath')) fixed.add('hostPath').add('containerPath');
  if (after.repoUrl.trim() === '' && (fixed.has('repoTokenId') || fixed.has('repoPath') || fixed.has('repoBranch'))) fixed.add('repoUrl');
  return DOCKER_FIELDS.filter((field) => fixed.has(field));
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** "box", else "box-2", "box-3"…: the first name no hand of the session has. */
export function nextFreeName(taken: readonly string[]): string {
  const names = new Set(taken.map((name) => name.trim()));
  if (!names.has('box')) return 'box';
  for (let n = 2; ; n++) if (!names.has(`box-${n}`)) return `box-${n}`;
}

/**
 * What is wrong with each hand's name, in order (null: nothing): empty, not a valid name, or
 * already used by an earlier hand (the later one is marked, so the first keeps its name).
 */
export function handNameProblems(names: readonly string[]): (string | null)[] {
  return names.map((raw, index) => {
    const name = raw.trim();
    if (name === '') return 'Give the hand a name, e.g. box.';
    const parsed = HandNameSchema.safeParse(name);
    if (!parsed.success) return sentence(parsed.error.issues[0]?.message ?? 'this is not a valid hand name');
    if (names.slice(0, index).some((other) => other.trim() === name)) return `Another hand is already called ${name}: give each hand its own name.`;
    return null;
  });
}

// ------------------------------------------------------------------------------ outcome drafts

/** The outcome schema's limits (shared/events.ts), repeated to say them before asking. */
export const MAX_OUTCOME_ITERATIONS = 20;
export const DEFAULT_OUTCOME_ITERATIONS = 3;
const MAX_OUTCOME_DESCRIPTION_CHARS = 20_000;
const MAX_OUTCOME_RUBRIC_CHARS = 100_000;
const MAX_VERIFY_COMMAND_CHARS = 4000;

/**
 * An outcome as typed, in the launch dialog and in the session's "Outcome" dialog: strings as
 * they are in the fields. The verification's hand is a choice among `OutcomeHandChoice`s, kept
 * by their `id` (a launch row's key, or an attached hand's name) so renaming a row keeps it.
 */
export interface OutcomeDraft {
  description: string;
  /** Markdown; may be empty (the description alone is then the standard). */
  rubric: string;
  maxIterations: string;
  /** Run a command on a hand before each check (its output is evidence for the grader). */
  verify: boolean;
  verifyHand: string;
  verifyCommand: string;
  /** The model the grader asks; '' for the session's own. */
  graderModel: string;
}

export const EMPTY_OUTCOME_DRAFT: Readonly<OutcomeDraft> = {
  description: '',
  rubric: '',
  maxIterations: String(DEFAULT_OUTCOME_ITERATIONS),
  verify: false,
  verifyHand: '',
  verifyCommand: '',
  graderModel: '',
};

/** A hand a verification command can run on: `id` is what the draft keeps, `name` what the RPC takes. */
export interface OutcomeHandChoice {
  id: string;
  name: string;
}

/** The fields of an outcome draft a problem can be shown under, by their path in the RPC argument. */
export const OUTCOME_FIELD = {
  section: 'outcome',
  description: 'outcome.description',
  rubric: 'outcome.rubric',
  maxIterations: 'outcome.max_iterations',
  verifyHand: 'outcome.verification.hand_id',
  verifyCommand: 'outcome.verification.command',
  graderModel: 'outcome.grader_model',
} as const;

/** The draft as an existing definition reads (the session's "Outcome" dialog, replacing one). */
export function outcomeDraftOf(outcome: OutcomeDefinitionInput): OutcomeDraft {
  return {
    description: outcome.description,
    rubric: outcome.rubric ?? '',
    maxIterations: String(outcome.max_iterations ?? DEFAULT_OUTCOME_ITERATIONS),
    verify: outcome.verification !== undefined,
    verifyHand: outcome.verification?.hand_id ?? '',
    verifyCommand: outcome.verification?.command ?? '',
    graderModel: outcome.grader_model ?? '',
  };
}

export type OutcomeBuild = { ok: true; outcome: OutcomeDefinitionInput } | { ok: false; fields: Record<string, string> };

/**
 * The outcome for a draft, or its problems by field (keys of OUTCOME_FIELD) in the user's words.
 * `hands` are the hands a verification may run on; a chosen hand no longer among them (its row
 * was removed) is a problem, not a silent change. The main process checks everything again.
 */
export function buildOutcome(draft: OutcomeDraft, hands: readonly OutcomeHandChoice[]): OutcomeBuild {
  const fields: Record<string, string> = {};
  const description = draft.description.trim();
  if (description === '') fields[OUTCOME_FIELD.description] = 'Describe the outcome: what must be true when Claude is done.';
  else if (description.length > MAX_OUTCOME_DESCRIPTION_CHARS) {
    fields[OUTCOME_FIELD.description] = `A description is at most ${MAX_OUTCOME_DESCRIPTION_CHARS.toLocaleString('en-US')} characters (this one has ${description.length.toLocaleString('en-US')}).`;
  }
  const rubric = draft.rubric.trim();
  if (rubric.length > MAX_OUTCOME_RUBRIC_CHARS) {
    fields[OUTCOME_FIELD.rubric] = `A rubric is at most ${MAX_OUTCOME_RUBRIC_CHARS.toLocaleString('en-US')} characters (this one has ${rubric.length.toLocaleString('en-US')}).`;
  }
  const maxIterations = wholeNumber(draft.maxIterations);
  if (maxIterations === null || maxIterations < 1 || maxIterations > MAX_OUTCOME_ITERATIONS) {
    fields[OUTCOME_FIELD.maxIterations] = `Max iterations is a whole number from 1 to ${MAX_OUTCOME_ITERATIONS}.`;
  }

  let verification: OutcomeDefinitionInput['verification'];
  if (draft.verify) {
    const hand = hands.find((choice) => choice.id === draft.verifyHand);
    if (hands.length === 0) fields[OUTCOME_FIELD.verifyHand] = 'A verification command runs on one of the session’s hands: add a hand, or turn verification off.';
    else if (draft.verifyHand === '') fields[OUTCOME_FIELD.verifyHand] = 'Choose the hand to run the command on.';
    else if (hand === undefined) fields[OUTCOME_FIELD.verifyHand] = 'That hand is gone: choose another one.';
    const command = draft.verifyCommand.trim();
    if (command === '') fields[OUTCOME_FIELD.verifyCommand] = 'Give the command to run before each check, e.g. npm test.';
    else if (command.length > MAX_VERIFY_COMMAND_CHARS) fields[OUTCOME_FIELD.verifyCommand] = `A command is at most ${MAX_VERIFY_COMMAND_CHARS.toLocaleString('en-US')} characters.`;
    if (hand !== undefined && command !== '') verification = { hand_id: hand.name.trim(), command };
  }

  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return {
    ok: true,
    outcome: {
      description,
      rubric,
      max_iterations: maxIterations ?? DEFAULT_OUTCOME_ITERATIONS,
      grader_model: draft.graderModel.trim() === '' ? null : draft.graderModel.trim(),
      ...(verification !== undefined ? { verification } : {}),
    },
  };
}

/** The fields whose problem a change to an outcome draft may have fixed (verification's fields go together). */
export function outcomeFieldsFixedBy(before: OutcomeDraft, after: OutcomeDraft): string[] {
  const fixed: string[] = [OUTCOME_FIELD.section];
  if (before.description !== after.description) fixed.push(OUTCOME_FIELD.description);
  if (before.rubric !== after.rubric) fixed.push(OUTCOME_FIELD.rubric);
  if (before.maxIterations !== after.maxIterations) fixed.push(OUTCOME_FIELD.maxIterations);
  if (before.graderModel !== after.graderModel) fixed.push(OUTCOME_FIELD.graderModel);
  if (before.verify !== after.verify) fixed.push(OUTCOME_FIELD.verifyHand, OUTCOME_FIELD.verifyCommand, 'outcome.verification');
  if (before.verifyHand !== after.verifyHand) fixed.push(OUTCOME_FIELD.verifyHand, 'outcome.verification');
  if (before.verifyCommand !== after.verifyCommand) fixed.push(OUTCOME_FIELD.verifyCommand, 'outcome.verification');
  return fixed;
}

/** Every place in an outcome form a problem can be shown. */
export const OUTCOME_FIELD_KEYS: ReadonlySet<string> = new Set([...Object.values(OUTCOME_FIELD), 'outcome.verification']);

// ------------------------------------------------------------------------------ the form

/** A hand row of the dialog; `key` only identifies the row on screen. */
export interface HandDraft extends DockerHandDraft {
  key: string;
  name: string;
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
  /** As typed; empty: the main process's default. */
  maxTokens: string;
  thinking: boolean;
  thinkingBudget: string;
  /** Off: no outcome is sent (what was typed in it is kept, not checked). */
  outcomeOn: boolean;
  outcome: OutcomeDraft;
  message: string;
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
    maxTokens: '',
    thinking: false,
    thinkingBudget: '4096',
    outcomeOn: false,
    outcome: { ...EMPTY_OUTCOME_DRAFT },
    message: '',
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

/** Adds a Docker hand with the next free name (none past MAX_HANDS). */
export function addHand(form: LaunchForm): LaunchForm {
  if (form.hands.length >= MAX_HANDS) return form;
  const name = nextFreeName(form.hands.map((hand) => hand.name));
  return { ...form, hands: [...form.hands, handDraft(name, EMPTY_DOCKER_DRAFT)] };
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
} as const;

export type HandFieldName = 'row' | 'name' | DockerFieldName;

/** Each field's path under its hand, as the schema names it (`repoUrl` → `.config.repos.0.url`). */
const HAND_FIELD_PATHS: Record<HandFieldName, string> = {
  row: '',
  name: '.name',
  image: '.config.image',
  network: '.config.network',
  hostPath: '.config.mounts.0.host_path',
  containerPath: '.config.mounts.0.container_path',
  repoUrl: '.config.repos.0.url',
  repoTokenId: '.config.repos.0.token_secret_id',
  repoPath: '.config.repos.0.path',
  repoBranch: '.config.repos.0.branch',
};

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

/**
 * The `hands-attach` refusal's issues on the attach form's fields (`hand.config.repos.0.url` →
 * `repoUrl`, `hand.name` → `name`); the others (the hand as a whole, or none) in `general`.
 */
export function placeAttachIssues(issues: NonNullable<RpcError['issues']>): { fields: DockerFieldProblems & { name?: string }; general: string[] } {
  const byKey = new Map<string, 'name' | DockerFieldName>([['hand.name', 'name'], ...DOCKER_FIELDS.map((field) => [`hand${HAND_FIELD_PATHS[field]}`, field] as const)]);
  const placed = placeIssues(issues, new Set([...byKey.keys(), 'hand']));
  const fields: DockerFieldProblems & { name?: string } = {};
  const general = [...placed.general];
  for (const [key, text] of Object.entries(placed.fields)) {
    const field = byKey.get(key);
    if (field === undefined) general.push(text);
    else fields[field] = text;
  }
  return { fields, general };
}

/** Every place in this form a problem can be shown. */
export function fieldKeysOf(form: LaunchForm): ReadonlySet<string> {
  const keys = new Set<string>([...Object.values(FIELD), ...OUTCOME_FIELD_KEYS]);
  form.hands.forEach((_, index) => {
    for (const field of Object.keys(HAND_FIELD_PATHS) as HandFieldName[]) keys.add(handField(index, field));
  });
  return keys;
}

/** Problems by field key (one each), and those that belong to no field (shown above the form). */
export interface LaunchProblems {
  fields: Record<string, string>;
  general: string[];
}

/**
 * Puts each issue on the nearest field that shows it (`hands.0.config.cpus` → the hand's row);
 * issues no field shows go to `general`, with their path.
 */
export function placeIssues(issues: NonNullable<RpcError['issues']>, fieldKeys: ReadonlySet<string>): LaunchProblems {
  const placed: LaunchProblems = { fields: {}, general: [] };
  for (const issue of issues) {
    const key = nearestField(issue.path, fieldKeys);
    const text = sentence(issue.message);
    if (key === null) placed.general.push(issue.path === '' || issue.path === '(root)' ? text : `${issue.path}: ${text}`);
    else placed.fields[key] ??= text;
  }
  return placed;
}

function nearestField(path: string, fieldKeys: ReadonlySet<string>): string | null {
  const parts = path.split('.');
  for (let length = parts.length; length > 0; length--) {
    const key = parts.slice(0, length).join('.');
    if (fieldKeys.has(key)) return key;
  }
  return null;
}

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
  else if (title.length > MAX_TITLE_CHARS) fields[FIELD.title] = `A name is at most ${MAX_TITLE_CHARS} characters (this one has ${title.length}).`;

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

  if (form.hands.length > MAX_HANDS) fields[FIELD.hands] = `A session has at most ${MAX_HANDS} hands: remove one.`;
  const nameProblems = handNameProblems(form.hands.map((hand) => hand.name));
  form.hands.forEach((hand, index) => {
    const nameProblem = nameProblems[index];
    if (nameProblem) fields[handField(index, 'name')] = nameProblem;
    for (const [field, text] of Object.entries(dockerDraftProblems(hand)) as [DockerFieldName, string][]) fields[handField(index, field)] = text;
  });

  let outcome: OutcomeDefinitionInput | undefined;
  if (form.outcomeOn) {
    const built = buildOutcome(form.outcome, launchHandChoices(form));
    if (built.ok) outcome = built.outcome;
    else Object.assign(fields, built.fields);
  }

  const message = form.message.trim();
  const request: LaunchRequest = {
    title,
    ...(Object.keys(settings).length > 0 ? { settings } : {}),
    ...(form.hands.length > 0 ? { hands: form.hands.map((hand) => ({ name: hand.name.trim(), config: dockerConfigOf(hand) })) } : {}),
    ...(outcome !== undefined ? { outcome } : {}),
    ...(message !== '' ? { message } : {}),
  };

  const parsed = rpcMethods['sessions-launch'].arg.safeParse(request);
  const fromSchema: LaunchProblems = parsed.success ? { fields: {}, general: [] } : placeIssues(describeIssues(parsed.error.issues), fieldKeysOf(form));
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
  return form.hands.map((hand) => ({ id: hand.key, name: hand.name }));
}

function wholeNumber(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : null;
}

/** A schema message ("choose an image") as a sentence for the user ("Choose an image."). */
export function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return text;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?:]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

// ------------------------------------------------------------------------------ remembered defaults

/** Where the last launch's model, preset and hands are kept for the next one. */
export const LAUNCH_STORAGE_KEY = 'drover.launch.last';

/** A remembered repository URL: an http(s) URL with no credentials in it, else none. */
const RememberedRepoUrlSchema = z
  .string()
  .max(2048)
  .refine((text) => {
    if (text === '') return true;
    const url = parseUrl(text);
    return url !== null && (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  })
  .default('')
  .catch('');

const RememberedHandSchema = z.object({
  name: HandNameSchema,
  image: z.string().max(512),
  network: z.enum(['bridge', 'none']),
  hostPath: z.string().max(4096).default(''),
  containerPath: z.string().max(4096).default(''),
  readOnly: z.boolean().default(true),
  // A bad repository part is dropped on its own: the hand is kept.
  repoUrl: RememberedRepoUrlSchema,
  repoTokenId: z.union([z.literal(''), SecretIdSchema]).default('').catch(''),
  repoPath: z.string().max(4096).default('').catch(''),
  repoBranch: z.string().max(255).default('').catch(''),
});
export type RememberedHand = z.output<typeof RememberedHandSchema>;

/** Each part on its own: a bad part is dropped, the others are kept. */
const RememberedLaunchSchema = z.object({
  model: z.string().trim().min(1).max(200).optional().catch(undefined),
  /** "Custom" is not remembered: its text is the user's own. */
  presetId: z.enum(PRESET_IDS).exclude(['custom']).optional().catch(undefined),
  hands: z.array(RememberedHandSchema).max(MAX_HANDS).optional().catch(undefined),
});
export type RememberedLaunch = z.output<typeof RememberedLaunchSchema>;

/** The remembered defaults from what localStorage holds (anything at all: it is untrusted). */
export function parseRemembered(raw: string | null): RememberedLaunch {
  if (raw === null) return {};
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return {};
  }
  const parsed = RememberedLaunchSchema.safeParse(data);
  if (!parsed.success) return {};
  const { model, presetId, hands } = parsed.data;
  const seen = new Set<string>();
  const unique = hands?.filter((hand) => {
    if (seen.has(hand.name)) return false;
    seen.add(hand.name);
    return true;
  });
  return { ...(model ? { model } : {}), ...(presetId ? { presetId } : {}), ...(unique ? { hands: unique } : {}) };
}

/** What to remember of a launched form: the model, the preset (not a custom text) and the hands. */
export function rememberedOf(form: LaunchForm): RememberedLaunch {
  return {
    ...(form.model.trim() !== '' ? { model: form.model.trim() } : {}),
    ...(form.presetId !== 'custom' ? { presetId: form.presetId } : {}),
    hands: form.hands.map((hand) => ({
      name: hand.name.trim(),
      image: hand.image.trim(),
      network: hand.network,
      hostPath: hand.hostPath.trim(),
      containerPath: hand.containerPath.trim(),
      readOnly: hand.readOnly,
      repoUrl: hand.repoUrl.trim(),
      repoTokenId: hand.repoTokenId,
      repoPath: hand.repoPath.trim(),
      repoBranch: hand.repoBranch.trim(),
    })),
  };
}

// ------------------------------------------------------------------------------ keyboard

/** Whether the platform's shortcuts use ⌘ (navigator.userAgentData.platform or navigator.platform). */
export function isApplePlatform(platform: string): boolean {
  return /mac|iphone|ipad|ipod/i.test(platform);
}

/** How to write "Ctrl/Cmd+Enter" for this platform. */
export function launchShortcutLabel(platform: string): string {
  return isApplePlatform(platform) ? '⌘↵' : 'Ctrl+Enter';
}

/**
 * A Docker hand's configuration as typed — image, network, at most one folder from this computer,
 * at most one git repository — shared by the hands panel's "Add a Docker hand" form and the
 * launch dialog: the draft, its problems found before asking the main process, the RPC's
 * configuration built from it, and the hand's name (the next free one, and its problems). No DOM
 * and no React, so it is tested in node. A repository's token is a vault secret's id, never a
 * secret.
 */
import type { z } from 'zod';
import { HandNameSchema, type DockerHandConfigSchema } from '#shared/hands';
import { ArchSchema, type EngineRequirements } from '#shared/engine-requirements';
import type { SecretMeta } from '#shared/vault';
import type { RpcError } from '#shared/errors';
import { placeIssues, sentence } from '#renderer/ui/problems.ts';

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
  /** The Docker engine it runs on (Settings → Engines): empty, this computer's; `*`, picked by `requirements`. */
  engine?: string;
  /** With engine `*`: what the engine must have, e.g. `arch=arm64 cpus=4 memory=8g gpu label=lab`. */
  requirements?: string;
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
  engine: '',
  requirements: '',
};

/** The engine choice that means "pick one by the requirements". */
export const PICK_BY_REQUIREMENTS = '*';

/**
 * Requirements as typed (space- or comma-separated): `arch=arm64`, `cpus=4`, `memory=8g` (or
 * `512m`), `gpu`, `label=lab` (any number of labels) → the configuration's `requirements`, or what
 * is wrong with a word.
 */
export function parseRequirements(text: string): { requirements: EngineRequirements } | { error: string } {
  const requirements: EngineRequirements = {};
  const labels: string[] = [];
  for (const word of text.split(/[\s,]+/).filter((part) => part !== '')) {
    const [key = '', value = ''] = word.split('=', 2);
    if (key === 'gpu' && value === '') requirements.gpu = true;
    else if (key === 'arch' && ArchSchema.safeParse(value).success) requirements.arch = ArchSchema.parse(value);
    else if (key === 'cpus' && /^\d+$/.test(value) && Number(value) >= 1) requirements.min_cpus = Number(value);
    else if (key === 'memory' && /^\d+[mg]$/i.test(value))
      requirements.min_memory_mb = Number(value.slice(0, -1)) * (/g$/i.test(value) ? 1024 : 1);
    else if (key === 'label' && value !== '') labels.push(value);
    else
      return {
        error: `"${word}" is not a requirement Drover knows: use arch=amd64|arm64, cpus=N, memory=8g (or 512m), gpu, label=NAME.`,
      };
  }
  if (labels.length > 0) requirements.labels = labels;
  if (Object.keys(requirements).length === 0)
    return { error: 'Say what the engine must have, e.g. arch=arm64 cpus=4 memory=8g gpu label=lab.' };
  return { requirements };
}

/** The fields of a Docker hand draft a problem can be shown under. */
export const DOCKER_FIELDS = [
  'image',
  'network',
  'hostPath',
  'containerPath',
  'repoUrl',
  'repoTokenId',
  'repoPath',
  'repoBranch',
  'engine',
  'requirements',
] as const;
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
  let name =
    path
      .split(/[/\\:]/)
      .filter((part) => part !== '')
      .at(-1) ?? '';
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
    ...(draft.engine !== undefined && draft.engine !== '' && draft.engine !== PICK_BY_REQUIREMENTS ? { engine: draft.engine } : {}),
    ...(draft.engine === PICK_BY_REQUIREMENTS ? requirementsOf(draft.requirements ?? '') : {}),
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

function requirementsOf(text: string): { requirements?: EngineRequirements } {
  const parsed = parseRequirements(text);
  return 'requirements' in parsed ? { requirements: parsed.requirements } : {};
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
  if (hostPath !== '' && containerPath === '')
    problems.containerPath = 'Say where the folder appears in the container, e.g. /workspace/project.';
  if (hostPath === '' && containerPath !== '') problems.hostPath = 'Choose the folder on this computer to show there.';
  if (draft.engine === PICK_BY_REQUIREMENTS) {
    const parsed = parseRequirements(draft.requirements ?? '');
    if ('error' in parsed) problems.requirements = parsed.error;
  }

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

export function parseUrl(text: string): URL | null {
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
    if (names.slice(0, index).some((other) => other.trim() === name))
      return `Another hand is already called ${name}: give each hand its own name.`;
    return null;
  });
}

export type HandFieldName = 'row' | 'name' | DockerFieldName;

/** Each field's path under its hand, as the schema names it (`repoUrl` → `.config.repos.0.url`). */
export const HAND_FIELD_PATHS: Record<HandFieldName, string> = {
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
  engine: '.config.engine',
  requirements: '.config.requirements',
};

/**
 * The `hands-attach` refusal's issues on the attach form's fields (`hand.config.repos.0.url` →
 * `repoUrl`, `hand.name` → `name`); the others (the hand as a whole, or none) in `general`.
 */
export function placeAttachIssues(issues: NonNullable<RpcError['issues']>): {
  fields: DockerFieldProblems & { name?: string };
  general: string[];
} {
  const byKey = new Map<string, 'name' | DockerFieldName>([
    ['hand.name', 'name'],
    ...DOCKER_FIELDS.map((field) => [`hand${HAND_FIELD_PATHS[field]}`, field] as const),
  ]);
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

/**
 * The draft behind "Attach a machine" (AttachMachineForm.tsx) and the rules the form follows:
 * the default name, which secrets each select offers, a draft → the SSH hand's configuration (its
 * problems named per field, in words), a ~/.ssh/config host → the draft, and whether a test
 * allows attaching. Pure: no React, no transport. Secrets are referenced by id only.
 */
import { HandNameSchema, SshHandConfigSchema, type SshHandConfig, type SshTestResult } from '#shared/hands';
import type { RpcError } from '#shared/errors';
import type { SshConfigHost } from '#shared/ssh';
import type { SecretKind, SecretMeta } from '#shared/vault';

export type AuthMethod = 'key' | 'password' | 'agent';

/** One machine to log in to, as typed (the target, or the jump host). */
export interface EndpointDraft {
  host: string;
  port: string;
  user: string;
  auth: AuthMethod;
  /** Secret ids ('' for none chosen). */
  keyId: string;
  passphraseId: string;
  passwordId: string;
}

export interface MachineDraft {
  name: string;
  target: EndpointDraft;
  useJump: boolean;
  jump: EndpointDraft;
  workingDir: string;
  snapshots: boolean;
}

export const EMPTY_ENDPOINT: EndpointDraft = { host: '', port: '22', user: '', auth: 'key', keyId: '', passphraseId: '', passwordId: '' };

export function emptyMachineDraft(name: string): MachineDraft {
  return { name, target: EMPTY_ENDPOINT, useJump: false, jump: EMPTY_ENDPOINT, workingDir: '', snapshots: true };
}

/** `machine`, then `machine-2`, `machine-3`… — the first not taken in the session. */
export function nextFreeMachineName(taken: readonly string[]): string {
  const names = new Set(taken.map((name) => name.trim()));
  if (!names.has('machine')) return 'machine';
  for (let n = 2; ; n++) if (!names.has(`machine-${n}`)) return `machine-${n}`;
}

/** What each secret select offers. A passphrase may be stored as either kind. */
export const SECRET_KINDS_FOR = {
  key: ['ssh-private-key'],
  passphrase: ['ssh-passphrase', 'password'],
  password: ['password'],
} as const satisfies Record<string, readonly SecretKind[]>;

export function secretChoices(credentials: readonly SecretMeta[] | null | undefined, kinds: readonly SecretKind[]): SecretMeta[] {
  return (credentials ?? [])
    .filter((secret) => kinds.includes(secret.kind))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** Every place the form shows a problem. */
export type MachineField =
  | 'name'
  | 'host'
  | 'port'
  | 'user'
  | 'keyId'
  | 'passphraseId'
  | 'passwordId'
  | 'jumpHost'
  | 'jumpPort'
  | 'jumpUser'
  | 'jumpKeyId'
  | 'jumpPassphraseId'
  | 'jumpPasswordId'
  | 'workingDir';
export type MachineProblems = Partial<Record<MachineField, string>>;

const ENDPOINT_FIELDS = {
  host: 'host',
  port: 'port',
  user: 'user',
  'auth.key_secret_id': 'keyId',
  'auth.passphrase_secret_id': 'passphraseId',
  'auth.password_secret_id': 'passwordId',
} as const;

/** A zod path of the configuration (`jump.auth.key_secret_id`) → its field (`jumpKeyId`). */
const FIELD_OF_PATH = new Map<string, MachineField>([
  ...Object.entries(ENDPOINT_FIELDS).map(([path, field]) => [path, field] as const),
  ...Object.entries(ENDPOINT_FIELDS).map(
    ([path, field]) => [`jump.${path}`, `jump${field[0]?.toUpperCase() ?? ''}${field.slice(1)}` as MachineField] as const,
  ),
  ['working_dir', 'workingDir'],
]);

/**
 * The configuration the draft describes, or what is wrong with it per field. The obvious
 * mistakes get their own words here; the rest come from the contract's schema.
 */
export function machineConfigOf(
  draft: MachineDraft,
  takenNames: readonly string[],
): { config: SshHandConfig; problems: null } | { config: null; problems: MachineProblems } {
  const problems: MachineProblems = {};
  const name = draft.name.trim();
  const nameCheck = HandNameSchema.safeParse(name);
  if (name === '') problems.name = 'give the hand a name';
  else if (!nameCheck.success) problems.name = nameCheck.error.issues[0]?.message ?? 'not a valid name';
  else if (takenNames.includes(name)) problems.name = `this session already has a hand called ${name}`;

  const target = endpointOf(draft.target, '', problems);
  const jump = draft.useJump ? endpointOf(draft.jump, 'jump', problems) : null;
  const workingDir = draft.workingDir.trim();
  const parsed = SshHandConfigSchema.safeParse({
    kind: 'ssh',
    ...target,
    jump,
    working_dir: workingDir === '' ? null : workingDir,
    snapshots: draft.snapshots,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = FIELD_OF_PATH.get(issue.path.join('.'));
      if (field !== undefined && problems[field] === undefined) problems[field] = issue.message;
    }
  }
  if (Object.keys(problems).length > 0 || !parsed.success) {
    return {
      config: null,
      problems: Object.keys(problems).length > 0 ? problems : { host: parsed.error?.issues[0]?.message ?? 'check the fields' },
    };
  }
  return { config: parsed.data, problems: null };
}

function endpointOf(draft: EndpointDraft, prefix: '' | 'jump', problems: MachineProblems): Record<string, unknown> {
  const field = (name: 'port' | 'keyId' | 'passwordId'): MachineField =>
    prefix === '' ? name : (`jump${name[0]?.toUpperCase() ?? ''}${name.slice(1)}` as MachineField);
  const portText = draft.port.trim();
  const port = portText === '' ? 22 : /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) problems[field('port')] = 'a port is a number from 1 to 65535 (SSH uses 22)';
  const who = prefix === '' ? 'the machine' : 'the jump host';
  let auth: Record<string, unknown>;
  if (draft.auth === 'key') {
    if (draft.keyId === '') problems[field('keyId')] = `choose the key that logs in to ${who}, or import one from ~/.ssh/config`;
    auth = { method: 'key', key_secret_id: draft.keyId, passphrase_secret_id: draft.passphraseId === '' ? null : draft.passphraseId };
  } else if (draft.auth === 'password') {
    if (draft.passwordId === '') problems[field('passwordId')] = `choose the password for ${who} (store it in Settings → Credentials)`;
    auth = { method: 'password', password_secret_id: draft.passwordId };
  } else {
    auth = { method: 'agent' };
  }
  return { host: draft.host.trim(), port, user: draft.user.trim(), auth };
}

/** The refusal's issues (`hand.config.host`, `config.jump.user`) on the form's fields; the rest in `general`. */
export function placeMachineIssues(issues: NonNullable<RpcError['issues']>): { fields: MachineProblems; general: string[] } {
  const fields: MachineProblems = {};
  const general: string[] = [];
  for (const { path, message } of issues) {
    const key = path.replace(/^(hand\.)?config\./, '');
    const field = path === 'hand.name' ? 'name' : FIELD_OF_PATH.get(key);
    if (field === undefined) general.push(message);
    else fields[field] ??= message;
  }
  return { fields, general };
}

/**
 * The draft with a ~/.ssh/config host's values: host (its HostName, else the alias), port, user,
 * and its jump host. Authentication, name and folder stay as chosen.
 */
export function draftFromConfigHost(draft: MachineDraft, host: SshConfigHost): MachineDraft {
  const target: EndpointDraft = {
    ...draft.target,
    host: host.hostName ?? host.alias,
    port: String(host.port ?? 22),
    user: host.user ?? draft.target.user,
  };
  if (host.proxyJump === null) return { ...draft, target, useJump: false };
  return {
    ...draft,
    target,
    useJump: true,
    jump: {
      ...sameAuthAs(target),
      host: host.proxyJump.host,
      port: String(host.proxyJump.port ?? 22),
      user: host.proxyJump.user ?? target.user,
    },
  };
}

/** A new jump host logs in as the target does (the usual case: one key for both). */
export function sameAuthAs(endpoint: EndpointDraft): EndpointDraft {
  return {
    ...EMPTY_ENDPOINT,
    auth: endpoint.auth,
    keyId: endpoint.keyId,
    passphraseId: endpoint.passphraseId,
    passwordId: endpoint.passwordId,
  };
}

/** Identifies a configuration: a test holds only for the settings it was run with. */
export function configKey(config: SshHandConfig): string {
  return JSON.stringify(config);
}

/** Whether a test lets the machine be attached, and if not, what is missing (in words). */
export function attachVerdict(
  result: SshTestResult | null,
  testedKey: string | null,
  currentKey: string | null,
): { ready: boolean; reason: string } {
  if (result === null || testedKey === null)
    return { ready: false, reason: 'Test the connection first: the machine is attached once its host key is trusted.' };
  if (currentKey !== testedKey) return { ready: false, reason: 'The settings changed since the last test: test the connection again.' };
  if (result.trust === 'changed' || result.jumpTrust === 'changed')
    return { ready: false, reason: 'A host key changed: see the warning above before going on.' };
  if (result.trust === 'unknown' || result.jumpTrust === 'unknown')
    return { ready: false, reason: 'Check and trust the host key above first.' };
  if (!result.ok) return { ready: false, reason: 'The test failed: fix what it says, then test again.' };
  if (result.trust !== 'trusted') return { ready: false, reason: "The machine's host key was not checked: test again." };
  return { ready: true, reason: '' };
}

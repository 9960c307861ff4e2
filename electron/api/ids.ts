/**
 * Ids in the service's shapes (`sesn_…`, `sevt_…`, `agent_…`, `env_…`, `vlt_…`, `vcrd_…`).
 *
 * A Drover session's uuid and an event's uuid map both ways (`sesn_` + the uuid's 32 hex digits),
 * so every session the cockpit made is reachable through the API and no mapping table is kept.
 * Resources the API alone has (agents, environments, vaults, credentials) get random ids.
 */
import { randomBytes } from 'node:crypto';

export const ID_PREFIX = {
  session: 'sesn_',
  event: 'sevt_',
  agent: 'agent_',
  environment: 'env_',
  vault: 'vlt_',
  credential: 'vcrd_',
} as const;
export type IdKind = keyof typeof ID_PREFIX;

const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/;
const RANDOM_ID = /^[0-9A-Za-z]{24}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `sesn_` / `sevt_` + the uuid's hex digits. */
export function externalId(kind: 'session' | 'event', uuid: string): string {
  return `${ID_PREFIX[kind]}${uuid.replaceAll('-', '').toLowerCase()}`;
}

/** The uuid behind `sesn_…` / `sevt_…`, or null for anything else (never throws: ids come from clients). */
export function internalId(kind: 'session' | 'event', id: string): string | null {
  if (!id.startsWith(ID_PREFIX[kind])) return null;
  const match = UUID.exec(id.slice(ID_PREFIX[kind].length));
  if (match === null) return null;
  return `${match[1]}-${match[2]}-${match[3]}-${match[4]}-${match[5]}`;
}

/** A new random id for a resource only the API has: its prefix + 24 base62 characters. */
export function newId(kind: 'agent' | 'environment' | 'vault' | 'credential'): string {
  const bytes = randomBytes(24);
  let text = '';
  for (const byte of bytes) text += BASE62[byte % 62];
  return `${ID_PREFIX[kind]}${text}`;
}

/** Whether `id` is well formed for `kind` (a lookup with anything else is a 404, never a query). */
export function isId(kind: 'agent' | 'environment' | 'vault' | 'credential', id: string): boolean {
  return id.startsWith(ID_PREFIX[kind]) && RANDOM_ID.test(id.slice(ID_PREFIX[kind].length));
}

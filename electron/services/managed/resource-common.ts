/**
 * What the Managed Agents API's stored resources (agents, environments, vaults, credentials) share:
 * their ids, timestamps, metadata bags and patches, validation errors in words, and "not found".
 *
 * Every store validates its own input (zod, strict: an unknown key is refused by name) and throws
 * AppErrors, which the API layer turns into the service's error shape. Nothing is stored for input
 * that fails.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import { describeIssues, issuesText } from '#shared/events';
import type { ManagedDb, ResourceKind, ResourceRow } from './db.ts';

/** The service's id prefixes for the resources only the API has (the same as electron/api/ids.ts). */
export const RESOURCE_PREFIX = {
  agent: 'agent_',
  environment: 'env_',
  vault: 'vlt_',
  credential: 'vcrd_',
} as const;
export type ResourceIdKind = keyof typeof RESOURCE_PREFIX;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new random id: its prefix + 24 base62 characters. */
export function newResourceId(kind: ResourceIdKind): string {
  let text = '';
  for (const byte of randomBytes(24)) text += BASE62[byte % 62];
  return `${RESOURCE_PREFIX[kind]}${text}`;
}

/** Now as an RFC 3339 timestamp (UTC, milliseconds). */
export function nowIso(): string {
  return new Date().toISOString();
}

/** `value` parsed by `schema`, or an 'invalid-argument' AppError that says, field by field, what was wrong. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value === undefined ? {} : value);
  if (result.success) return result.data;
  const text = issuesText(describeIssues(result.error.issues))
    .replaceAll('(root): ', '')
    .replace(/Invalid input: expected (\w+), received undefined/g, 'missing (give it as $1)');
  throw new AppError('invalid-argument', `${what}: ${text}.`);
}

export function invalidArgument(message: string): AppError {
  return new AppError('invalid-argument', message);
}

export function notFoundError(what: string, id: string, listHint: string): AppError {
  return new AppError('not-found', `No ${what} with id ${JSON.stringify(id.slice(0, 200))} exists here. ${listHint}`);
}

export const MAX_METADATA_KEYS = 16;
const metadataKey = z.string().min(1, 'a metadata key is not empty').max(64, 'a metadata key is at most 64 characters');
const metadataValue = z.string().max(512, 'a metadata value is at most 512 characters');

/** A metadata bag as given on create: at most 16 string pairs. */
export const MetadataSchema = z
  .record(metadataKey, metadataValue)
  .refine((bag) => Object.keys(bag).length <= MAX_METADATA_KEYS, `metadata holds at most ${MAX_METADATA_KEYS} keys`);

/** A metadata patch: a string upserts its key, null deletes it. */
export const MetadataPatchSchema = z.record(metadataKey, metadataValue.nullable());

/**
 * `stored` with `patch` applied (null, and with `emptyDeletes` an empty string, deletes a key);
 * refused when the result holds more than 16 keys.
 */
export function patchMetadata(
  stored: Readonly<Record<string, string>>,
  patch: Readonly<Record<string, string | null>> | null | undefined,
  options: { emptyDeletes?: boolean } = {},
): Record<string, string> {
  if (patch === null || patch === undefined) return { ...stored };
  const next: Record<string, string> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || (options.emptyDeletes === true && value === '')) delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > MAX_METADATA_KEYS)
    throw invalidArgument(
      `metadata would hold ${Object.keys(next).length} keys after this change; it holds at most ${MAX_METADATA_KEYS}. Delete some keys (set them to null) in the same request.`,
    );
  return next;
}

/** Timestamp bounds (ms since the epoch), as the list endpoints take them. */
export interface TimeRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export function withinRange(iso: string, range: TimeRange | undefined): boolean {
  if (range === undefined) return true;
  const ms = Date.parse(iso);
  return (
    (range.gt === undefined || ms > range.gt) &&
    (range.gte === undefined || ms >= range.gte) &&
    (range.lt === undefined || ms < range.lt) &&
    (range.lte === undefined || ms <= range.lte)
  );
}

/** Newest first, ties by id (the order every list answers in, and its cursors rely on). */
export function newestFirst<T extends { created_at: string; id: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1));
}

/** What a list of resources can be narrowed by. */
export interface ListFilter {
  includeArchived?: boolean;
  createdAt?: TimeRange;
}

/** The latest version of each resource of `kind` (under `parent`, when given), newest first, narrowed by `filter`. */
export function listLatest<T extends { id: string; created_at: string; archived_at: string | null }>(
  db: ManagedDb,
  kind: ResourceKind,
  of: (row: ResourceRow) => T,
  filter: ListFilter = {},
  parent?: string,
): T[] {
  return newestFirst(
    db
      .list(kind, parent)
      .map(of)
      .filter((item) => (filter.includeArchived === true || item.archived_at === null) && withinRange(item.created_at, filter.createdAt)),
  );
}

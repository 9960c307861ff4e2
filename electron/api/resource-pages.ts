/**
 * What the stored resources' routes (agents, environments, vaults, credentials) share: strict
 * query checking (an unknown parameter is a 400 that names it), the list filters the SDK sends
 * (`include_archived`, `created_at[gte|lte]`), body-less actions, and `PageCursor` pages.
 *
 * Pages are keyset pages over a newest-first list: `next_page` encodes the last item's
 * (created_at, id) — or version, for an agent's versions — so an item created or deleted between
 * two pages neither repeats nor hides another one.
 */
import { z } from 'zod';
import type { TimeRange } from '#services/managed/resource-common';
import { invalid } from './errors.ts';
import { booleanParam, cursorParam, encodeCursor, limitParam, rangeParam } from './query.ts';

/** Refuses any query parameter outside `allowed` (bracketed names as the SDK writes them). */
export function checkQuery(query: URLSearchParams, allowed: readonly string[]): void {
  const unknown = [...new Set(query.keys())].filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw invalid(
      `Unknown query parameter${unknown.length === 1 ? '' : 's'} ${unknown.map((key) => JSON.stringify(key.slice(0, 64))).join(', ')}: ${
        allowed.length === 0 ? 'this endpoint takes none' : `this endpoint takes ${allowed.join(', ')}`
      }.`,
    );
}

/** A POST that takes no body (archive): nothing, or an empty object. */
export function checkNoBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw invalid('This request takes no body: send nothing (or {}).');
}

export const LIST_PARAMS = ['limit', 'page', 'include_archived'] as const;
export const CREATED_AT_PARAMS = ['created_at[gte]', 'created_at[lte]', 'created_at[gt]', 'created_at[lt]'] as const;

export interface ListQuery {
  includeArchived: boolean;
  createdAt: TimeRange;
  limit: number;
}

export function listQuery(query: URLSearchParams, options: { createdAt: boolean }): ListQuery {
  checkQuery(query, options.createdAt ? [...LIST_PARAMS, ...CREATED_AT_PARAMS] : LIST_PARAMS);
  return {
    includeArchived: booleanParam(query, 'include_archived'),
    createdAt: options.createdAt ? rangeParam(query, 'created_at') : {},
    limit: limitParam(query, 20, 100),
  };
}

/** The `limit` of a list that takes only `limit` and `page`. */
export function limitOnly(query: URLSearchParams): number {
  checkQuery(query, ['limit', 'page']);
  return limitParam(query, 20, 100);
}

const TimeCursorSchema = z.strictObject({ created_at: z.string().max(64), id: z.string().max(256) });
const VersionCursorSchema = z.strictObject({ before_version: z.number().int().positive() });

export interface Page<T> {
  data: T[];
  next_page: string | null;
}

/** One page of a newest-first list (by created_at, then id), after the cursor in `page`. */
export function timePage<T extends { created_at: string; id: string }>(
  query: URLSearchParams,
  items: readonly T[],
  limit: number,
): Page<T> {
  const cursor = cursorParam(query, TimeCursorSchema);
  const rest =
    cursor === null
      ? items
      : items.filter((item) => item.created_at < cursor.created_at || (item.created_at === cursor.created_at && item.id < cursor.id));
  const data = rest.slice(0, limit);
  const last = data.at(-1);
  return {
    data,
    next_page: rest.length > limit && last !== undefined ? encodeCursor({ created_at: last.created_at, id: last.id }) : null,
  };
}

/** One page of an agent's versions (newest first), after the cursor in `page`. */
export function versionPage<T extends { version: number }>(query: URLSearchParams, items: readonly T[], limit: number): Page<T> {
  const cursor = cursorParam(query, VersionCursorSchema);
  const rest = cursor === null ? items : items.filter((item) => item.version < cursor.before_version);
  const data = rest.slice(0, limit);
  const last = data.at(-1);
  return { data, next_page: rest.length > limit && last !== undefined ? encodeCursor({ before_version: last.version }) : null };
}

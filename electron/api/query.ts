/**
 * Query strings as the official SDK writes them (`qs` with `arrayFormat: 'brackets'`):
 * `statuses[]=idle&statuses[]=running`, `created_at[gte]=…`, `limit=20`, `page=<cursor>`.
 * Every reader here validates: a bad value is a 400 that names the parameter, never a throw.
 */
import { z } from 'zod';
import { invalid } from './errors.ts';

/** Values of `name[]` (and, leniently, repeated `name`). */
export function arrayParam(query: URLSearchParams, name: string): string[] {
  return [...query.getAll(`${name}[]`), ...query.getAll(name)];
}

/** `name[gt]`, `name[gte]`, `name[lt]`, `name[lte]` as ISO timestamps (ms since the epoch). */
export function rangeParam(query: URLSearchParams, name: string): { gt?: number; gte?: number; lt?: number; lte?: number } {
  const range: { gt?: number; gte?: number; lt?: number; lte?: number } = {};
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
    const raw = query.get(`${name}[${op}]`);
    if (raw === null) continue;
    const ms = Date.parse(raw);
    if (!Number.isFinite(ms))
      throw invalid(`${name}[${op}] must be a timestamp like 2026-12-03T10:00:00Z (got ${JSON.stringify(raw.slice(0, 64))}).`);
    range[op] = ms;
  }
  return range;
}

export function inRange(ms: number, range: { gt?: number; gte?: number; lt?: number; lte?: number }): boolean {
  return (
    (range.gt === undefined || ms > range.gt) &&
    (range.gte === undefined || ms >= range.gte) &&
    (range.lt === undefined || ms < range.lt) &&
    (range.lte === undefined || ms <= range.lte)
  );
}

/** `limit`: 1..max, default `fallback`. */
export function limitParam(query: URLSearchParams, fallback = 20, max = 100): number {
  const raw = query.get('limit');
  if (raw === null || raw === '') return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw invalid(`limit must be a whole number from 1 to ${max} (got ${JSON.stringify(raw.slice(0, 32))}).`);
  return limit;
}

/** `order`: `asc` or `desc`. */
export function orderParam(query: URLSearchParams, fallback: 'asc' | 'desc'): 'asc' | 'desc' {
  const raw = query.get('order');
  if (raw === null || raw === '') return fallback;
  if (raw !== 'asc' && raw !== 'desc') throw invalid(`order must be "asc" or "desc" (got ${JSON.stringify(raw.slice(0, 32))}).`);
  return raw;
}

/** A boolean flag such as `include_archived=true`. */
export function booleanParam(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw === null || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw invalid(`${name} must be true or false (got ${JSON.stringify(raw.slice(0, 32))}).`);
}

/** An opaque page cursor: base64url JSON of where the next page starts. */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The cursor given as `page`, checked against `schema`; null when there is none. */
export function cursorParam<T>(query: URLSearchParams, schema: z.ZodType<T>, name = 'page'): T | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid(`${name} is not a page cursor this server gave out: pass the next_page of the previous page as it was.`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success)
    throw invalid(`${name} is not a page cursor this server gave out: pass the next_page of the previous page as it was.`);
  return result.data;
}

/** One page of `items` already sorted, after `after` (an index into the list): `{data, next_page}`. */
export function pageOf<T>(items: readonly T[], start: number, limit: number): { data: T[]; next_page: string | null } {
  const data = items.slice(start, start + limit);
  return { data, next_page: start + limit < items.length ? encodeCursor({ offset: start + limit }) : null };
}

/** The offset cursor `pageOf` writes. */
export const OffsetCursorSchema = z.strictObject({ offset: z.number().int().nonnegative() });

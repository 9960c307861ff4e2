/**
 * Where the user is, kept in the address's hash (`#/s/<session id>[/<event seq>]`) so a reload —
 * or reopening the window — lands on the same session, branch and event. Pure string handling:
 * anything malformed is ignored, never trusted.
 */
import { SessionIdSchema } from '#shared/sessions';

export interface Route {
  sessionId: string | null;
  /** The timeline's cursor; null: live. */
  cursor: number | null;
  /** The settings page (`#/settings`) instead of a session. */
  settings?: boolean;
}

export function parseRoute(hash: string): Route {
  if (hash === '#/settings') return { sessionId: null, cursor: null, settings: true };
  const match = /^#\/s\/([0-9a-f-]{36})(?:\/(\d{1,12}))?$/i.exec(hash);
  const id = match?.[1];
  if (id === undefined || !SessionIdSchema.safeParse(id).success) return { sessionId: null, cursor: null };
  const seq = match?.[2] === undefined ? null : Number(match[2]);
  return { sessionId: id, cursor: seq !== null && seq >= 1 ? seq : null };
}

export function formatRoute(route: Route): string {
  if (route.settings === true) return '#/settings';
  if (route.sessionId === null) return '#/';
  return `#/s/${route.sessionId}${route.cursor === null ? '' : `/${route.cursor}`}`;
}

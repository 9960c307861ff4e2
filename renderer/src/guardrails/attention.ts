/**
 * When a session needs the user: it starts waiting for an approval, or a turn of it finishes.
 * `transitionsOf` compares two lists of summaries (pure, tested in node) so each transition is
 * notified once — never on the first list (what already waited when the window opened), never
 * again while nothing changes. The desktop notification uses the renderer's `Notification`, the
 * same API in a browser (serve mode) and in Electron; the user opts in from Settings (a gesture,
 * as browsers require for the permission prompt).
 */
import type { SessionSummary } from '#shared/sessions';
import { isWaiting } from './approval-model.ts';

export interface Attention {
  sessionId: string;
  title: string;
  kind: 'waiting' | 'finished' | 'budget';
}

type Summary = Pick<SessionSummary, 'id' | 'title' | 'status' | 'stopReason'>;

function stateOf(session: Summary): 'waiting' | 'budget' | 'running' | 'finished' | 'other' {
  if (isWaiting(session)) return 'waiting';
  if (session.status === 'idle' && session.stopReason === 'budget_reached') return 'budget';
  if (session.status === 'running') return 'running';
  if (session.status === 'idle' || session.status === 'error') return 'finished';
  return 'other';
}

/** What changed between `before` (null: the first list, nothing is new) and `after`. */
export function transitionsOf(before: readonly Summary[] | null, after: readonly Summary[]): Attention[] {
  if (before === null) return [];
  const previous = new Map(before.map((session) => [session.id, stateOf(session)]));
  const out: Attention[] = [];
  for (const session of after) {
    const was = previous.get(session.id);
    const now = stateOf(session);
    if (was === undefined || was === now) continue;
    if (now === 'waiting') out.push({ sessionId: session.id, title: session.title, kind: 'waiting' });
    else if (now === 'budget') out.push({ sessionId: session.id, title: session.title, kind: 'budget' });
    else if (now === 'finished' && was === 'running') out.push({ sessionId: session.id, title: session.title, kind: 'finished' });
  }
  return out;
}

export function notificationText(attention: Attention): { title: string; body: string } {
  switch (attention.kind) {
    case 'waiting':
      return { title: `${attention.title} waits for you`, body: 'Claude asks to run a tool: allow or deny it in Drover.' };
    case 'budget':
      return { title: `${attention.title} reached its budget`, body: 'Raise or remove the cap in Drover to let it continue.' };
    default:
      return { title: `${attention.title} finished`, body: 'Claude finished its turn.' };
  }
}

export const NOTIFY_STORAGE_KEY = 'drover.notify';

/** Whether the user turned desktop notifications on (and the page may show them). */
export function notificationsEnabled(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_STORAGE_KEY) === 'on';
}

/** Shows one desktop notification per transition; clicking it opens the session. */
export function notify(attention: Attention, open: (sessionId: string) => void): void {
  if (!notificationsEnabled()) return;
  const { title, body } = notificationText(attention);
  const shown = new Notification(title, { body, tag: `drover-${attention.sessionId}-${attention.kind}` });
  shown.onclick = () => {
    window.focus();
    open(attention.sessionId);
  };
}

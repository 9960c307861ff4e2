/**
 * Settings → Storage: the caps on checkpoint data (per session, overall) and the retention rule's N
 * (issue 20 item 5), and "Thin old checkpoints" with what it thinned and freed. Over a cap, a
 * session's old checkpoints are thinned (every checkpoint of its last N turns kept, then one per
 * turn, never one a branch needs); when that is not enough its checkpoints pause, which the
 * Storage section shows per session.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { formatBytes, type StorageUsage } from '#shared/storage';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { capText, parseCap, parseTurns } from './storage-model.ts';

export type StorageMessage = { tone: 'ok' | 'error'; text: string };

export function StorageLimits({
  transport,
  usage,
  busy,
  setBusy,
  show,
  say,
  refresh,
}: {
  transport: Transport;
  usage: StorageUsage | null;
  busy: boolean;
  setBusy: (busy: boolean) => void;
  show: (usage: StorageUsage) => void;
  say: (message: StorageMessage | null) => void;
  refresh: () => Promise<void>;
}) {
  const id = useId();
  const [sessionCap, setSessionCap] = useState('');
  const [totalCap, setTotalCap] = useState('');
  const [turns, setTurns] = useState('');
  const limits = usage?.limits ?? null;
  // The fields follow the limits in force when they change (not on every refresh, which would undo typing).
  const saved = limits === null ? null : JSON.stringify(limits);

  useEffect(() => {
    if (saved === null) return;
    const current = JSON.parse(saved) as NonNullable<typeof limits>;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the fields follow the limits the host answered with
    setSessionCap(capText(current.sessionCapBytes));
    setTotalCap(capText(current.totalCapBytes));
    setTurns(String(current.keepTurns));
  }, [saved]);

  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    const sessionCapBytes = parseCap(sessionCap);
    const totalCapBytes = parseCap(totalCap);
    const keepTurns = parseTurns(turns);
    if (sessionCapBytes === undefined || totalCapBytes === undefined || keepTurns === null) {
      say({
        tone: 'error',
        text: 'Give each cap as a size such as "5 GiB" or "500 MiB" (leave it empty for no cap), and the turns to keep whole as a whole number from 1.',
      });
      return;
    }
    setBusy(true);
    say(null);
    try {
      const next = await transport.call('storage-set-limits', { sessionCapBytes, totalCapBytes, keepTurns });
      show(next);
      const paused = next.sessions.filter((session) => session.capPaused !== null).length;
      say({
        tone: 'ok',
        text:
          paused === 0
            ? 'Saved. Sessions over a cap have had their old checkpoints thinned.'
            : `Saved. ${paused} ${paused === 1 ? 'session is' : 'sessions are'} still over a cap after thinning: their checkpoints are paused.`,
      });
    } catch (reason) {
      say({ tone: 'error', text: `Could not save the caps: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  async function thin(): Promise<void> {
    setBusy(true);
    say(null);
    try {
      const result = await transport.call('storage-thin', undefined);
      say({
        tone: 'ok',
        text:
          result.checkpoints === 0
            ? `Nothing to thin: every checkpoint is of the last ${limits?.keepTurns ?? 'N'} turns, its turn's last, or needed by a branch.`
            : `Thinned ${result.checkpoints} ${result.checkpoints === 1 ? 'checkpoint' : 'checkpoints'} in ${result.sessions} ${result.sessions === 1 ? 'session' : 'sessions'}, freed ${formatBytes(result.freedBytes)}.`,
      });
      await refresh();
    } catch (reason) {
      say({ tone: 'error', text: `Could not thin checkpoints: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <fieldset className="storage-limits" aria-describedby={`${id}-hint`}>
      <legend>Caps and retention</legend>
      <p id={`${id}-hint`} className="settings-hint">
        Over a cap, a session's older checkpoints are thinned: every checkpoint of its last N turns stays, then one per turn, and never one
        a fork or rewind needs. If that is not enough its checkpoints pause until there is room. Leave a cap empty for none.
      </p>
      <form className="settings-row" onSubmit={(event) => void save(event)}>
        <label htmlFor={`${id}-session`}>Cap per session</label>
        <input
          id={`${id}-session`}
          className="input"
          placeholder="no cap"
          value={sessionCap}
          onChange={(event) => setSessionCap(event.target.value)}
        />
        <label htmlFor={`${id}-total`}>Overall cap</label>
        <input
          id={`${id}-total`}
          className="input"
          placeholder="no cap"
          value={totalCap}
          onChange={(event) => setTotalCap(event.target.value)}
        />
        <label htmlFor={`${id}-turns`}>Keep every checkpoint of the last</label>
        <input id={`${id}-turns`} className="input" inputMode="numeric" value={turns} onChange={(event) => setTurns(event.target.value)} />
        <span>turns</span>
        <button type="submit" className="button" disabled={busy || usage === null}>
          Save caps
        </button>
      </form>
      <div className="settings-row">
        <button type="button" className="button" onClick={() => void thin()} disabled={busy || usage === null}>
          Thin old checkpoints
        </button>
        <span className="settings-hint">Applies the rule above to every session now, caps or not.</span>
      </div>
    </fieldset>
  );
}

/**
 * Settings → Guardrails: the default budget for new sessions (kept by the main process in the
 * data folder: `budget-default-get` / `budget-default-set`) and desktop notifications when a
 * session starts waiting for you or finishes (the permission is asked on this toggle: a user
 * gesture, as browsers require; remembered in localStorage).
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { NOTIFY_STORAGE_KEY, notificationsEnabled } from './attention.ts';
import { dollarsOf, parseBudgetDollars, withCostCap } from './budget-model.ts';
import type { Budget } from '#shared/guardrails';
import './guardrails.css';

export function GuardrailsSettings({ transport }: { transport: Transport }) {
  const id = useId();
  const [current, setCurrent] = useState<Budget | null | undefined>(undefined);
  const [text, setText] = useState('');
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [notifyOn, setNotifyOn] = useState(notificationsEnabled);

  useEffect(() => {
    let live = true;
    transport.call('budget-default-get', undefined).then(
      (budget) => {
        if (!live) return;
        setCurrent(budget);
        setText(dollarsOf(budget));
      },
      (reason: unknown) => {
        if (live) setMessage({ tone: 'error', text: `Could not read the default budget: ${messageOf(reason)}` });
      },
    );
    return () => {
      live = false;
    };
  }, [transport]);

  async function save(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const parsed = parseBudgetDollars(text);
    if (!parsed.ok) {
      setMessage({ tone: 'error', text: parsed.problem });
      return;
    }
    setBusy(true);
    try {
      const saved = await transport.call('budget-default-set', { budget: withCostCap(current ?? null, parsed.budget) });
      setCurrent(saved);
      setText(dollarsOf(saved));
      setMessage({
        tone: 'ok',
        text: saved === null ? 'New sessions get no budget.' : `New sessions get a budget of $${dollarsOf(saved) || '—'}.`,
      });
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not save the default budget: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  async function toggleNotify(on: boolean): Promise<void> {
    if (!on) {
      localStorage.setItem(NOTIFY_STORAGE_KEY, 'off');
      setNotifyOn(false);
      return;
    }
    if (typeof Notification === 'undefined') {
      setMessage({ tone: 'error', text: 'This window cannot show desktop notifications.' });
      return;
    }
    const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
    if (permission !== 'granted') {
      setMessage({
        tone: 'error',
        text: 'Notifications are blocked for Drover: allow them in your browser’s or system’s settings, then turn this on again.',
      });
      return;
    }
    localStorage.setItem(NOTIFY_STORAGE_KEY, 'on');
    setNotifyOn(true);
  }

  return (
    <section className="settings-section" aria-labelledby={`${id}-title`} data-testid="guardrails-settings">
      <h3 id={`${id}-title`}>Guardrails</h3>
      <form className="settings-row" onSubmit={(event) => void save(event)}>
        <label htmlFor={`${id}-budget`}>Default budget for new sessions (USD)</label>
        <input
          id={`${id}-budget`}
          className="input"
          value={text}
          onChange={(event) => setText(event.target.value)}
          inputMode="decimal"
          placeholder="none"
          disabled={current === undefined}
        />
        <button type="submit" className="button" disabled={busy || current === undefined}>
          Save
        </button>
      </form>
      <p className="launch-note">A launch that gives no budget gets this one; sessions already made keep theirs. Empty: no budget.</p>
      <label className="checkbox">
        <input type="checkbox" checked={notifyOn} onChange={(event) => void toggleNotify(event.target.checked)} /> Desktop notifications
        when a session waits for you or finishes
      </label>
      {message !== null && (
        <p className={message.tone === 'ok' ? 'notice' : 'notice notice-error'} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </section>
  );
}

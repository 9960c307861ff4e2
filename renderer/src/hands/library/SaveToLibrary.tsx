/**
 * "Save to library" on a hand of the Hands panel: its configuration, as attached, goes into the
 * hand library (Settings → Hands library) under a label the user may change, to attach again in
 * any session or at launch. The configuration holds vault ids only: nothing secret is saved.
 */
import { useId, useState, type FormEvent } from 'react';
import { describeLibraryHand } from '#shared/hand-library';
import type { HandConfig } from '#shared/hands';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { defaultLibraryLabel } from './use-hand-library.ts';

export function SaveToLibrary({ transport, name, config }: { transport: Transport; name: string; config: HandConfig }) {
  const [label, setLabel] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const id = useId();

  async function save(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (label === null || busy) return;
    setBusy(true);
    setMessage(null);
    try {
      await transport.call('hand-library-save', { label, hand: { name, config } });
      setMessage({ tone: 'ok', text: `Saved to the hand library as “${label.trim()}”.` });
      setLabel(null);
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not save ${name} to the library: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="hand-save">
      {label === null ? (
        <button
          type="button"
          className="button button-small button-quiet"
          onClick={() => {
            setMessage(null);
            setLabel(defaultLibraryLabel(name, describeLibraryHand(config)));
          }}
          aria-label={`Save ${name} to the hand library`}
          title="Keep this hand's configuration in Settings → Hands library, to attach it again in any session or at launch"
        >
          Save to library
        </button>
      ) : (
        <form className="hand-save-form" onSubmit={(event) => void save(event)} aria-label={`Save ${name} to the hand library`}>
          <label className="field-label" htmlFor={`${id}-label`}>
            Saved hand name
          </label>
          <input
            id={`${id}-label`}
            className="input"
            value={label}
            maxLength={80}
            onChange={(event) => setLabel(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.stopPropagation();
                setLabel(null);
              }
            }}
            autoFocus
          />
          <button type="submit" className="button button-small button-primary" disabled={busy || label.trim() === ''}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="button button-small button-quiet" onClick={() => setLabel(null)} disabled={busy}>
            Cancel
          </button>
        </form>
      )}
      {message !== null && (
        <p className={message.tone === 'ok' ? 'hand-save-note' : 'hands-error'} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </div>
  );
}

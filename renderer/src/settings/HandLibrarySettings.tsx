/**
 * Settings → Hands library (issue 23): the hand configurations saved from sessions ("Save to
 * library" on a hand of the Hands panel) — Docker presets, SSH machines, MCP servers — with what
 * each is, the secrets it uses by name (never a value; a secret no longer in the vault says so),
 * Rename and Delete, and "Add to library" (AddToLibrary.tsx: the Hands panel's forms for a Docker
 * preset, a machine or an MCP server). The launch dialog adds them to a new session; engines, which Docker presets
 * can run on, are listed for reference (they are kept in Engines below).
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { describeLibraryTarget, type HandLibraryItem } from '#shared/hand-library';
import type { EngineConfig } from '#shared/engines';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useHandLibrary } from '#renderer/hands/index.ts';
import { AddToLibrary } from './AddToLibrary.tsx';
import './hand-library.css';

const KIND_NAMES: Readonly<Record<HandLibraryItem['hand']['config']['kind'], string>> = {
  docker: 'Docker preset',
  ssh: 'Machine',
  mcp: 'MCP server',
};

export function HandLibrarySettings({ transport }: { transport: Transport }) {
  const id = useId();
  const library = useHandLibrary(transport);
  const [engines, setEngines] = useState<readonly EngineConfig[] | null>(null);
  const [renaming, setRenaming] = useState<{ id: string; label: string } | null>(null);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);

  useEffect(() => {
    transport.call('engines-list', undefined).then(setEngines, () => setEngines(null));
  }, [transport]);

  async function rename(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (renaming === null) return;
    try {
      await library.rename(renaming.id, renaming.label);
      setMessage({ tone: 'ok', text: `Renamed to “${renaming.label.trim()}”.` });
      setRenaming(null);
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not rename it: ${messageOf(reason)}` });
    }
  }

  async function remove(entry: HandLibraryItem): Promise<void> {
    if (
      !window.confirm(`Delete “${entry.label}” from the hand library? Sessions that use it keep their hand; its secrets stay in the vault.`)
    )
      return;
    try {
      await library.remove(entry.id);
      setMessage({ tone: 'ok', text: `Deleted “${entry.label}”.` });
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not delete “${entry.label}”: ${messageOf(reason)}` });
    }
  }

  const entries = library.listing?.entries ?? [];
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`} data-testid="hand-library">
      <h3 id={`${id}-title`}>Hands library</h3>
      <p className="settings-hint">
        Hands you saved from a session (“Save to library” in its Hands panel) or added here, to add to any new session from the launch
        dialog. They name their secrets; the values stay in the vault.
      </p>
      {library.loadError !== null && (
        <p className="notice notice-error" role="alert">
          Could not load the hand library: {library.loadError}
        </p>
      )}
      {library.listing?.error != null && (
        <p className="notice notice-error" role="alert">
          {library.listing.error}
        </p>
      )}
      {message !== null && (
        <p className={message.tone === 'ok' ? 'settings-hint' : 'notice notice-error'} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      {library.listing !== null && library.listing.error === null && entries.length === 0 && (
        <p className="settings-hint">Nothing saved yet.</p>
      )}
      {entries.length > 0 && (
        <table className="credentials hand-library-table" aria-label="Saved hands">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">What</th>
              <th scope="col">Secrets</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} aria-label={entry.label}>
                <th scope="row">
                  {renaming?.id === entry.id ? (
                    <form className="hand-library-rename" onSubmit={(event) => void rename(event)} aria-label={`Rename ${entry.label}`}>
                      <input
                        className="input"
                        aria-label="New name"
                        value={renaming.label}
                        maxLength={80}
                        onChange={(event) => setRenaming({ id: entry.id, label: event.target.value })}
                        onKeyDown={(event) => {
                          if (event.key === 'Escape') setRenaming(null);
                        }}
                        autoFocus
                      />
                      <button type="submit" className="button button-small button-primary" disabled={renaming.label.trim() === ''}>
                        Save
                      </button>
                    </form>
                  ) : (
                    entry.label
                  )}
                </th>
                <td>{KIND_NAMES[entry.hand.config.kind]}</td>
                <td>
                  <code>{entry.hand.name}</code> · {describeLibraryTarget(entry.hand.config)}
                </td>
                <td>
                  {entry.secrets.length === 0
                    ? 'None'
                    : entry.secrets.map((secret, index) => (
                        <span key={secret.id} className={secret.name === null ? 'hand-library-missing' : undefined}>
                          {index > 0 && ', '}
                          {secret.name ?? `a secret no longer in the vault (${secret.id})`}
                        </span>
                      ))}
                </td>
                <td className="credential-actions">
                  <button
                    type="button"
                    className="button button-small"
                    onClick={() => setRenaming({ id: entry.id, label: entry.label })}
                    aria-label={`Rename ${entry.label}`}
                  >
                    Rename
                  </button>
                  <button
                    type="button"
                    className="button button-small button-quiet"
                    onClick={() => void remove(entry)}
                    aria-label={`Delete ${entry.label}`}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(library.listing === null || library.listing.error === null) && (
        <AddToLibrary
          transport={transport}
          library={library}
          entries={entries}
          onAdded={(label) => setMessage({ tone: 'ok', text: `Added “${label}” to the library.` })}
        />
      )}
      {engines !== null && engines.length > 0 && (
        <p className="settings-hint">
          Engines Docker presets can run on: {engines.map((engine) => engine.name).join(', ')} (kept in Engines below).
        </p>
      )}
    </section>
  );
}

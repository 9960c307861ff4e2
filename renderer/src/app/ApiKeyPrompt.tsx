/**
 * First run: when no API key is set (none in the environment, none in the vault), a card at the
 * top of the window asks for one, stores it in the vault and tests it. It goes away once a key
 * works; the key itself never comes back to the page.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { ApiKeyStatus } from '#shared/vault';
import type { Transport } from '#renderer/client/transport.ts';
import { NO_VAULT_ADVICE } from '#renderer/ui/api-key.ts';
import { messageOf } from '#renderer/ui/errors.ts';

export function ApiKeyPrompt({ transport, onOpenSettings }: { transport: Transport; onOpenSettings: () => void }) {
  const [status, setStatus] = useState<ApiKeyStatus | null>(null);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [vaultReason, setVaultReason] = useState<string | null>(null);
  const inputId = useId();

  useEffect(() => {
    transport.call('api-key-status', undefined).then(setStatus, () => undefined);
    transport.call('vault-status', undefined).then(
      (vault) => setVaultReason(vault.available ? null : vault.reason),
      () => undefined,
    );
  }, [transport]);

  // Shown while there is no key, and after a stored key failed its test (so it can be fixed here).
  const needed = status !== null && (status.source === 'none' || (status.source === 'vault' && status.test?.ok === false));
  if (!needed) return null;

  async function save(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const next = await transport.call('api-key-set', { value: value.trim() });
      setValue('');
      if (next.test !== null && !next.test.ok) setError(next.test.message);
      setStatus(next);
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="api-key-prompt" role="region" aria-label="Add your API key" data-testid="api-key-prompt">
      {vaultReason !== null ? (
        // Nothing to paste into: a key could not be stored (Settings could not store it either).
        <div className="api-key-text">
          <strong>Claude needs an Anthropic API key, and Drover cannot store one here.</strong> {vaultReason}
          <p className="api-key-env">
            {NO_VAULT_ADVICE} For example: <code>ANTHROPIC_API_KEY=sk-ant-… npm run serve</code>
          </p>
        </div>
      ) : (
        <div className="api-key-text">
          <strong>Claude needs an Anthropic API key.</strong> Paste one from console.anthropic.com: Drover keeps it encrypted by your
          operating system and tests it now. (ANTHROPIC_API_KEY in the environment also works, and wins; the key is also in{' '}
          <button type="button" className="link" onClick={onOpenSettings}>
            Settings
          </button>
          .)
        </div>
      )}
      {vaultReason !== null ? null : (
        <form className="settings-row" onSubmit={(event) => void save(event)}>
          <label htmlFor={inputId} className="visually-hidden">
            Anthropic API key
          </label>
          <input
            id={inputId}
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="sk-ant-…"
            value={value}
            onChange={(event) => setValue(event.target.value)}
            disabled={busy}
          />
          <button type="submit" className="button button-primary" disabled={busy || value.trim() === ''}>
            {busy ? 'Saving and testing…' : 'Save and test'}
          </button>
        </form>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

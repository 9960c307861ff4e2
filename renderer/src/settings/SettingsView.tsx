/**
 * Settings: the Anthropic API key (set, replace, test — it shows where the key comes from, never
 * the key), the Credentials the vault holds (names, kinds, last use; add, replace, delete), and
 * the Local API for programs on this computer (LocalApiSettings.tsx).
 *
 * Values go one way only: typed here, sent once with create or replace, then cleared from the
 * page. Nothing the main process sends back contains a value — but a new Local API token, shown
 * once on purpose (LocalApiSettings.tsx).
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { SECRET_KINDS, type ApiKeyStatus, type SecretKind, type SecretMeta, type VaultStatus } from '#shared/vault';
import { formatFullTime, formatRelativeTime } from '#renderer/ui/format.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { GuardrailsSettings } from '#renderer/guardrails/index.ts';
import { LocalApiSettings } from './LocalApiSettings.tsx';
import { StorageSettings } from './StorageSettings.tsx';
import { EnginesSettings } from './EnginesSettings.tsx';
import { AppearanceSettings } from './AppearanceSettings.tsx';
import { HandLibrarySettings } from './HandLibrarySettings.tsx';

export const KIND_LABELS: Readonly<Record<SecretKind, string>> = {
  'anthropic-api-key': 'Anthropic API key',
  'git-token': 'Git token',
  'ssh-private-key': 'SSH private key',
  'ssh-passphrase': 'SSH key passphrase',
  password: 'Password',
  'http-header': 'HTTP header value',
  'tls-pem': 'TLS certificate or key (PEM)',
  token: 'Token',
};

export function SettingsView({ transport, onError }: { transport: Transport; onError: (reason: unknown) => void }) {
  const [vault, setVault] = useState<VaultStatus | null>(null);
  const [secrets, setSecrets] = useState<SecretMeta[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const status = await transport.call('vault-status', undefined);
      setVault(status);
      if (status.available) {
        setSecrets(await transport.call('secrets-list', undefined));
        setListError(null);
      }
    } catch (reason) {
      setListError(messageOf(reason));
    }
  }, [transport]);

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loads from the host: state is set when its answer arrives
    void refresh();
  }, [refresh]);

  return (
    <section className="settings" aria-labelledby="settings-title" data-testid="settings">
      <header className="session-header">
        <div className="session-heading">
          <h2 id="settings-title">Settings</h2>
          <p className="session-subtitle">
            Secrets are encrypted by your operating system and never shown again, sent to a hand, or written to a session.
          </p>
        </div>
      </header>
      <div className="settings-body">
        <AppearanceSettings />
        <ApiKeySection transport={transport} vault={vault} onChanged={() => void refresh()} />
        <GuardrailsSettings transport={transport} />
        <LocalApiSettings transport={transport} />
        <StorageSettings transport={transport} />
        <HandLibrarySettings transport={transport} />
        <EnginesSettings transport={transport} secrets={secrets} />
        <section className="settings-section" aria-labelledby="credentials-title">
          <h3 id="credentials-title">Credentials</h3>
          {vault !== null && !vault.available && (
            <p className="notice notice-warn" role="note">
              <strong>Secrets cannot be stored here.</strong> {vault.reason}
            </p>
          )}
          {vault?.available === true && <p className="settings-hint">Kept by {vault.backend}.</p>}
          {listError !== null && (
            <p className="notice notice-error" role="alert">
              {listError}
            </p>
          )}
          {secrets !== null && (
            <CredentialTable transport={transport} secrets={secrets} onChanged={() => void refresh()} onError={onError} />
          )}
          {vault?.available === true && <AddCredential transport={transport} onAdded={() => void refresh()} />}
        </section>
      </div>
    </section>
  );
}

function ApiKeySection({ transport, vault, onChanged }: { transport: Transport; vault: VaultStatus | null; onChanged: () => void }) {
  const [status, setStatus] = useState<ApiKeyStatus | null>(null);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();

  useEffect(() => {
    transport.call('api-key-status', undefined).then(setStatus, (reason: unknown) => setError(messageOf(reason)));
  }, [transport]);

  async function save(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (value.trim() === '' || busy !== null) return;
    setBusy('save');
    setError(null);
    try {
      setStatus(await transport.call('api-key-set', { value: value.trim() }));
      setValue('');
      onChanged();
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(null);
    }
  }

  async function test(): Promise<void> {
    setBusy('test');
    setError(null);
    try {
      setStatus(await transport.call('api-key-test', undefined));
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(null);
    }
  }

  const source = status?.source ?? null;
  return (
    <section className="settings-section" aria-labelledby="api-key-title" data-testid="api-key-settings">
      <h3 id="api-key-title">Anthropic API key</h3>
      <p className="settings-hint" data-testid="api-key-source">
        {source === null
          ? 'Checking…'
          : source === 'environment'
            ? 'In use: ANTHROPIC_API_KEY from the environment (it overrides a stored key).'
            : source === 'vault'
              ? 'In use: the key stored in the vault.'
              : 'No key yet: Claude cannot answer until you add one.'}
      </p>
      {status?.test != null && (
        <p className={`notice ${status.test.ok ? 'notice-ok' : 'notice-error'}`} role="status" data-testid="api-key-test">
          {status.test.message} <span className="settings-when">({formatRelativeTime(status.test.at)})</span>
        </p>
      )}
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <form className="settings-form" onSubmit={(event) => void save(event)}>
        <label htmlFor={inputId} className="field-label">
          {source === 'vault' ? 'Replace the stored key' : 'API key'}
        </label>
        <div className="settings-row">
          <input
            id={inputId}
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={value}
            onChange={(event) => setValue(event.target.value)}
            placeholder="sk-ant-…"
            disabled={busy !== null || vault?.available === false}
          />
          <button type="submit" className="button button-primary" disabled={busy !== null || value.trim() === ''}>
            {busy === 'save' ? 'Saving and testing…' : 'Save and test'}
          </button>
          <button type="button" className="button" onClick={() => void test()} disabled={busy !== null || source === 'none'}>
            {busy === 'test' ? 'Testing…' : 'Test'}
          </button>
        </div>
      </form>
    </section>
  );
}

function CredentialTable({
  transport,
  secrets,
  onChanged,
  onError,
}: {
  transport: Transport;
  secrets: SecretMeta[];
  onChanged: () => void;
  onError: (reason: unknown) => void;
}) {
  const [replacing, setReplacing] = useState<string | null>(null);
  if (secrets.length === 0)
    return (
      <p className="settings-hint">No credentials yet. Add a git token to let hands clone and push, or an SSH key for your machines.</p>
    );

  async function remove(secret: SecretMeta): Promise<void> {
    if (!window.confirm(`Delete “${secret.name}”? Hands and servers that use it will fail until you add it again.`)) return;
    try {
      await transport.call('secrets-delete', { id: secret.id });
      onChanged();
    } catch (reason) {
      onError(reason);
    }
  }

  return (
    <table className="credentials" aria-label="Stored credentials">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">Last used</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {secrets.map((secret) => (
          <tr key={secret.id} aria-label={secret.name}>
            <td>
              <span className="credential-name">{secret.name}</span>
              <code className="credential-id" title="Refer to this credential by its id">
                {secret.id}
              </code>
            </td>
            <td>{KIND_LABELS[secret.kind]}</td>
            <td title={secret.lastUsedAt === null ? undefined : formatFullTime(secret.lastUsedAt)}>
              {secret.lastUsedAt === null
                ? 'never'
                : `${formatRelativeTime(secret.lastUsedAt)}${secret.lastUsedFor === null ? '' : ` — ${secret.lastUsedFor}`}`}
            </td>
            <td className="credential-actions">
              {replacing === secret.id ? (
                <ReplaceForm
                  transport={transport}
                  secret={secret}
                  onDone={() => {
                    setReplacing(null);
                    onChanged();
                  }}
                  onCancel={() => setReplacing(null)}
                />
              ) : (
                <>
                  <button type="button" className="button button-small" onClick={() => setReplacing(secret.id)}>
                    Replace
                  </button>
                  <button
                    type="button"
                    className="button button-small button-quiet button-danger-quiet"
                    onClick={() => void remove(secret)}
                    aria-label={`Delete ${secret.name}`}
                  >
                    Delete
                  </button>
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReplaceForm({
  transport,
  secret,
  onDone,
  onCancel,
}: {
  transport: Transport;
  secret: SecretMeta;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setBusy(true);
    try {
      await transport.call('secrets-replace', { id: secret.id, value });
      onDone();
    } catch (reason) {
      setError(messageOf(reason));
      setBusy(false);
    }
  }
  return (
    <form className="settings-row" onSubmit={(event) => void submit(event)} aria-label={`Replace ${secret.name}`}>
      <input
        className="input"
        type="password"
        autoComplete="off"
        aria-label={`New value for ${secret.name}`}
        value={value}
        onChange={(event) => setValue(event.target.value)}
        autoFocus
        disabled={busy}
      />
      <button type="submit" className="button button-small button-primary" disabled={busy || value === ''}>
        Save
      </button>
      <button type="button" className="button button-small button-quiet" onClick={onCancel}>
        Cancel
      </button>
      {error !== null && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function AddCredential({ transport, onAdded }: { transport: Transport; onAdded: () => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SecretKind>('git-token');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await transport.call('secrets-create', { name, kind, value });
      setName('');
      setValue('');
      onAdded();
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="settings-form add-credential" onSubmit={(event) => void submit(event)} aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`}>Add a credential</h4>
      <div className="settings-grid">
        <div className="field">
          <label className="field-label" htmlFor={`${id}-name`}>
            Name
          </label>
          <input
            id={`${id}-name`}
            className="input"
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="GitHub token (work)"
            maxLength={100}
            disabled={busy}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-kind`}>
            Kind
          </label>
          <select
            id={`${id}-kind`}
            className="input"
            value={kind}
            onChange={(event) => setKind(event.target.value as SecretKind)}
            disabled={busy}
          >
            {SECRET_KINDS.map((option) => (
              <option key={option} value={option}>
                {KIND_LABELS[option]}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-value`}>
            Value
          </label>
          {kind === 'ssh-private-key' || kind === 'tls-pem' ? (
            <textarea
              id={`${id}-value`}
              className="input"
              rows={4}
              value={value}
              onChange={(event) => setValue(event.target.value)}
              spellCheck={false}
              disabled={busy}
            />
          ) : (
            <input
              id={`${id}-value`}
              className="input"
              type="password"
              autoComplete="off"
              value={value}
              onChange={(event) => setValue(event.target.value)}
              spellCheck={false}
              disabled={busy}
            />
          )}
        </div>
      </div>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={busy || name.trim() === '' || value === ''}>
        {busy ? 'Saving…' : 'Save credential'}
      </button>
    </form>
  );
}

/**
 * Settings → Engines (issue 22): the Docker engines Docker hands can run on — this computer's
 * (always there; only its labels change) and engines of other machines, `ssh://user@host` (the
 * engine's socket over SSH, a key from the vault, the host key confirmed here as for SSH hands)
 * or `tcp://host:2376` with TLS (CA, certificate and key from the vault). "Test" shows the engine's
 * version, OS/arch, CPUs, memory and images, or why it cannot be reached. Labels are what a hand's
 * requirements can ask for.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { formatBytes } from '#shared/storage';
import type { EngineConfig, EngineTestResult } from '#shared/engines';
import type { SecretMeta } from '#shared/vault';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { EMPTY_FORM, engineFromForm, formOf, secretChoices, whereOf, type EngineForm } from './engines-model.ts';

type Message = { tone: 'ok' | 'error'; text: string };

export function EnginesSettings({ transport, secrets }: { transport: Transport; secrets: readonly SecretMeta[] | null }) {
  const id = useId();
  const [engines, setEngines] = useState<EngineConfig[] | null>(null);
  const [tests, setTests] = useState<Record<string, EngineTestResult | 'testing'>>({});
  const [form, setForm] = useState<EngineForm>(EMPTY_FORM);
  const [editingLocal, setEditingLocal] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    try {
      setEngines(await transport.call('engines-list', undefined));
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not list the engines: ${messageOf(reason)}` });
    }
  }, [transport]);

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loads from the host: state is set when its answer arrives
    void refresh();
  }, [refresh]);

  async function test(engine: EngineConfig): Promise<void> {
    setTests((current) => ({ ...current, [engine.id]: 'testing' }));
    try {
      const result = await transport.call('engines-test', { engine });
      setTests((current) => ({ ...current, [engine.id]: result }));
    } catch (reason) {
      setTests((current) => {
        const next = { ...current };
        delete next[engine.id];
        return next;
      });
      setMessage({ tone: 'error', text: `Could not test ${engine.name}: ${messageOf(reason)}` });
    }
  }

  async function trust(engine: EngineConfig, result: EngineTestResult): Promise<void> {
    if (!result.host_key) return;
    try {
      await transport.call('ssh-trust-host', { hostKey: result.host_key });
      await test(engine);
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not trust the host key: ${messageOf(reason)}` });
    }
  }

  async function remove(engine: EngineConfig): Promise<void> {
    setMessage(null);
    try {
      setEngines(await transport.call('engines-remove', { id: engine.id }));
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not remove ${engine.name}: ${messageOf(reason)}` });
    }
  }

  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    const made = engineFromForm(form, editingLocal);
    if ('error' in made) {
      setMessage({ tone: 'error', text: made.error });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      setEngines(await transport.call('engines-put', { engine: made.engine }));
      setForm(EMPTY_FORM);
      setEditingLocal(false);
      setMessage({ tone: 'ok', text: `Saved ${made.engine.name}. Use Test to check Drover reaches it.` });
    } catch (reason) {
      setMessage({ tone: 'error', text: `Could not save the engine: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  const field = (key: keyof EngineForm, label: string, placeholder = '', wide = false) => (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label className="field-label" htmlFor={`${id}-${key}`}>
        {label}
      </label>
      <input
        id={`${id}-${key}`}
        className="input"
        value={form[key]}
        placeholder={placeholder}
        onChange={(event) => setForm({ ...form, [key]: event.target.value })}
        disabled={busy || (editingLocal && key !== 'labels' && key !== 'name')}
      />
    </div>
  );
  const secretField = (
    key: 'keySecret' | 'caSecret' | 'certSecret' | 'tlsKeySecret',
    label: string,
    kind: 'ssh-private-key' | 'tls-pem',
  ) => (
    <div className="field">
      <label className="field-label" htmlFor={`${id}-${key}`}>
        {label}
      </label>
      <select
        id={`${id}-${key}`}
        className="input"
        value={form[key]}
        onChange={(event) => setForm({ ...form, [key]: event.target.value })}
        disabled={busy}
      >
        <option value="">Choose from the vault…</option>
        {secretChoices(secrets, kind).map((secret) => (
          <option key={secret.id} value={secret.id}>
            {secret.name}
          </option>
        ))}
      </select>
    </div>
  );
  const kind = form.url.trim().startsWith('ssh://') ? 'ssh' : form.url.trim().startsWith('tcp://') ? 'tcp' : null;

  return (
    <section className="settings-section" aria-labelledby={`${id}-title`} data-testid="engines-settings">
      <h3 id={`${id}-title`}>Engines</h3>
      <p className="settings-hint">
        Docker hands run on this computer's Docker unless they name another engine, or state requirements (architecture, CPUs, memory, a
        GPU, labels) that Drover matches to an engine. Secrets stay in the vault.
      </p>
      {engines === null ? (
        <p className="settings-hint">Loading…</p>
      ) : (
        <table className="credentials engines" data-testid="engines-list">
          <thead>
            <tr>
              <th>Engine</th>
              <th>Where</th>
              <th>Labels</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {engines.map((engine) => {
              const result = tests[engine.id];
              return (
                <tr key={engine.id} data-testid={`engine-${engine.id}`}>
                  <td>
                    {engine.name} <span className="settings-hint">({engine.id})</span>
                    {result === 'testing' && <p className="settings-hint">Testing…</p>}
                    {result !== undefined && result !== 'testing' && (
                      <TestOutcome result={result} onTrust={() => void trust(engine, result)} />
                    )}
                  </td>
                  <td>{whereOf(engine)}</td>
                  <td>{engine.labels.join(', ') || '—'}</td>
                  <td className="settings-row">
                    <button type="button" className="button" onClick={() => void test(engine)} disabled={result === 'testing'}>
                      Test
                    </button>
                    <button
                      type="button"
                      className="button"
                      onClick={() => {
                        setForm(formOf(engine));
                        setEditingLocal(engine.kind === 'local');
                      }}
                    >
                      Edit
                    </button>
                    {engine.kind !== 'local' && (
                      <button type="button" className="button" onClick={() => void remove(engine)}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <form className="settings-form" onSubmit={(event) => void save(event)} aria-labelledby={`${id}-form-title`}>
        <h4 id={`${id}-form-title`}>{editingLocal ? "This computer's engine" : form.id === '' ? 'Add an engine' : `Edit ${form.id}`}</h4>
        <div className="settings-grid">
          {!editingLocal && field('id', 'Id (what hands name)', 'gpu-box')}
          {field('name', 'Name', 'GPU box in the lab')}
          {!editingLocal && field('url', 'URL', 'ssh://me@gpu-box or tcp://gpu-box:2376', true)}
          {field('labels', 'Labels', 'gpu, lab', !editingLocal)}
          {!editingLocal && kind === 'ssh' && secretField('keySecret', 'SSH private key', 'ssh-private-key')}
          {!editingLocal && kind === 'ssh' && field('socketPath', 'Engine socket there', '/var/run/docker.sock')}
          {!editingLocal && kind === 'tcp' && secretField('caSecret', 'CA certificate', 'tls-pem')}
          {!editingLocal && kind === 'tcp' && secretField('certSecret', 'Client certificate', 'tls-pem')}
          {!editingLocal && kind === 'tcp' && secretField('tlsKeySecret', 'Client key', 'tls-pem')}
        </div>
        {message !== null && (
          <p className={`notice ${message.tone === 'ok' ? 'notice-ok' : 'notice-error'}`} role={message.tone === 'ok' ? 'status' : 'alert'}>
            {message.text}
          </p>
        )}
        <div className="settings-row">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save engine'}
          </button>
          {(form.id !== '' || editingLocal) && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setForm(EMPTY_FORM);
                setEditingLocal(false);
              }}
            >
              Cancel
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

function TestOutcome({ result, onTrust }: { result: EngineTestResult; onTrust: () => void }) {
  return (
    <div className={`notice ${result.ok ? 'notice-ok' : 'notice-error'}`} role={result.ok ? 'status' : 'alert'}>
      <p>{result.message}</p>
      {result.ok && result.memory_bytes !== null && (
        <p className="settings-hint">
          {result.arch} · {result.cpus} CPUs · {formatBytes(result.memory_bytes)} · {result.images} images
          {result.latency_ms !== null ? ` · ${result.latency_ms} ms` : ''}
        </p>
      )}
      {result.trust === 'unknown' && result.host_key && (
        <p>
          Host key {result.host_key.algorithm} <code>{result.host_key.fingerprint}</code>{' '}
          <button type="button" className="button" onClick={onTrust}>
            Trust this host key
          </button>
        </p>
      )}
    </div>
  );
}

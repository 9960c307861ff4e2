/**
 * Settings → Local API → Environment keys: each self_hosted environment with its key's last 4
 * characters; Make key / Rotate key (the old one stops working at once) and Revoke.
 *
 * A new key is shown once, in the answer to the user's own click (`environment-key-make`), with
 * Copy; it lives only in this dialog's state and is dropped on "Done" (or when Settings closes).
 * The list never carries a key.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { EnvironmentKeyInfo } from '#shared/workers';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { keyLineOf, workerSnippet } from './environment-keys-model.ts';

type Message = { tone: 'ok' | 'error'; text: string };

export function EnvironmentKeys({ transport, baseURL }: { transport: Transport; baseURL: string }) {
  const id = useId();
  const [keys, setKeys] = useState<readonly EnvironmentKeyInfo[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  /** The key just made, for its environment only, until "Done". */
  const [made, setMade] = useState<{ environmentId: string; key: string } | null>(null);
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const keyRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let live = true;
    transport.call('environment-keys-list', undefined).then(
      (list) => {
        if (live) setKeys(list);
      },
      (reason: unknown) => {
        if (live) setMessage({ tone: 'error', text: `Could not list the self-hosted environments: ${messageOf(reason)}` });
      },
    );
    return () => {
      live = false;
    };
  }, [transport]);

  useEffect(() => {
    if (made !== null) {
      keyRef.current?.focus();
      keyRef.current?.select();
    }
  }, [made]);

  const replace = (info: EnvironmentKeyInfo) =>
    setKeys((current) => (current ?? []).map((each) => (each.environment_id === info.environment_id ? info : each)));

  async function make(info: EnvironmentKeyInfo): Promise<void> {
    if (info.hint !== null && !window.confirm(`Make a new key for “${info.name}”? Workers using the current one are refused at once.`))
      return;
    setBusy(info.environment_id);
    setCopied(null);
    try {
      const answer = await transport.call('environment-key-make', { environmentId: info.environment_id });
      replace(answer.info);
      setMade({ environmentId: info.environment_id, key: answer.key });
      setMessage(null);
    } catch (reason) {
      setMessage({ tone: 'error', text: `No key was made for “${info.name}”: ${messageOf(reason)}` });
    } finally {
      setBusy(null);
    }
  }

  async function revoke(info: EnvironmentKeyInfo): Promise<void> {
    if (!window.confirm(`Revoke the key of “${info.name}”? Its workers are refused from their next request.`)) return;
    setBusy(info.environment_id);
    try {
      replace(await transport.call('environment-key-revoke', { environmentId: info.environment_id }));
      if (made?.environmentId === info.environment_id) setMade(null);
      setMessage({ tone: 'ok', text: `The key of “${info.name}” is revoked: its workers are refused.` });
    } catch (reason) {
      setMessage({ tone: 'error', text: `The key of “${info.name}” was not revoked: ${messageOf(reason)}` });
    } finally {
      setBusy(null);
    }
  }

  function copy(key: string): void {
    // Inside the promise: without a clipboard (an insecure context) the call itself throws.
    Promise.resolve()
      .then(() => navigator.clipboard.writeText(key))
      .then(
        () => setCopied('copied'),
        () => {
          setCopied('failed');
          keyRef.current?.select();
        },
      );
  }

  return (
    <div className="environment-keys" data-testid="environment-keys">
      <h4 id={`${id}-title`}>Environment keys</h4>
      <p className="settings-hint">
        A self-hosted environment runs its sessions’ tools on a machine of yours: the SDK’s worker there polls Drover with the environment’s
        key. Each key is shown once; Drover keeps only a hash.
      </p>
      {message !== null && (
        <p className={message.tone === 'ok' ? 'notice notice-ok' : 'notice notice-error'} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      {keys !== null && keys.length === 0 && (
        <p className="settings-hint">
          No self-hosted environments yet: a program makes one with environments.create({'{'} config: {'{'} type: 'self_hosted' {'}'} {'}'}
          ).
        </p>
      )}
      {keys !== null && keys.length > 0 && (
        <ul className="environment-keys-list" aria-labelledby={`${id}-title`}>
          {keys.map((info) => (
            <li key={info.environment_id} aria-label={`Environment ${info.name}`}>
              <div className="settings-row">
                <strong>{info.name}</strong> <code>{info.environment_id}</code>
                <span className="settings-hint" data-testid="environment-key-hint">
                  {keyLineOf(info)}
                </span>
                <button type="button" className="button button-small" onClick={() => void make(info)} disabled={busy !== null}>
                  {info.hint === null ? 'Make key' : 'Rotate key'}
                </button>
                {info.hint !== null && (
                  <button
                    type="button"
                    className="button button-small button-quiet"
                    onClick={() => void revoke(info)}
                    disabled={busy !== null}
                  >
                    Revoke
                  </button>
                )}
              </div>
              {made?.environmentId === info.environment_id && (
                <div className="local-api-new-token" role="group" aria-label={`The new key of ${info.name}, shown once`}>
                  <label htmlFor={`${id}-key`}>New key</label>
                  <div className="settings-row">
                    <input
                      id={`${id}-key`}
                      ref={keyRef}
                      className="input local-api-token"
                      value={made.key}
                      readOnly
                      spellCheck={false}
                      aria-describedby={`${id}-once`}
                    />
                    <button type="button" className="button button-primary" onClick={() => copy(made.key)}>
                      {copied === 'copied' ? 'Copied' : 'Copy'}
                    </button>
                    <button
                      type="button"
                      className="button button-quiet"
                      onClick={() => {
                        setMade(null);
                        setCopied(null);
                      }}
                    >
                      Done
                    </button>
                  </div>
                  <p id={`${id}-once`} className="settings-hint" role="status">
                    {copied === 'failed'
                      ? 'The clipboard refused it: the key is selected — copy it with the keyboard.'
                      : 'Copy it now: it will not be shown again. Whoever has it can run this environment’s tools.'}
                  </p>
                  <pre className="local-api-snippet" aria-label="Worker example">
                    <code>{workerSnippet(baseURL, info.environment_id)}</code>
                  </pre>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

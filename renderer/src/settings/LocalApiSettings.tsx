/**
 * Settings → Local API: the Managed Agents API served on this computer, for programs using the
 * official Anthropic SDK. Off by default; a switch, the port, the base URL, the image cloud
 * environments run when their metadata names none, the token's last characters, "Create new
 * token" and the SDK snippet.
 *
 * A new token is the one secret this page ever receives (`local-api-rotate-token`): it is shown
 * once, with Copy, and dropped from the page on "Done" or when Settings closes. The status only
 * ever carries its last 4 characters.
 */
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { LocalApiStatus } from '#shared/local-api';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { baseUrlOf, parseImage, parsePort, sdkSnippet } from './local-api-model.ts';
import { EnvironmentKeys } from './EnvironmentKeys.tsx';

type Message = { tone: 'ok' | 'error'; text: string };

export function LocalApiSettings({ transport }: { transport: Transport }) {
  const id = useId();
  const [status, setStatus] = useState<LocalApiStatus | null>(null);
  const [portText, setPortText] = useState('');
  const [imageText, setImageText] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const [newToken, setNewToken] = useState<string | null>(null);
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const portRef = useRef<HTMLInputElement>(null);
  const imageRef = useRef<HTMLInputElement>(null);
  const tokenRef = useRef<HTMLInputElement>(null);
  const createRef = useRef<HTMLButtonElement>(null);

  const show = useCallback((next: LocalApiStatus) => {
    setStatus(next);
    setPortText(String(next.port));
    setImageText(next.environment_image);
  }, []);

  useEffect(() => {
    let live = true;
    transport.call('local-api-status', undefined).then(
      (next) => {
        if (live) show(next);
      },
      (reason: unknown) => {
        if (live) setMessage({ tone: 'error', text: `Could not read the Local API's settings: ${messageOf(reason)}` });
      },
    );
    return () => {
      live = false;
    };
  }, [transport, show]);

  const focusCreate = useRef(false);
  useEffect(() => {
    // The new token takes the focus, selected: ready for Copy or the keyboard; "Done" gives it back to the button.
    if (newToken !== null) {
      tokenRef.current?.focus();
      tokenRef.current?.select();
    } else if (focusCreate.current) {
      focusCreate.current = false;
      createRef.current?.focus();
    }
  }, [newToken]);

  async function apply(enabled: boolean): Promise<void> {
    const port = parsePort(portText);
    if (!port.ok) {
      setMessage({ tone: 'error', text: port.problem });
      portRef.current?.focus();
      return;
    }
    // Turned on for the first time: the token it gets is shown at once, so the user has one.
    const firstToken = enabled && status?.tokenHint == null;
    setBusy(true);
    try {
      const next = await transport.call('local-api-configure', { enabled, port: port.port });
      show(next);
      setMessage({
        tone: 'ok',
        text: next.running ? `On: programs on this computer reach Drover at ${next.baseURL ?? ''}.` : 'Off: nothing listens.',
      });
    } catch (reason) {
      setMessage({ tone: 'error', text: messageOf(reason) });
      portRef.current?.focus();
      return;
    } finally {
      setBusy(false);
    }
    if (firstToken) await createToken(false);
  }

  function savePort(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void apply(status?.enabled ?? false);
  }

  async function saveImage(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (status === null) return;
    const image = parseImage(imageText);
    if (!image.ok) {
      setMessage({ tone: 'error', text: image.problem });
      imageRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      // The switch and the port as they are in force: only the image changes.
      const next = await transport.call('local-api-configure', {
        enabled: status.enabled,
        port: status.port,
        environment_image: image.image,
      });
      show(next);
      setMessage({ tone: 'ok', text: `Saved: sessions created from now on run ${next.environment_image} in cloud environments.` });
    } catch (reason) {
      setMessage({ tone: 'error', text: `The image was not saved: ${messageOf(reason)}` });
      imageRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  async function createToken(clearMessage = true): Promise<void> {
    setBusy(true);
    setCopied(null);
    try {
      const made = await transport.call('local-api-rotate-token', undefined);
      setStatus(made.status);
      setNewToken(made.token);
      if (clearMessage) setMessage(null);
    } catch (reason) {
      setMessage({ tone: 'error', text: `No new token was made: ${messageOf(reason)}` });
    } finally {
      setBusy(false);
    }
  }

  function copyToken(token: string): void {
    // Inside the promise: without a clipboard (an insecure context) the call itself throws.
    Promise.resolve()
      .then(() => navigator.clipboard.writeText(token))
      .then(
        () => setCopied('copied'),
        () => {
          setCopied('failed');
          tokenRef.current?.select();
        },
      );
  }

  function done(): void {
    focusCreate.current = true;
    setNewToken(null);
    setCopied(null);
  }

  const enabled = status?.enabled ?? false;
  const parsed = parsePort(portText);
  const parsedImage = parseImage(imageText);
  const baseURL = baseUrlOf(status, parsed.ok ? parsed.port : (status?.port ?? 0));

  return (
    <section className="settings-section" aria-labelledby={`${id}-title`} data-testid="local-api-settings">
      <h3 id={`${id}-title`}>Local API</h3>
      <p className="settings-hint">
        Programs on this computer can drive Drover with the official Anthropic SDK (the Managed Agents API): scripts, CI jobs, anything
        written for the hosted service. Only this computer can connect, and only with the token.
      </p>
      <div className="settings-row local-api-switch-row">
        <button
          type="button"
          role="switch"
          className="local-api-switch"
          aria-checked={enabled}
          aria-label="Local API"
          aria-describedby={`${id}-state`}
          onClick={() => void apply(!enabled)}
          disabled={busy || status === null}
        >
          <span className="local-api-switch-track" aria-hidden="true">
            <span className="local-api-switch-thumb" />
          </span>
          <span className="local-api-switch-label">Local API</span>
          <span className="local-api-switch-text">{enabled ? 'On' : 'Off'}</span>
        </button>
        <span id={`${id}-state`} className="settings-hint local-api-state" data-testid="local-api-state">
          {status === null
            ? 'Loading…'
            : status.running
              ? `Listening at ${status.baseURL ?? ''}`
              : status.enabled
                ? 'Not running (see below).'
                : 'Off: nothing listens.'}
        </span>
      </div>
      {status?.error != null && (
        <p className="notice notice-error" role="alert">
          The Local API is on but not running: {status.error}
        </p>
      )}
      <form className="settings-row local-api-port" onSubmit={savePort}>
        <label htmlFor={`${id}-port`}>Port</label>
        <input
          id={`${id}-port`}
          ref={portRef}
          className="input local-api-port-input"
          value={portText}
          onChange={(event) => setPortText(event.target.value)}
          inputMode="numeric"
          aria-invalid={!parsed.ok}
          aria-describedby={`${id}-url`}
          disabled={status === null}
        />
        <button type="submit" className="button" disabled={busy || status === null}>
          {enabled ? 'Move to this port' : 'Save port'}
        </button>
        <span id={`${id}-url`} className="settings-hint">
          Base URL: <code data-testid="local-api-base-url">{baseURL}</code>
        </span>
      </form>
      <form className="settings-row local-api-image" onSubmit={(event) => void saveImage(event)}>
        <label htmlFor={`${id}-image`}>Image for cloud environments</label>
        <input
          id={`${id}-image`}
          ref={imageRef}
          className="input local-api-image-input"
          value={imageText}
          onChange={(event) => setImageText(event.target.value)}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={!parsedImage.ok}
          aria-describedby={`${id}-image-hint`}
          disabled={status === null}
        />
        <button type="submit" className="button" disabled={busy || status === null}>
          Save image
        </button>
        <span id={`${id}-image-hint`} className="settings-hint" data-testid="local-api-image">
          {status === null
            ? ''
            : `Sessions run ${status.environment_image} in a cloud environment whose metadata names no image ("drover.image"). It must be on this computer or pullable.`}
        </span>
      </form>
      {message !== null && (
        <p className={message.tone === 'ok' ? 'notice notice-ok' : 'notice notice-error'} role={message.tone === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      <h4>Token</h4>
      <p className="settings-hint" data-testid="local-api-token-hint">
        {status?.tokenHint == null
          ? 'No token yet: create one to let a program in.'
          : `The token in use ends in …${status.tokenHint}. Lost it? Create a new one: the current one stops working at once.`}
      </p>
      {newToken === null ? (
        <button ref={createRef} type="button" className="button" onClick={() => void createToken()} disabled={busy || status === null}>
          Create new token
        </button>
      ) : (
        <div className="local-api-new-token" role="group" aria-label="Your new token, shown once">
          <label htmlFor={`${id}-token`}>New token</label>
          <div className="settings-row">
            <input
              id={`${id}-token`}
              ref={tokenRef}
              className="input local-api-token"
              value={newToken}
              readOnly
              spellCheck={false}
              aria-describedby={`${id}-once`}
            />
            <button type="button" className="button button-primary" onClick={() => copyToken(newToken)}>
              {copied === 'copied' ? 'Copied' : 'Copy'}
            </button>
            <button type="button" className="button button-quiet" onClick={done}>
              Done
            </button>
          </div>
          <p id={`${id}-once`} className="settings-hint" role="status">
            {copied === 'failed'
              ? 'The clipboard refused it: the token is selected — copy it with the keyboard.'
              : 'Copy it now: it will not be shown again. Keep it private — whoever has it can drive Drover.'}
          </p>
        </div>
      )}
      <EnvironmentKeys transport={transport} baseURL={baseURL} />
      <h4>Use it from a program</h4>
      <pre className="local-api-snippet" aria-label="SDK example" data-testid="local-api-snippet">
        <code>{sdkSnippet(baseURL)}</code>
      </pre>
    </section>
  );
}

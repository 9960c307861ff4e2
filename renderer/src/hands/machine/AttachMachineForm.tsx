/**
 * "Attach a machine": a personal computer reached over SSH as a hand. Name, host, port, user,
 * how to log in (a key or a password from the vault, or ssh-agent), an optional jump host, the
 * working folder and file snapshots; hosts of ~/.ssh/config fill the fields. "Test connection"
 * shows the OS, the latency and each host key; a first key must be checked and trusted, and a
 * changed key is refused with a warning. Attaching needs a test with trusted keys for exactly the
 * settings shown. Secrets are chosen by id: no key or password ever reaches this page.
 */
import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { attachFormKeys, useFocusFirstProblem, HandNameField, type AttachFormProps } from '#renderer/hands/attach-form.tsx';
import type { HostKey, SshHandConfig, SshTestResult } from '#shared/hands';
import type { SshConfigHost, SshConfigListing } from '#shared/ssh';
import type { SecretMeta } from '#shared/vault';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import {
  attachVerdict,
  configKey,
  draftFromConfigHost,
  emptyMachineDraft,
  machineConfigOf,
  nextFreeMachineName,
  placeMachineIssues,
  SECRET_KINDS_FOR,
  sameAuthAs,
  secretChoices,
  type AuthMethod,
  type EndpointDraft,
  type MachineDraft,
  type MachineProblems,
} from './machine-form.ts';
import { SecretSelect } from '#renderer/ui/SecretSelect.tsx';
import { RpcCallError, type Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useCredentials } from '#renderer/hands/useHands.ts';
import './machine.css';

export type AttachMachineFormProps = AttachFormProps;

type TestState =
  | { state: 'idle' }
  | { state: 'testing'; message: string }
  | { state: 'done'; result: SshTestResult; key: string }
  | { state: 'error'; message: string };

export function AttachMachineForm({ transport, existingNames, onAttach, onClose }: AttachMachineFormProps) {
  const [draft, setDraft] = useState<MachineDraft>(() => emptyMachineDraft(nextFreeMachineName(existingNames)));
  const listed = useCredentials(transport);
  const [imported, setImported] = useState<readonly SecretMeta[]>([]);
  const credentials = useMemo(() => (listed === null && imported.length === 0 ? null : [...(listed ?? []).filter((secret) => !imported.some((mine) => mine.id === secret.id)), ...imported]), [listed, imported]);
  const configHosts = useSshConfigHosts(transport);
  const [chosenHost, setChosenHost] = useState<SshConfigHost | null>(null);
  const [test, setTest] = useState<TestState>({ state: 'idle' });
  const [problems, setProblems] = useState<MachineProblems>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'attaching' | 'importing' | 'trusting' | null>(null);
  const [attempts, setAttempts] = useState(0);
  const id = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const resultRef = useRef<HTMLDivElement>(null);

  const current = useMemo(() => machineConfigOf(draft, existingNames), [draft, existingNames]);
  const currentKey = current.config === null ? null : configKey(current.config);
  const verdict = attachVerdict(test.state === 'done' ? test.result : null, test.state === 'done' ? test.key : null, currentKey);
  const testing = test.state === 'testing';

  useFocusFirstProblem(formRef, attempts);

  useEffect(() => {
    if (test.state === 'done' || test.state === 'error') resultRef.current?.scrollIntoView({ block: 'nearest' });
  }, [test.state]);

  function change(next: MachineDraft): void {
    setDraft(next);
    if (Object.keys(problems).length > 0) {
      const still = machineConfigOf(next, existingNames).problems ?? {};
      setProblems((shown) => Object.fromEntries(Object.entries(shown).filter(([field]) => field in still)));
    }
  }

  /** The configuration to test or attach, or null with its problems shown. */
  function checked(): SshHandConfig | null {
    if (current.problems !== null) {
      setProblems(current.problems);
      setAttempts((count) => count + 1);
      return null;
    }
    setProblems({});
    return current.config;
  }

  async function runTest(config: SshHandConfig | null = checked()): Promise<void> {
    if (config === null || testing) return;
    setError(null);
    const target = `${config.user}@${config.host}${config.port === 22 ? '' : `:${config.port}`}`;
    setTest({ state: 'testing', message: config.jump === null ? `Connecting to ${target}…` : `Connecting to ${target} through ${config.jump.host}…` });
    try {
      const result = await transport.call('ssh-test-connection', { config });
      setTest({ state: 'done', result, key: configKey(config) });
    } catch (reason) {
      setTest({ state: 'error', message: messageOf(reason) });
    }
  }

  async function trust(hostKey: HostKey): Promise<void> {
    setBusy('trusting');
    setError(null);
    try {
      await transport.call('ssh-trust-host', { hostKey });
    } catch (reason) {
      setError(`Could not trust ${hostKey.host}: ${messageOf(reason)}`);
      setBusy(null);
      return;
    }
    setBusy(null);
    await runTest();
  }

  async function forget(hostKey: HostKey): Promise<void> {
    if (!window.confirm(`Forget the trusted key of ${hostKey.host}? Only do this if you know why its key changed. The next test shows the new key to check.`)) return;
    setBusy('trusting');
    setError(null);
    try {
      await transport.call('ssh-forget-host', { host: hostKey.host, port: hostKey.port });
    } catch (reason) {
      setError(`Could not forget the key of ${hostKey.host}: ${messageOf(reason)}`);
      setBusy(null);
      return;
    }
    setBusy(null);
    await runTest();
  }

  async function attach(): Promise<void> {
    const config = checked();
    if (config === null || busy !== null) return;
    if (!verdict.ready) {
      setError(verdict.reason);
      return;
    }
    setBusy('attaching');
    setError(null);
    try {
      await onAttach({ name: draft.name.trim(), config });
      onClose();
    } catch (reason) {
      if (reason instanceof RpcCallError && reason.issues !== undefined && reason.issues.length > 0) {
        const placed = placeMachineIssues(reason.issues);
        setProblems(placed.fields);
        setError(placed.general.length > 0 || Object.keys(placed.fields).length === 0 ? reason.message : null);
        setAttempts((count) => count + 1);
      } else {
        setError(messageOf(reason));
      }
      setBusy(null);
    }
  }

  async function importKey(host: SshConfigHost, fileName: string): Promise<void> {
    setBusy('importing');
    setError(null);
    try {
      const meta = await transport.call('ssh-import-key', { alias: host.alias, name: `${fileName} (${host.alias})` });
      setImported((list) => [...list, meta]);
      change({ ...draft, target: { ...draft.target, auth: 'key', keyId: meta.id }, jump: draft.useJump && draft.jump.keyId === '' ? { ...draft.jump, keyId: meta.id } : draft.jump });
    } catch (reason) {
      setError(`Could not import ${fileName}: ${messageOf(reason)}`);
    } finally {
      setBusy(null);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    if (verdict.ready) void attach();
    else void runTest();
  }

  const onKeyDown = attachFormKeys(formRef, onClose);

  const importFile = chosenHost?.identityFiles[0];
  const offerImport = chosenHost !== null && importFile !== undefined && draft.target.auth === 'key' && draft.target.keyId === '';

  return (
    <form ref={formRef} className="attach-hand machine-form" onSubmit={submit} onKeyDown={onKeyDown} aria-labelledby={`${id}-title`} noValidate>
      <h4 id={`${id}-title`} className="attach-hand-title">
        Attach a machine
      </h4>
      <p className="machine-hint">A computer of yours reached over SSH. Claude runs commands there as the user you give.</p>

      {configHosts !== null && (configHosts.hosts.length > 0 || configHosts.notes.length > 0 || configHosts.error !== null) && (
        <div className="machine-import">
          {configHosts.hosts.length > 0 && (
            <div className="field field-wide">
              <label className="field-label" htmlFor={`${id}-config`}>
                Import from ~/.ssh/config
              </label>
              <select
                id={`${id}-config`}
                className="input"
                value={chosenHost?.alias ?? ''}
                onChange={(event) => {
                  const host = configHosts.hosts.find((candidate) => candidate.alias === event.target.value) ?? null;
                  setChosenHost(host);
                  if (host !== null) change(draftFromConfigHost(draft, host));
                }}
              >
                <option value="">Choose a host…</option>
                {configHosts.hosts.map((host) => (
                  <option key={host.alias} value={host.alias}>
                    {describeConfigHost(host)}
                  </option>
                ))}
              </select>
            </div>
          )}
          {offerImport && (
            <button type="button" className="button button-small" onClick={() => void importKey(chosenHost, importFile)} disabled={busy !== null}>
              {busy === 'importing' ? 'Importing…' : `Import key ${importFile} into the vault`}
            </button>
          )}
          {configHosts.error !== null && <p className="machine-note">~/.ssh/config could not be read: {configHosts.error}</p>}
          {configHosts.notes.map((note) => (
            <p key={note} className="machine-note">
              {note}
            </p>
          ))}
        </div>
      )}

      <div className="attach-hand-fields">
        <HandNameField id={id} value={draft.name} onChange={(name) => change({ ...draft, name })} problem={problems.name} />
      </div>

      <EndpointFields
        value={draft.target}
        onChange={(target) => change({ ...draft, target })}
        credentials={credentials}
        problems={{ host: problems.host, port: problems.port, user: problems.user, keyId: problems.keyId, passphraseId: problems.passphraseId, passwordId: problems.passwordId }}
        jump={false}
      />

      <label className="checkbox">
        <input
          type="checkbox"
          checked={draft.useJump}
          onChange={(event) => change({ ...draft, useJump: event.target.checked, jump: event.target.checked && draft.jump.host === '' ? sameAuthAs(draft.target) : draft.jump })}
        />
        Through a jump host (ProxyJump)
      </label>
      {draft.useJump && (
        <fieldset className="machine-jump">
          <legend className="machine-legend">Jump host</legend>
          <EndpointFields
            value={draft.jump}
            onChange={(jump) => change({ ...draft, jump })}
            credentials={credentials}
            problems={{
              host: problems.jumpHost,
              port: problems.jumpPort,
              user: problems.jumpUser,
              keyId: problems.jumpKeyId,
              passphraseId: problems.jumpPassphraseId,
              passwordId: problems.jumpPasswordId,
            }}
            jump
          />
        </fieldset>
      )}

      <div className="attach-hand-fields">
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-folder`}>
            Working folder
          </label>
          <input
            id={`${id}-folder`}
            className="input"
            value={draft.workingDir}
            onChange={(event) => change({ ...draft, workingDir: event.target.value })}
            placeholder="/home/me/project (empty: the home folder)"
            spellCheck={false}
            {...invalidProps(problems.workingDir, `${id}-folder-error`)}
          />
          <FieldError id={`${id}-folder-error`} message={problems.workingDir} />
        </div>
      </div>
      <div className="machine-snapshots">
        <label className="checkbox">
          <input type="checkbox" checked={draft.snapshots} onChange={(event) => change({ ...draft, snapshots: event.target.checked })} aria-describedby={`${id}-snapshots-note`} />
          Keep file snapshots for forks
        </label>
        <p id={`${id}-snapshots-note`} className="machine-note">
          At each turn&apos;s end the working folder&apos;s files are kept in a shadow git store outside your own .git, so a fork or a rewind can bring them back. Your repository is never touched.
        </p>
      </div>

      <div ref={resultRef} aria-live="polite">
        {test.state === 'testing' && (
          <p className="machine-progress" role="status">
            <span className="machine-spinner" aria-hidden="true" />
            {test.message}
          </p>
        )}
        {test.state === 'error' && (
          <p className="hands-error" role="alert">
            The test could not run: {test.message}
          </p>
        )}
        {test.state === 'done' && (
          <TestResult
            result={test.result}
            stale={test.key !== currentKey}
            busy={busy !== null || testing}
            onTrust={(key) => void trust(key)}
            onForget={(key) => void forget(key)}
          />
        )}
      </div>

      {error !== null && (
        <p className="hands-error" role="alert">
          {error}
        </p>
      )}
      <div className="attach-hand-actions">
        <button type="button" className={verdict.ready ? 'button button-small' : 'button button-primary button-small'} onClick={() => void runTest()} disabled={testing || busy !== null}>
          {testing ? 'Testing…' : 'Test connection'}
        </button>
        <button
          type="button"
          className={verdict.ready ? 'button button-primary button-small' : 'button button-small'}
          onClick={() => void attach()}
          disabled={!verdict.ready || busy !== null || testing}
          aria-describedby={verdict.ready ? undefined : `${id}-attach-note`}
        >
          {busy === 'attaching' ? 'Attaching…' : 'Attach'}
        </button>
        <button type="button" className="button button-quiet button-small" onClick={onClose}>
          Cancel
        </button>
        {!verdict.ready && (
          <span id={`${id}-attach-note`} className="machine-note">
            {verdict.reason}
          </span>
        )}
      </div>
    </form>
  );
}

interface EndpointProblems {
  host: string | undefined;
  port: string | undefined;
  user: string | undefined;
  keyId: string | undefined;
  passphraseId: string | undefined;
  passwordId: string | undefined;
}

interface EndpointFieldsProps {
  value: EndpointDraft;
  onChange: (next: EndpointDraft) => void;
  credentials: readonly SecretMeta[] | null;
  problems: EndpointProblems;
  /** The jump host's fields: their accessible names start with "Jump". */
  jump: boolean;
}

/** Host, port, user and how to log in: the same for the machine and its jump host. */
function EndpointFields({ value, onChange, credentials, problems, jump }: EndpointFieldsProps) {
  const id = useId();
  const named = (label: string) => (jump ? { 'aria-label': `Jump ${label.toLowerCase()}` } : {});
  const set = <K extends keyof EndpointDraft>(key: K, next: EndpointDraft[K]) => onChange({ ...value, [key]: next });
  const keys = secretChoices(credentials, SECRET_KINDS_FOR.key);
  const passphrases = secretChoices(credentials, SECRET_KINDS_FOR.passphrase);
  const passwords = secretChoices(credentials, SECRET_KINDS_FOR.password);
  const methods: Array<{ method: AuthMethod; label: string }> = [
    { method: 'key', label: 'SSH key' },
    { method: 'password', label: 'Password' },
    { method: 'agent', label: 'ssh-agent' },
  ];
  const noVault = credentials === null ? 'Credentials cannot be read right now: use ssh-agent, or try again later.' : null;

  return (
    <>
      <div className="attach-hand-fields">
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-host`}>
            Host
          </label>
          <input
            id={`${id}-host`}
            className="input"
            value={value.host}
            onChange={(event) => set('host', event.target.value)}
            placeholder={jump ? 'bastion.example.com' : 'build.example.com or 192.168.1.20'}
            spellCheck={false}
            autoCapitalize="off"
            {...named('Host')}
            {...invalidProps(problems.host, `${id}-host-error`)}
          />
          <FieldError id={`${id}-host-error`} message={problems.host} />
        </div>
        <div className="field machine-port">
          <label className="field-label" htmlFor={`${id}-port`}>
            Port
          </label>
          <input
            id={`${id}-port`}
            className="input"
            value={value.port}
            onChange={(event) => set('port', event.target.value)}
            inputMode="numeric"
            {...named('Port')}
            {...invalidProps(problems.port, `${id}-port-error`)}
          />
          <FieldError id={`${id}-port-error`} message={problems.port} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-user`}>
            User
          </label>
          <input
            id={`${id}-user`}
            className="input"
            value={value.user}
            onChange={(event) => set('user', event.target.value)}
            spellCheck={false}
            autoCapitalize="off"
            {...named('User')}
            {...invalidProps(problems.user, `${id}-user-error`)}
          />
          <FieldError id={`${id}-user-error`} message={problems.user} />
        </div>
      </div>
      <div className="machine-auth" role="radiogroup" aria-labelledby={`${id}-auth-label`}>
        <span id={`${id}-auth-label`} className="field-label">
          {jump ? 'Jump authentication' : 'Authentication'}
        </span>
        {methods.map(({ method, label }) => (
          <label key={method} className="checkbox">
            <input type="radio" name={`${id}-auth`} value={method} checked={value.auth === method} onChange={() => set('auth', method)} />
            {label}
          </label>
        ))}
      </div>
      {value.auth === 'key' && (
        <div className="attach-hand-fields">
          <SecretSelect
            label="Key"
            jump={jump}
            value={value.keyId}
            onChange={(next) => set('keyId', next)}
            choices={keys}
            none="Choose a key…"
            problem={problems.keyId}
            note={noVault ?? (credentials !== null && keys.length === 0 ? 'No SSH key stored yet: import one from ~/.ssh/config above, or add it in Settings → Credentials.' : undefined)}
          />
          <SecretSelect
            label="Passphrase"
            jump={jump}
            value={value.passphraseId}
            onChange={(next) => set('passphraseId', next)}
            choices={passphrases}
            none="None (the key is not encrypted)"
            problem={problems.passphraseId}
          />
        </div>
      )}
      {value.auth === 'password' && (
        <div className="attach-hand-fields">
          <SecretSelect
            label="Password"
            jump={jump}
            value={value.passwordId}
            onChange={(next) => set('passwordId', next)}
            choices={passwords}
            none="Choose a password…"
            problem={problems.passwordId}
            note={noVault ?? (credentials !== null && passwords.length === 0 ? 'No password stored yet: add one in Settings → Credentials (kind: password).' : undefined)}
          />
        </div>
      )}
      {value.auth === 'agent' && <p className="machine-note">Uses the keys loaded in the ssh-agent that Drover was started with (SSH_AUTH_SOCK).</p>}
    </>
  );
}

interface TestResultProps {
  result: SshTestResult;
  /** The settings changed since: the result is shown, but no longer counts. */
  stale: boolean;
  busy: boolean;
  onTrust: (key: HostKey) => void;
  onForget: (key: HostKey) => void;
}

function TestResult({ result, stale, busy, onTrust, onForget }: TestResultProps) {
  const facts = [result.os, result.latencyMs === null ? null : `${Math.round(result.latencyMs)} ms`].filter((fact) => fact !== null);
  // A first-seen host key is not a failure but a question: the box below asks it.
  const awaitingTrust = !result.ok && (result.trust === 'unknown' || result.jumpTrust === 'unknown');
  return (
    <div className={`machine-result${stale ? ' machine-result-stale' : ''}`}>
      {awaitingTrust ? (
        stale && <p className="machine-result-failed">(The settings changed since: test again.)</p>
      ) : (
        <p className={result.ok ? 'machine-result-ok' : 'machine-result-failed'} role={result.ok ? 'status' : 'alert'}>
          <strong>{result.ok ? 'Connected.' : 'The connection failed.'}</strong> {result.message}
          {stale && ' (The settings changed since: test again.)'}
        </p>
      )}
      {facts.length > 0 && <p className="machine-facts">{facts.join(' · ')}</p>}
      {result.jumpHostKey !== null && (
        <HostKeyBox hostKey={result.jumpHostKey} trust={result.jumpTrust} jump busy={busy || stale} onTrust={onTrust} onForget={onForget} />
      )}
      {result.hostKey !== null && <HostKeyBox hostKey={result.hostKey} trust={result.trust} jump={false} busy={busy || stale} onTrust={onTrust} onForget={onForget} />}
    </div>
  );
}

interface HostKeyBoxProps {
  hostKey: HostKey;
  trust: SshTestResult['trust'];
  jump: boolean;
  busy: boolean;
  onTrust: (key: HostKey) => void;
  onForget: (key: HostKey) => void;
}

function HostKeyBox({ hostKey, trust, jump, busy, onTrust, onForget }: HostKeyBoxProps) {
  const where = `${hostKey.host}${hostKey.port === 22 ? '' : `:${hostKey.port}`}`;
  const keyFile = `/etc/ssh/ssh_host_${algorithmFileName(hostKey.algorithm)}_key.pub`;
  const fingerprint = (
    <p className="machine-key">
      <span className="machine-key-algorithm">{hostKey.algorithm}</span> <code className="machine-fingerprint">{hostKey.fingerprint}</code>
    </p>
  );
  if (trust === 'unknown') {
    return (
      <div className="machine-trust" role="group" aria-label={`${jump ? 'Jump host' : 'Host'} key of ${where}`}>
        <p>
          <strong>First connection to {where}{jump ? ' (the jump host)' : ''}:</strong> check that this fingerprint matches the machine (run{' '}
          <code>ssh-keygen -lf {keyFile}</code> on it).
        </p>
        {fingerprint}
        <button type="button" className="button button-small button-primary" onClick={() => onTrust(hostKey)} disabled={busy}>
          {jump ? 'Trust the jump host' : 'Trust this host'}
        </button>
      </div>
    );
  }
  if (trust === 'changed') {
    return (
      <div className="machine-danger" role="alert">
        <p>
          <strong>The host key of {where}{jump ? ' (the jump host)' : ''} has changed.</strong> Someone may be intercepting the connection (a man-in-the-middle),
          so Drover refused it.
        </p>
        {fingerprint}
        <p>
          If you know why it changed (the machine was reinstalled, or its SSH keys regenerated), check this fingerprint on the machine with{' '}
          <code>ssh-keygen -lf {keyFile}</code>, then forget the old key and test again. If you do not know why, do not go on.
        </p>
        <button type="button" className="button button-small" onClick={() => onForget(hostKey)} disabled={busy}>
          {jump ? "Forget the jump host's old key" : 'Forget the old key'}
        </button>
      </div>
    );
  }
  return (
    <div className="machine-trusted">
      <span className="machine-trusted-mark">Trusted {jump ? 'jump host' : 'host'} key</span> {fingerprint}
    </div>
  );
}

/** `ssh-ed25519` → `ed25519`, `ecdsa-sha2-nistp256` → `ecdsa`, `ssh-rsa`/`rsa-sha2-512` → `rsa`: the file names sshd uses. */
function algorithmFileName(algorithm: string): string {
  if (algorithm.includes('ed25519')) return 'ed25519';
  if (algorithm.startsWith('ecdsa')) return 'ecdsa';
  if (algorithm.includes('rsa')) return 'rsa';
  return 'ed25519';
}

function describeConfigHost(host: SshConfigHost): string {
  const target = `${host.user === null ? '' : `${host.user}@`}${host.hostName ?? host.alias}${host.port === null || host.port === 22 ? '' : `:${host.port}`}`;
  const jump = host.proxyJump === null ? '' : ` via ${host.proxyJump.host}`;
  return target === host.alias && jump === '' ? host.alias : `${host.alias} — ${target}${jump}`;
}

interface ConfigHosts extends SshConfigListing {
  error: string | null;
}

/** The hosts of ~/.ssh/config, asked once when the form opens; null until they arrive. */
function useSshConfigHosts(transport: Transport): ConfigHosts | null {
  const [listing, setListing] = useState<ConfigHosts | null>(null);
  useEffect(() => {
    let current = true;
    transport.call('ssh-config-hosts', undefined).then(
      (found) => {
        if (current) setListing({ ...found, error: null });
      },
      (reason: unknown) => {
        if (current) setListing({ hosts: [], notes: [], error: messageOf(reason) });
      },
    );
    return () => {
      current = false;
    };
  }, [transport]);
  return listing;
}

/**
 * "Attach a machine": a personal computer reached over SSH as a hand. Name, host, port, user,
 * how to log in (a key or a password from the vault, or ssh-agent), an optional jump host, the
 * working folder and file snapshots; hosts of ~/.ssh/config fill the fields. "Test connection"
 * shows the OS, the latency and each host key; a first key must be checked and trusted, and a
 * changed key is refused with a warning. Attaching needs a test with trusted keys for exactly the
 * settings shown. Secrets are chosen by id: no key or password ever reaches this page.
 */
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useAttachFormKeys, HandNameField, type AttachFormProps } from '#renderer/hands/attach-form.tsx';
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
  sameAuthAs,
  type MachineDraft,
  type MachineProblems,
} from './machine-form.ts';
import { RpcCallError, type Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useCredentials } from '#renderer/hands/useHands.ts';
import { EndpointFields } from './EndpointFields.tsx';
import { TestResult } from './TestResult.tsx';
import { AttachError, TestStatus } from '#renderer/hands/TestStatus.tsx';
import { useTestThenAttach, type TestState } from '#renderer/hands/useTestThenAttach.ts';
import './machine.css';

/** The result comes into view once the test is over (not while it runs: the progress line is short). */
const REVEAL_ON: ReadonlyArray<TestState<unknown>['state']> = ['done', 'error'];

export type AttachMachineFormProps = AttachFormProps;

export function AttachMachineForm({ transport, existingNames, onAttach, onClose, submitLabel }: AttachMachineFormProps) {
  const {
    draft,
    change,
    current,
    currentKey,
    test,
    testing,
    problems,
    setProblems,
    showProblems,
    error,
    setError,
    busy,
    setBusy,
    formRef,
    resultRef,
    runTest: testConfig,
    attach: attachConfig,
  } = useTestThenAttach<MachineDraft, SshHandConfig, MachineProblems, SshTestResult, 'importing' | 'trusting'>({
    initialDraft: () => emptyMachineDraft(nextFreeMachineName(existingNames)),
    check: machineConfigOf,
    keyOf: configKey,
    existingNames,
    onAttach,
    onClose,
    revealOn: REVEAL_ON,
  });
  const listed = useCredentials(transport);
  const [imported, setImported] = useState<readonly SecretMeta[]>([]);
  const credentials = useMemo(
    () =>
      listed === null && imported.length === 0
        ? null
        : [...(listed ?? []).filter((secret) => !imported.some((mine) => mine.id === secret.id)), ...imported],
    [listed, imported],
  );
  const configHosts = useSshConfigHosts(transport);
  const [chosenHost, setChosenHost] = useState<SshConfigHost | null>(null);
  const id = useId();
  const verdict = attachVerdict(test.state === 'done' ? test.result : null, test.state === 'done' ? test.key : null, currentKey);

  /** The configuration to test or attach, or null with its problems shown. */
  function checked(): SshHandConfig | null {
    if (current.problems !== null) {
      showProblems(current.problems);
      return null;
    }
    setProblems({});
    return current.config;
  }

  async function runTest(config: SshHandConfig | null = checked()): Promise<void> {
    if (config === null) return;
    const target = `${config.user}@${config.host}${config.port === 22 ? '' : `:${config.port}`}`;
    await testConfig(config, (tested) => transport.call('ssh-test-connection', { config: tested }), {
      message: config.jump === null ? `Connecting to ${target}…` : `Connecting to ${target} through ${config.jump.host}…`,
    });
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
    if (
      !window.confirm(
        `Forget the trusted key of ${hostKey.host}? Only do this if you know why its key changed. The next test shows the new key to check.`,
      )
    )
      return;
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
    await attachConfig(
      checked(),
      (reason) => {
        if (reason instanceof RpcCallError && reason.issues !== undefined && reason.issues.length > 0) {
          const placed = placeMachineIssues(reason.issues);
          showProblems(placed.fields);
          setError(placed.general.length > 0 || Object.keys(placed.fields).length === 0 ? reason.message : null);
        } else {
          setError(messageOf(reason));
        }
      },
      verdict.ready ? null : verdict.reason,
    );
  }

  async function importKey(host: SshConfigHost, fileName: string): Promise<void> {
    setBusy('importing');
    setError(null);
    try {
      const meta = await transport.call('ssh-import-key', { alias: host.alias, name: `${fileName} (${host.alias})` });
      setImported((list) => [...list, meta]);
      change({
        ...draft,
        target: { ...draft.target, auth: 'key', keyId: meta.id },
        jump: draft.useJump && draft.jump.keyId === '' ? { ...draft.jump, keyId: meta.id } : draft.jump,
      });
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

  const onKeyDown = useAttachFormKeys(formRef, onClose);

  const importFile = chosenHost?.identityFiles[0];
  const offerImport = chosenHost !== null && importFile !== undefined && draft.target.auth === 'key' && draft.target.keyId === '';

  return (
    <form
      ref={formRef}
      className="attach-hand machine-form"
      onSubmit={submit}
      onKeyDown={onKeyDown}
      aria-labelledby={`${id}-title`}
      noValidate
    >
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
            <button
              type="button"
              className="button button-small"
              onClick={() => void importKey(chosenHost, importFile)}
              disabled={busy !== null}
            >
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
        problems={{
          host: problems.host,
          port: problems.port,
          user: problems.user,
          keyId: problems.keyId,
          passphraseId: problems.passphraseId,
          passwordId: problems.passwordId,
        }}
        jump={false}
      />

      <label className="checkbox">
        <input
          type="checkbox"
          checked={draft.useJump}
          onChange={(event) =>
            change({
              ...draft,
              useJump: event.target.checked,
              jump: event.target.checked && draft.jump.host === '' ? sameAuthAs(draft.target) : draft.jump,
            })
          }
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
          <input
            type="checkbox"
            checked={draft.snapshots}
            onChange={(event) => change({ ...draft, snapshots: event.target.checked })}
            aria-describedby={`${id}-snapshots-note`}
          />
          Keep file snapshots for forks
        </label>
        <p id={`${id}-snapshots-note`} className="machine-note">
          After every tool call that can change files, the working folder&apos;s files are checkpointed into Drover&apos;s data folder, so a
          fork or a rewind can put the folder back exactly as it was at any event — its .git included — and nothing outside it is read or
          written. A machine without the tools checkpoints need (find, stat, tar…) keeps turn-end snapshots in a shadow git store instead.
        </p>
      </div>

      <TestStatus test={test} resultRef={resultRef}>
        {(result, key) => (
          <TestResult
            result={result}
            stale={key !== currentKey}
            busy={busy !== null || testing}
            onTrust={(hostKey) => void trust(hostKey)}
            onForget={(hostKey) => void forget(hostKey)}
          />
        )}
      </TestStatus>

      <AttachError message={error} />
      <div className="attach-hand-actions">
        <button
          type="button"
          className={verdict.ready ? 'button button-small' : 'button button-primary button-small'}
          onClick={() => void runTest()}
          disabled={testing || busy !== null}
        >
          {testing ? 'Testing…' : 'Test connection'}
        </button>
        <button
          type="button"
          className={verdict.ready ? 'button button-primary button-small' : 'button button-small'}
          onClick={() => void attach()}
          disabled={!verdict.ready || busy !== null || testing}
          aria-describedby={verdict.ready ? undefined : `${id}-attach-note`}
        >
          {busy === 'attaching' ? (submitLabel?.busy ?? 'Attaching…') : (submitLabel?.idle ?? 'Attach')}
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

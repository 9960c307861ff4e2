/**
 * "Add an MCP server": a Model Context Protocol server as a hand, reached by a command (stdio) or
 * a URL (Streamable HTTP). Environment variables and headers take a plain value or a secret
 * chosen from Settings → Credentials by id; "Test server" starts it without attaching and shows
 * its tools, or why it failed with the end of what it wrote to stderr. A Claude Desktop config
 * file can be imported instead (McpImportReview.tsx). No secret's value ever reaches this page.
 */
import { useEffect, useId, useState, type ChangeEvent, type FormEvent } from 'react';
import { useAttachFormKeys, HandNameField, type AttachFormProps } from '#renderer/hands/attach-form.tsx';
import type { McpHandConfig, McpImport, McpServerInfo } from '#shared/hands';
import type { SecretMeta } from '#shared/vault';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import { McpImportReview } from './McpImportReview.tsx';
import { McpServerLog, McpToolList } from './McpTools.tsx';
import { SecretSelect } from '#renderer/ui/SecretSelect.tsx';
import {
  draftOfConfig,
  emptyMcpDraft,
  mcpConfigKey,
  mcpConfigOf,
  newValueRow,
  nextFreeMcpName,
  placeMcpIssues,
  secretChoices,
  type McpDraft,
  type McpField,
  type McpProblems,
  type McpTransportType,
  type ValueRow,
} from './mcp-form.ts';
import type { RpcResult } from '#shared/rpc';
import { describeMcpTransport } from '#renderer/ui/format.ts';
import { RpcCallError } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useCredentials } from '#renderer/hands/useHands.ts';
import '#renderer/hands/machine/machine.css';
import { AttachError, TestStatus } from '#renderer/hands/TestStatus.tsx';
import { useTestThenAttach, type TestState } from '#renderer/hands/useTestThenAttach.ts';
import './mcp.css';

/** The result's place comes into view as soon as a test starts (it shows the progress there). */
const REVEAL_ON: ReadonlyArray<TestState<unknown>['state']> = ['testing', 'done', 'error'];

export type AttachMcpFormProps = AttachFormProps;

type RecentServer = RpcResult<'mcp-recent-servers'>[number];

export function AttachMcpForm({ transport, existingNames, onAttach, onClose, submitLabel }: AttachMcpFormProps) {
  const {
    draft,
    change,
    current,
    currentKey,
    test,
    setTest,
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
  } = useTestThenAttach<McpDraft, McpHandConfig, McpProblems, McpServerInfo, 'importing'>({
    initialDraft: () => emptyMcpDraft(nextFreeMcpName(existingNames)),
    check: mcpConfigOf,
    keyOf: mcpConfigKey,
    existingNames,
    onAttach,
    onClose,
    revealOn: REVEAL_ON,
  });
  const credentials = useCredentials(transport);
  const [imported, setImported] = useState<{ file: string; found: McpImport } | null>(null);
  const [recent, setRecent] = useState<RecentServer[]>([]);
  const id = useId();

  // Servers attached in other sessions, to add one again without typing it (a failure to list
  // them only hides the picker).
  useEffect(() => {
    let live = true;
    transport.call('mcp-recent-servers', undefined).then(
      (servers) => live && setRecent(servers),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [transport]);

  function fillFromRecent(index: string): void {
    const server = recent[Number(index)];
    if (server === undefined) return;
    let name = server.name;
    for (let n = 2; existingNames.includes(name); n++) name = `${server.name.slice(0, 28)}-${n}`;
    change(draftOfConfig(server.config, name));
    setTest({ state: 'idle' });
  }

  function set<K extends keyof McpDraft>(key: K, value: McpDraft[K]): void {
    change({ ...draft, [key]: value });
  }

  /** The configuration to test (the name does not matter there) or attach; null with its problems shown. */
  function checked(forTest: boolean): McpHandConfig | null {
    const found = current.problems === null ? {} : forTest ? withoutName(current.problems) : current.problems;
    if (Object.keys(found).length > 0 || current.config === null) {
      // A test needs no name: build the configuration with a placeholder one.
      const config = forTest && Object.keys(found).length === 0 ? mcpConfigOf({ ...draft, name: 'test' }, []).config : null;
      if (config !== null) {
        setProblems({});
        return config;
      }
      showProblems(found);
      return null;
    }
    setProblems({});
    return current.config;
  }

  function showRefusal(reason: unknown): void {
    if (reason instanceof RpcCallError) {
      const placed = placeMcpIssues(reason, draft);
      if (Object.keys(placed.fields).length > 0) showProblems(placed.fields);
      else setProblems(placed.fields);
      setError(placed.general.length > 0 ? placed.general.join(' ') : null);
    } else {
      setError(messageOf(reason));
    }
  }

  async function runTest(): Promise<void> {
    await testConfig(checked(true), (config) => transport.call('mcp-test-server', { config }), {
      message: 'Starting the server…',
      placeRefusal: (reason) => {
        if (!(reason instanceof RpcCallError && reason.issues !== undefined && reason.issues.length > 0)) return false;
        showRefusal(reason);
        return true;
      },
    });
  }

  async function attach(): Promise<void> {
    await attachConfig(checked(false), showRefusal);
  }

  async function importFile(event: ChangeEvent<HTMLInputElement>): Promise<void> {
    const input = event.currentTarget;
    const file = input.files?.[0];
    // The same file may be chosen again after a fix: let it fire a change next time.
    input.value = '';
    if (file === undefined) return;
    setBusy('importing');
    setError(null);
    try {
      const json = await file.text();
      const found = await transport.call('mcp-import-config', { json });
      setImported({ file: file.name, found });
    } catch (reason) {
      setError(`Could not import ${file.name}: ${messageOf(reason)}`);
    } finally {
      setBusy(null);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void attach();
  }

  const onKeyDown = useAttachFormKeys(formRef, onClose);

  if (imported !== null) {
    return (
      <McpImportReview
        fileName={imported.file}
        found={imported.found}
        existingNames={existingNames}
        onAttach={onAttach}
        onBack={() => setImported(null)}
        onClose={onClose}
      />
    );
  }

  const stale = test.state === 'done' && test.key !== currentKey;

  return (
    <form
      ref={formRef}
      className="attach-hand machine-form mcp-form"
      onSubmit={submit}
      onKeyDown={onKeyDown}
      aria-labelledby={`${id}-title`}
      noValidate
    >
      <div className="mcp-form-head">
        <h4 id={`${id}-title`} className="attach-hand-title">
          Add an MCP server
        </h4>
        <label className={`button button-small mcp-import-button${busy === 'importing' ? ' is-busy' : ''}`}>
          <input
            type="file"
            accept=".json,application/json"
            className="visually-hidden"
            onChange={(event) => void importFile(event)}
            disabled={busy !== null}
          />
          {busy === 'importing' ? 'Reading the file…' : 'Import from Claude Desktop config…'}
        </label>
      </div>
      <p className="machine-hint">
        A Model Context Protocol server: Claude sees its tools as <code>{draft.name.trim() || 'name'}__tool</code>. It starts on the first
        request that offers them.
      </p>

      {recent.length > 0 && (
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-recent`}>
            Used before
          </label>
          <select id={`${id}-recent`} className="input" value="" onChange={(event) => fillFromRecent(event.target.value)}>
            <option value="">Fill in a server from another session…</option>
            {recent.map((server, index) => (
              <option key={`${server.name}-${server.attachedAt}`} value={String(index)}>
                {server.name} — {describeMcpTransport(server.config.transport)} (in “{server.sessionTitle}”)
              </option>
            ))}
          </select>
        </div>
      )}

      <div className="attach-hand-fields">
        <HandNameField id={id} value={draft.name} onChange={(name) => set('name', name)} problem={problems.name} wide />
      </div>

      <div className="machine-auth" role="radiogroup" aria-labelledby={`${id}-transport-label`}>
        <span id={`${id}-transport-label`} className="field-label">
          Connect by
        </span>
        {(
          [
            ['stdio', 'Command (stdio)'],
            ['http', 'URL (Streamable HTTP)'],
          ] as const satisfies ReadonlyArray<readonly [McpTransportType, string]>
        ).map(([type, label]) => (
          <label key={type} className="checkbox">
            <input
              type="radio"
              name={`${id}-transport`}
              value={type}
              checked={draft.transport === type}
              onChange={() => set('transport', type)}
            />
            {label}
          </label>
        ))}
      </div>

      {draft.transport === 'stdio' ? (
        <>
          <div className="attach-hand-fields">
            <div className="field field-wide">
              <label className="field-label" htmlFor={`${id}-command`}>
                Command
              </label>
              <input
                id={`${id}-command`}
                className="input mcp-mono"
                value={draft.command}
                onChange={(event) => set('command', event.target.value)}
                placeholder="npx"
                spellCheck={false}
                autoCapitalize="off"
                {...invalidProps(problems.command, `${id}-command-error`)}
              />
              <FieldError id={`${id}-command-error`} message={problems.command} />
            </div>
          </div>
          <div className="field">
            <label className="field-label" htmlFor={`${id}-args`}>
              Arguments
            </label>
            <textarea
              id={`${id}-args`}
              className="input mcp-args"
              value={draft.args}
              onChange={(event) => set('args', event.target.value)}
              placeholder={'-y\n@modelcontextprotocol/server-memory'}
              rows={Math.min(8, Math.max(2, draft.args.split('\n').length))}
              spellCheck={false}
              autoCapitalize="off"
              aria-describedby={[`${id}-args-hint`, problems.args ? `${id}-args-error` : null].filter((part) => part !== null).join(' ')}
              aria-invalid={problems.args ? true : undefined}
            />
            <p id={`${id}-args-hint`} className="machine-note">
              One argument per line, exactly as the program gets it: no quotes needed, spaces inside a line are kept.
            </p>
            <FieldError id={`${id}-args-error`} message={problems.args} />
          </div>
          <div className="attach-hand-fields">
            <div className="field field-wide">
              <label className="field-label" htmlFor={`${id}-cwd`}>
                Working folder (optional)
              </label>
              <input
                id={`${id}-cwd`}
                className="input mcp-mono"
                value={draft.cwd}
                onChange={(event) => set('cwd', event.target.value)}
                placeholder="/home/me/project (empty: Drover's own)"
                spellCheck={false}
                autoCapitalize="off"
                {...invalidProps(problems.cwd, `${id}-cwd-error`)}
              />
              <FieldError id={`${id}-cwd-error`} message={problems.cwd} />
            </div>
          </div>
          <ValueRows
            title="Environment variables"
            what="variable"
            prefix="env"
            keyPlaceholder="API_TOKEN"
            rows={draft.env}
            onChange={(env) => set('env', env)}
            credentials={credentials}
            problems={problems}
          />
        </>
      ) : (
        <>
          <div className="attach-hand-fields">
            <div className="field field-wide">
              <label className="field-label" htmlFor={`${id}-url`}>
                URL
              </label>
              <input
                id={`${id}-url`}
                className="input mcp-mono"
                value={draft.url}
                onChange={(event) => set('url', event.target.value)}
                placeholder="https://example.com/mcp"
                inputMode="url"
                spellCheck={false}
                autoCapitalize="off"
                {...invalidProps(problems.url, `${id}-url-error`)}
              />
              <FieldError id={`${id}-url-error`} message={problems.url} />
            </div>
            <SecretSelect
              label="Bearer token"
              value={draft.bearerId}
              onChange={(next) => set('bearerId', next)}
              choices={secretChoices(credentials)}
              none="None"
              problem={problems.bearerId}
              note={
                credentials === null
                  ? 'The vault cannot be read right now: Settings → Credentials says why and what to do.'
                  : secretChoices(credentials).length === 0
                    ? 'Store a token in Settings → Credentials to send one.'
                    : undefined
              }
            />
          </div>
          <ValueRows
            title="Headers"
            what="header"
            prefix="header"
            keyPlaceholder="X-Api-Key"
            rows={draft.headers}
            onChange={(headers) => set('headers', headers)}
            credentials={credentials}
            problems={problems}
          />
        </>
      )}

      <div className="mcp-timeout">
        <div className="mcp-timeout-line">
          <label className="field-label" htmlFor={`${id}-timeout`}>
            Timeout per tool call
          </label>
          <input
            id={`${id}-timeout`}
            className="input"
            value={draft.timeout}
            onChange={(event) => set('timeout', event.target.value)}
            inputMode="numeric"
            {...invalidProps(problems.timeout, `${id}-timeout-error`)}
          />
          <span className="field-label">seconds</span>
        </div>
        <FieldError id={`${id}-timeout-error`} message={problems.timeout} />
      </div>

      <TestStatus test={test} resultRef={resultRef}>
        {(info) => <TestResult info={info} stale={stale} />}
      </TestStatus>

      <AttachError message={error} />
      <div className="attach-hand-actions">
        <button type="button" className="button button-small" onClick={() => void runTest()} disabled={testing || busy !== null}>
          {testing ? 'Testing…' : 'Test server'}
        </button>
        <button type="submit" className="button button-primary button-small" disabled={busy !== null}>
          {busy === 'attaching' ? (submitLabel?.busy ?? 'Attaching…') : (submitLabel?.idle ?? 'Attach')}
        </button>
        <button type="button" className="button button-quiet button-small" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function withoutName(problems: McpProblems): McpProblems {
  const { name: _name, ...rest } = problems;
  return rest;
}

function TestResult({ info, stale }: { info: McpServerInfo; stale: boolean }) {
  return (
    <div className={`machine-result mcp-test${stale ? ' machine-result-stale' : ''}`} data-testid="mcp-test-result">
      <p className={info.ok ? 'machine-result-ok' : 'machine-result-failed'} role={info.ok ? 'status' : 'alert'}>
        <strong>{info.ok ? 'Started.' : 'The server did not start.'}</strong> {info.message}
        {stale && ' (The settings changed since: test again.)'}
      </p>
      {info.ok && <McpToolList tools={info.tools} />}
      {(!info.ok || info.stderr.trim() !== '') && <McpServerLog text={info.stderr} open={!info.ok} />}
    </div>
  );
}

interface ValueRowsProps {
  title: string;
  what: 'variable' | 'header';
  prefix: 'env' | 'header';
  keyPlaceholder: string;
  rows: readonly ValueRow[];
  onChange: (rows: ValueRow[]) => void;
  credentials: readonly SecretMeta[] | null;
  problems: McpProblems;
}

/** Environment variables or headers: a name, and a plain value or a secret from the vault. */
function ValueRows({ title, what, prefix, keyPlaceholder, rows, onChange, credentials, problems }: ValueRowsProps) {
  const id = useId();
  const secrets = secretChoices(credentials);
  const update = (index: number, next: ValueRow) => onChange(rows.map((row, at) => (at === index ? next : row)));
  return (
    <fieldset className="mcp-values">
      <legend className="machine-legend">{title}</legend>
      {rows.length === 0 && <p className="machine-note">None.</p>}
      {rows.map((row, index) => {
        const problem = problems[`${prefix}:${row.id}` as McpField];
        const errorId = `${id}-${row.id}-error`;
        const label = row.key.trim() === '' ? `${what} ${index + 1}` : row.key.trim();
        return (
          <div key={row.id} className="mcp-value-row" role="group" aria-label={`${title}: ${label}`}>
            <div className="mcp-value-line">
              <input
                className="input mcp-mono mcp-value-key"
                value={row.key}
                onChange={(event) => update(index, { ...row, key: event.target.value })}
                placeholder={keyPlaceholder}
                aria-label={`${what === 'variable' ? 'Variable' : 'Header'} name`}
                spellCheck={false}
                autoCapitalize="off"
                {...invalidProps(problem, errorId)}
              />
              <select
                className="input mcp-value-source"
                value={row.source}
                onChange={(event) => update(index, { ...row, source: event.target.value === 'secret' ? 'secret' : 'value' })}
                aria-label="Plain value or secret"
              >
                <option value="value">Value</option>
                <option value="secret">Secret</option>
              </select>
              {row.source === 'value' ? (
                <input
                  className="input mcp-mono mcp-value-input"
                  value={row.value}
                  onChange={(event) => update(index, { ...row, value: event.target.value })}
                  aria-label="Value"
                  placeholder="plain value (stored in the session log)"
                  spellCheck={false}
                  autoCapitalize="off"
                  autoComplete="off"
                />
              ) : (
                <select
                  className="input mcp-value-input"
                  value={row.secretId}
                  onChange={(event) => update(index, { ...row, secretId: event.target.value })}
                  aria-label="Secret"
                >
                  <option value="">{secrets.length === 0 ? 'No credentials stored' : 'Choose a secret…'}</option>
                  {row.secretId !== '' && !secrets.some((secret) => secret.id === row.secretId) && (
                    <option value={row.secretId}>(no longer stored)</option>
                  )}
                  {secrets.map((secret) => (
                    <option key={secret.id} value={secret.id}>
                      {secret.name}
                    </option>
                  ))}
                </select>
              )}
              <button
                type="button"
                className="button button-small button-quiet mcp-value-remove"
                onClick={() => onChange(rows.filter((_, at) => at !== index))}
                aria-label={`Remove ${label}`}
                title="Remove"
              >
                ×
              </button>
            </div>
            <FieldError id={errorId} message={problem} />
          </div>
        );
      })}
      {rows.some((row) => row.source === 'secret') && credentials === null && (
        <p className="machine-note">Credentials cannot be read right now: choose a secret later, or give a plain value.</p>
      )}
      {rows.some((row) => row.source === 'value' && row.value !== '' && /token|secret|key|password|auth/i.test(row.key)) && (
        <p className="machine-note mcp-warn-note">
          A plain value is kept in the session log: store tokens in Settings → Credentials and choose them as a Secret.
        </p>
      )}
      <button type="button" className="button button-small button-quiet mcp-value-add" onClick={() => onChange([...rows, newValueRow()])}>
        + Add {what}
      </button>
    </fieldset>
  );
}

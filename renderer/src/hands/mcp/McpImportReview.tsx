/**
 * The servers found in an imported Claude Desktop config (`{"mcpServers": …}`), before any is
 * attached: a checkbox and an editable name each, what the import did (e.g. a token moved into
 * the vault), and the entries it skipped with why. "Attach selected" attaches them one by one: a
 * refusal is shown on its own server and the others still attach.
 */
import { useId, useState } from 'react';
import type { HandSpecInput, McpImport } from '#shared/hands';
import { describeMcpTransport } from '#renderer/ui/format.ts';
import { importNameProblems, importRowsOf, importSpecsOf, type ImportRow } from './mcp-form.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import '#renderer/hands/machine/machine.css';
import './mcp.css';

export interface McpImportReviewProps {
  fileName: string;
  found: McpImport;
  existingNames: readonly string[];
  onAttach: (hand: HandSpecInput) => Promise<void>;
  /** Back to the form, to type a server by hand. */
  onBack: () => void;
  onClose: () => void;
}

export function McpImportReview({ fileName, found, existingNames, onAttach, onBack, onClose }: McpImportReviewProps) {
  const [rows, setRows] = useState<ImportRow[]>(() => importRowsOf(found));
  const [busy, setBusy] = useState(false);
  const id = useId();
  const problems = importNameProblems(rows, existingNames);
  const specs = importSpecsOf(rows);
  const attached = rows.filter((row) => row.outcome?.attached === true).length;

  function update(key: string, change: Partial<ImportRow>): void {
    setRows((current) => current.map((row) => (row.key === key ? { ...row, ...change } : row)));
  }

  async function attachSelected(): Promise<void> {
    if (busy || specs.length === 0) return;
    if (Object.keys(problems).length > 0) return;
    setBusy(true);
    let failed = 0;
    // One at a time: each attach appends to the session log, and a refusal must not stop the rest.
    for (const { key, hand } of specs) {
      try {
        await onAttach(hand);
        update(key, { outcome: { attached: true } });
      } catch (reason) {
        failed++;
        update(key, { outcome: { attached: false, error: messageOf(reason) } });
      }
    }
    setBusy(false);
    if (failed === 0) onClose();
  }

  return (
    <section
      className="attach-hand machine-form mcp-form"
      aria-labelledby={`${id}-title`}
      onKeyDown={(event) => event.key === 'Escape' && onClose()}
    >
      <h4 id={`${id}-title`} className="attach-hand-title">
        Import MCP servers
      </h4>
      <p className="machine-hint">
        From <code>{fileName}</code>:{' '}
        {found.servers.length === 0
          ? 'no server could be imported.'
          : found.servers.length === 1
            ? '1 server.'
            : `${found.servers.length} servers.`}{' '}
        Choose which to attach; each can be renamed.
      </p>
      {found.servers.length > 0 && (
        <ul className="mcp-import-list">
          {rows.map((row) => {
            const done = row.outcome?.attached === true;
            const problem = problems[row.key];
            const refused = row.outcome !== null && !row.outcome.attached ? row.outcome.error : undefined;
            return (
              <li key={row.key} className={`mcp-import-row${row.selected ? '' : ' is-unselected'}`} aria-label={`Server ${row.key}`}>
                <div className="mcp-import-line">
                  <input
                    type="checkbox"
                    checked={row.selected || done}
                    onChange={(event) => update(row.key, { selected: event.target.checked })}
                    disabled={busy || done}
                    aria-label={`Attach ${row.key}`}
                  />
                  <input
                    className="input mcp-mono mcp-import-name"
                    value={row.name}
                    onChange={(event) => update(row.key, { name: event.target.value, outcome: null })}
                    disabled={busy || done || !row.selected}
                    maxLength={32}
                    spellCheck={false}
                    autoCapitalize="off"
                    aria-label={`Name for ${row.key}`}
                    aria-invalid={problem !== undefined || refused !== undefined ? true : undefined}
                    aria-describedby={problem !== undefined || refused !== undefined ? `${id}-${row.key}-error` : undefined}
                  />
                  <span className="mcp-kind">{row.config.transport.type === 'stdio' ? 'stdio' : 'HTTP'}</span>
                  {done && <span className="mcp-import-done">Attached</span>}
                </div>
                <code className="mcp-target">{describeMcpTransport(row.config.transport)}</code>
                {row.notes.length > 0 && (
                  <ul className="mcp-import-notes">
                    {row.notes.map((note) => (
                      <li key={note}>{note}</li>
                    ))}
                  </ul>
                )}
                {(problem ?? refused) !== undefined && (
                  <p id={`${id}-${row.key}-error`} className="field-error" role={refused === undefined ? undefined : 'alert'}>
                    {refused === undefined ? problem : `Not attached: ${refused}`}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {found.skipped.length > 0 && (
        <div className="mcp-import-skipped">
          <p className="field-label">Skipped</p>
          <ul>
            {found.skipped.map((entry) => (
              <li key={entry.key}>
                <code>{entry.key}</code>: {entry.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="attach-hand-actions">
        <button
          type="button"
          className="button button-primary button-small"
          onClick={() => void attachSelected()}
          disabled={busy || specs.length === 0 || Object.keys(problems).length > 0}
        >
          {busy ? 'Attaching…' : specs.length > 1 ? `Attach ${specs.length} selected` : 'Attach selected'}
        </button>
        <button type="button" className="button button-small" onClick={onBack} disabled={busy}>
          Back
        </button>
        <button type="button" className="button button-quiet button-small" onClick={onClose} disabled={busy}>
          {attached > 0 ? 'Done' : 'Cancel'}
        </button>
      </div>
    </section>
  );
}

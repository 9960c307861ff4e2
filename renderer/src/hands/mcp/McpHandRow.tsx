/**
 * An MCP server's row in the hands panel: its state, name, command or URL, an on/off switch, and
 * two disclosures — "Tools" (asks the main process for the server's tools, starting it if needed,
 * with a checkbox each to offer it or not, and one to mark it as changing files: after such a tool
 * runs, Drover checkpoints the session's Docker/SSH hands) and "Server log" (the end of its stderr). Switches
 * change the hand's configuration with 'hands-update', which the session log records: forks
 * inherit it, and it applies from the next model request.
 */
import { SaveToLibrary } from '#renderer/hands/library/SaveToLibrary.tsx';
import { HandHolders } from '#renderer/hands/HandHolders.tsx';
import { useState, type ReactNode } from 'react';
import type { HandStatus, McpHandConfig, McpServerInfo } from '#shared/hands';
import { describeMcpTransport } from '#renderer/ui/format.ts';
import { MarkedNotOffered, McpLogText, McpToolList, WRITES_NOTE } from './McpTools.tsx';
import { markedButNotOffered, withServerEnabled, withToolEnabled, withToolWriting } from './mcp-form.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import '#renderer/hands/machine/machine.css';
import './mcp.css';

export interface McpHandRowProps {
  transport: Transport;
  sessionId: string;
  hand: HandStatus & { config: McpHandConfig };
  /** Shown while the server starts (the panel's progress bar). */
  progressBar: ReactNode;
  detaching: boolean;
  onDetach: () => void;
  /** The hands as 'hands-update' returned them. */
  onUpdated: (hands: readonly HandStatus[]) => void;
}

type Info = { state: 'idle' } | { state: 'loading' } | { state: 'done'; info: McpServerInfo } | { state: 'error'; message: string };

export function McpHandRow({ transport, sessionId, hand, progressBar, detaching, onDetach, onUpdated }: McpHandRowProps) {
  const { name, config, state, detail } = hand;
  const [open, setOpen] = useState<'tools' | 'log' | null>(null);
  const [info, setInfo] = useState<Info>({ state: 'idle' });
  /** Tools switched but not yet confirmed by 'hands-update': shown as switched meanwhile. */
  const [pending, setPending] = useState<ReadonlyMap<string, boolean>>(new Map());
  /** Tools marked or unmarked as changing files, not yet confirmed by 'hands-update'. */
  const [pendingWrites, setPendingWrites] = useState<ReadonlyMap<string, boolean>>(new Map());
  const [switching, setSwitching] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const target = describeMcpTransport(config.transport);
  const offered = hand.tools.length;

  async function load(): Promise<void> {
    setInfo({ state: 'loading' });
    try {
      setInfo({ state: 'done', info: await transport.call('hands-mcp-info', { sessionId, name }) });
    } catch (reason) {
      setInfo({ state: 'error', message: messageOf(reason) });
    }
  }

  function toggle(which: 'tools' | 'log'): void {
    const next = open === which ? null : which;
    setOpen(next);
    if (next !== null && (info.state === 'idle' || info.state === 'error')) void load();
  }

  async function update(next: McpHandConfig): Promise<void> {
    setError(null);
    onUpdated(await transport.call('hands-update', { sessionId, hand: { name, config: next } }));
  }

  async function setEnabled(enabled: boolean): Promise<void> {
    setSwitching(true);
    try {
      await update(withServerEnabled(config, enabled));
      if (!enabled) setOpen(null);
      // Turned back on, the server starts afresh: what was fetched before may be out of date.
      setInfo({ state: 'idle' });
    } catch (reason) {
      setError(`Could not turn ${name} ${enabled ? 'on' : 'off'}: ${messageOf(reason)}`);
    } finally {
      setSwitching(false);
    }
  }

  async function setTool(tool: string, enabled: boolean): Promise<void> {
    // Built on the switches still on their way, so two quick clicks do not undo each other.
    const base = [...pending].reduce((current, [name, on]) => withToolEnabled(current, name, on), config);
    setPending((current) => new Map(current).set(tool, enabled));
    try {
      await update(withToolEnabled(base, tool, enabled));
    } catch (reason) {
      setError(`Could not turn ${tool} ${enabled ? 'on' : 'off'}: ${messageOf(reason)}`);
    } finally {
      setPending((current) => {
        const next = new Map(current);
        next.delete(tool);
        return next;
      });
    }
  }

  async function setWrites(tool: string, writes: boolean): Promise<void> {
    const base = [...pendingWrites].reduce((current, [name, on]) => withToolWriting(current, name, on), config);
    setPendingWrites((current) => new Map(current).set(tool, writes));
    try {
      await update(withToolWriting(base, tool, writes));
    } catch (reason) {
      setError(`Could not ${writes ? 'mark' : 'unmark'} ${tool} as changing files: ${messageOf(reason)}`);
    } finally {
      setPendingWrites((current) => {
        const next = new Map(current);
        next.delete(tool);
        return next;
      });
    }
  }

  const writes = (tool: string): boolean => pendingWrites.get(tool) ?? (config.writing_tools ?? []).includes(tool);
  const marked = config.writing_tools?.length ?? 0;
  const panelId = `mcp-${name}-${open ?? 'none'}`;

  return (
    <li className={`hand mcp-hand${config.enabled ? '' : ' is-off'}`} aria-label={`Hand ${name}`}>
      <div className="hand-line">
        <span className={`hand-state hand-state-${config.enabled ? state : 'idle'}`}>{config.enabled ? state : 'off'}</span>
        <span className="hand-name">{name}</span>
        <span className="mcp-kind" title="Model Context Protocol server">
          MCP
        </span>
      </div>
      <code className="mcp-target" title={config.transport.type === 'stdio' ? 'Command' : 'URL'}>
        {target}
      </code>
      <div className="hand-line hand-line-secondary">
        {config.enabled ? (
          <span className="hand-detail" title={detail}>
            {detail}
          </span>
        ) : (
          <span className="hand-detail mcp-off-note">Off — its tools are not offered.</span>
        )}
      </div>
      <div className="mcp-disclosures">
        {config.enabled && (
          <>
            <button
              type="button"
              className="mcp-disclosure"
              aria-expanded={open === 'tools'}
              aria-controls={open === 'tools' ? panelId : undefined}
              onClick={() => toggle('tools')}
            >
              <span className="disclosure-arrow" aria-hidden="true" />
              Tools
              {offered > 0 && <span className="mcp-count">{offered} offered</span>}
              {config.disabled_tools.length > 0 && <span className="mcp-count">{config.disabled_tools.length} off</span>}
              {marked > 0 && (
                <span
                  className="mcp-count"
                  title="Tools marked as changing files: after each runs, Drover checkpoints the files of this session’s hands"
                >
                  {marked} file-changing
                </span>
              )}
            </button>
            <button
              type="button"
              className="mcp-disclosure"
              aria-expanded={open === 'log'}
              aria-controls={open === 'log' ? panelId : undefined}
              onClick={() => toggle('log')}
            >
              <span className="disclosure-arrow" aria-hidden="true" />
              Server log
            </button>
          </>
        )}
        <span className="mcp-row-controls">
          <button
            type="button"
            role="switch"
            className="mcp-switch"
            aria-checked={config.enabled}
            aria-label={`${name} on`}
            title={
              config.enabled
                ? 'Turn the server off: its tools are no longer offered to Claude'
                : 'Turn the server on: its tools are offered to Claude again'
            }
            onClick={() => void setEnabled(!config.enabled)}
            disabled={switching}
          >
            <span className="mcp-switch-track" aria-hidden="true">
              <span className="mcp-switch-thumb" />
            </span>
            <span className="mcp-switch-text">{config.enabled ? 'On' : 'Off'}</span>
          </button>
          <button
            type="button"
            className="button button-small button-quiet"
            onClick={onDetach}
            disabled={detaching}
            aria-label={`Detach ${name}`}
            title="Remove this server from the session (its process is stopped)"
          >
            {detaching ? 'Detaching…' : 'Detach'}
          </button>
        </span>
      </div>
      {config.enabled && open !== null && (
        <div id={panelId} className="mcp-panel">
          {info.state === 'loading' && (
            <p className="machine-progress" role="status">
              <span className="machine-spinner" aria-hidden="true" />
              {state === 'ready' ? 'Asking the server…' : 'Starting the server…'}
            </p>
          )}
          {info.state === 'error' && (
            <p className="hands-error" role="alert">
              {info.message}
            </p>
          )}
          {info.state === 'done' && open === 'tools' && (
            <>
              {!info.info.ok && (
                <p className="hands-error" role="alert">
                  {info.info.message}
                </p>
              )}
              {info.info.ok && (
                <>
                  <McpToolList
                    tools={info.info.tools}
                    offered={(tool) => pending.get(tool) ?? !config.disabled_tools.includes(tool)}
                    onToggle={(tool, on) => void setTool(tool, on)}
                    writes={writes}
                    onWrites={(tool, on) => void setWrites(tool, on)}
                  />
                  <p className="mcp-writes-note">{WRITES_NOTE}</p>
                  <MarkedNotOffered names={markedButNotOffered(config, info.info.tools)} onUnmark={(tool) => void setWrites(tool, false)} />
                </>
              )}
              {!info.info.ok && <McpLogText text={info.info.stderr} />}
            </>
          )}
          {info.state === 'done' && open === 'log' && <McpLogText text={info.info.stderr} />}
          {info.state !== 'loading' && (
            <button type="button" className="button button-small button-quiet mcp-refresh" onClick={() => void load()}>
              Refresh
            </button>
          )}
        </div>
      )}
      {error !== null && (
        <p className="hands-error" role="alert">
          <span className="hands-error-message">{error}</span>
          <button type="button" className="banner-dismiss" onClick={() => setError(null)} aria-label="Dismiss error">
            ×
          </button>
        </p>
      )}
      <HandHolders hand={name} holders={hand.threads} />
      <SaveToLibrary transport={transport} name={name} config={config} />
      {progressBar}
    </li>
  );
}

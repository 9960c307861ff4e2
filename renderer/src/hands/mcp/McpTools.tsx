/**
 * An MCP server's tools and the end of its stderr, as the "Add an MCP server" test and the hands
 * panel's MCP rows show them. The stderr tail comes masked from the main process; it is shown as
 * text, never interpreted.
 */
import type { McpToolInfo } from '#shared/hands';
import './mcp.css';

export interface McpToolListProps {
  tools: readonly McpToolInfo[];
  /** With a checkbox per tool: whether each is offered (by the server's own tool name). */
  offered?: (tool: string) => boolean;
  onToggle?: (tool: string, offered: boolean) => void;
  /** With a "Changes files" checkbox per tool: whether the user marked it as changing files (`writing_tools`). */
  writes?: (tool: string) => boolean;
  onWrites?: (tool: string, writes: boolean) => void;
  disabled?: boolean;
}

/** What marking a tool as changing files means, where the marks are made. */
export const WRITES_NOTE =
  'Changes files: after this tool runs, Drover checkpoints the files of this session’s hands (Docker containers and SSH machines), so the Changes tab shows what it did and a fork or rewind can go back to before it. Unmarked tools trigger no checkpoint.';

export function McpToolList({ tools, offered, onToggle, writes, onWrites, disabled = false }: McpToolListProps) {
  if (tools.length === 0) return <p className="machine-note">The server offers no tools.</p>;
  return (
    <ul className="mcp-tools" aria-label="Tools">
      {tools.map((tool) => {
        const label = tool.title !== null && tool.title !== '' && tool.title !== tool.name ? tool.title : null;
        const body = (
          <>
            <span className="mcp-tool-name">
              <code>{tool.name}</code>
              {label !== null && <span className="mcp-tool-title">{label}</span>}
            </span>
            {tool.description !== '' && <span className="mcp-tool-description">{tool.description}</span>}
          </>
        );
        return (
          <li key={tool.name} className="mcp-tool" title={`Claude sees it as ${tool.exposedName}`}>
            {offered === undefined || onToggle === undefined ? (
              <div className="mcp-tool-text">{body}</div>
            ) : (
              <label className="mcp-tool-toggle">
                <input
                  type="checkbox"
                  checked={offered(tool.name)}
                  onChange={(event) => onToggle(tool.name, event.target.checked)}
                  disabled={disabled}
                  aria-label={tool.name}
                />
                <span className="mcp-tool-text">{body}</span>
              </label>
            )}
            {writes !== undefined && onWrites !== undefined && (
              <label className="mcp-tool-writes" title={WRITES_NOTE}>
                <input
                  type="checkbox"
                  checked={writes(tool.name)}
                  onChange={(event) => onWrites(tool.name, event.target.checked)}
                  disabled={disabled}
                  aria-label={`${tool.name} changes files`}
                />
                Changes files
              </label>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** The end of the server's stderr: monospace, scrollable; closed unless `open`. */
export function McpServerLog({ text, open = false }: { text: string; open?: boolean }) {
  return (
    <details className="mcp-log" open={open}>
      <summary>Server log (stderr)</summary>
      <McpLogText text={text} />
    </details>
  );
}

export function McpLogText({ text }: { text: string }) {
  return text.trim() === '' ? (
    <p className="machine-note">The server wrote nothing to stderr.</p>
  ) : (
    <pre className="mcp-log-text" tabIndex={0} aria-label="Server log">
      {text}
    </pre>
  );
}

/** Tools marked as changing files that the server does not list now: kept in the configuration, shown as not offered. */
export function MarkedNotOffered({ names, onUnmark }: { names: readonly string[]; onUnmark: (tool: string) => void }) {
  if (names.length === 0) return null;
  return (
    <ul className="mcp-writes-missing" aria-label="Marked as changing files, not offered by the server">
      {names.map((tool) => (
        <li key={tool}>
          <span>
            <code>{tool}</code> is marked as changing files but the server does not offer it now (nothing to checkpoint until it does).
          </span>
          <button type="button" className="button button-small button-quiet" onClick={() => onUnmark(tool)} aria-label={`Unmark ${tool}`}>
            Unmark
          </button>
        </li>
      ))}
    </ul>
  );
}

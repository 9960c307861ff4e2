/**
 * The terminals of one session, as tabs under its hands (issue 23): each tab a real terminal
 * emulator (xterm.js) on a Docker hand or SSH machine, fitted to the pane as it resizes. Copy with
 * the selection and Ctrl/Cmd+Shift+C, paste with Ctrl/Cmd+Shift+V. Closing a tab closes the
 * terminal: the log records it and checkpoints the hand's files.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import '@xterm/xterm/css/xterm.css';
import type { TerminalStore } from './terminal-store.ts';
import './terminal.css';

export interface TerminalPaneProps {
  store: TerminalStore;
  sessionId: string;
  /** The tab shown (its key), or null: the latest. */
  active: string | null;
  onActivate: (key: string) => void;
}

export function TerminalPane({ store, sessionId, active, onActivate }: TerminalPaneProps) {
  const all = useSyncExternalStore(store.subscribe, store.list);
  const terminals = all.filter((terminal) => terminal.sessionId === sessionId);
  const shown = terminals.find((terminal) => terminal.key === active) ?? terminals.at(-1) ?? null;
  const screen = useRef<HTMLDivElement | null>(null);
  const shownKey = shown?.key ?? null;

  useEffect(() => {
    const parent = screen.current;
    if (shownKey === null || parent === null) return;
    store.attach(shownKey, parent);
    const observer = new ResizeObserver(() => store.fit(shownKey));
    observer.observe(parent);
    return () => observer.disconnect();
  }, [store, shownKey]);

  if (shown === null) return null;
  return (
    <section className="terminals" aria-label="Terminals" data-testid="terminal-pane">
      <div className="terminal-tabs-bar">
        {/* Only tabs in the tab list (ARIA); Delete on a tab or a middle click closes it, the button beside closes the one shown. */}
        <div className="terminal-tabs" role="tablist" aria-label="Open terminals">
          {terminals.map((terminal) => (
            <button
              key={terminal.key}
              type="button"
              role="tab"
              aria-selected={terminal === shown}
              aria-controls="terminal-screen"
              className={`terminal-tab terminal-tab-button${terminal === shown ? ' terminal-tab-active' : ''}`}
              title={`${terminal.message ?? `Terminal on ${terminal.hand}`} (Delete or a middle click closes it)`}
              data-terminal-id={terminal.terminalId ?? ''}
              onClick={() => {
                onActivate(terminal.key);
                store.focus(terminal.key);
              }}
              onAuxClick={(event) => {
                if (event.button === 1) void store.close(terminal.key);
              }}
              onKeyDown={(event) => {
                if (event.key === 'Delete') void store.close(terminal.key);
              }}
            >
              <span className={`terminal-dot terminal-dot-${terminal.state}`} aria-hidden="true" />
              {terminal.title}
              {terminal.state === 'ended' && <span className="visually-hidden"> (ended)</span>}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="terminal-tab-close"
          aria-label={`Close terminal ${shown.title}`}
          title="Close this terminal (the hand's files are checkpointed)"
          onClick={() => void store.close(shown.key)}
        >
          ×
        </button>
      </div>
      <div
        id="terminal-screen"
        role="tabpanel"
        aria-label={`Terminal on ${shown.hand}`}
        className="terminal-screen-host"
        data-testid="terminal-screen"
        ref={screen}
      />
      <p className="terminal-hint">
        Copy: select, then Ctrl/⌘+Shift+C · Paste: Ctrl/⌘+Shift+V · What you do here is not in the log; closing checkpoints the files.
      </p>
    </section>
  );
}

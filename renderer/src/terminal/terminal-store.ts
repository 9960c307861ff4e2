/**
 * The terminals this window opened on hands (issue 23), across sessions: one xterm.js emulator per
 * terminal, kept alive while its pane is not shown (its element is moved, never re-created), fed by
 * the `terminal-output` pushes this connection alone receives. Keys typed go to `terminal-input`
 * (a paste over 64 KiB in pieces), the emulator's size to `terminal-resize`, and what it has drawn
 * is acknowledged (`terminal-ack`) so the main process pauses a flood instead of queueing it.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal, type ITheme } from '@xterm/xterm';
import { TERMINAL_LIMITS } from '#shared/terminals';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';

export interface HandTerminal {
  /** This window's name for it (stable from the click on). */
  readonly key: string;
  /** The main process's id, once open. */
  readonly terminalId: string | null;
  readonly sessionId: string;
  readonly hand: string;
  /** "box 2": the hand's name and its number among this window's terminals on it. */
  readonly title: string;
  readonly state: 'opening' | 'open' | 'ended';
  /** Why it ended, or why it did not open. */
  readonly message: string | null;
  readonly term: Terminal;
  readonly fit: FitAddon;
  /** The emulator's own element: moved into whichever pane shows it. */
  readonly element: HTMLDivElement;
}

interface Entry {
  key: string;
  terminalId: string | null;
  sessionId: string;
  hand: string;
  title: string;
  state: HandTerminal['state'];
  message: string | null;
  term: Terminal;
  fit: FitAddon;
  element: HTMLDivElement;
  opened: boolean;
  /** Characters drawn since the last acknowledgement. */
  drawn: number;
  /** Keys typed while it opened: sent once it is open. */
  typed: string;
}

const THEME: ITheme = {
  background: '#15161a',
  // Light enough that dim text (drawn at half opacity over the background) still reads at 4.5:1 (axe).
  foreground: '#f0f0f0',
  cursor: '#f0f0f0',
  selectionBackground: '#3b5b8c',
  black: '#1e1f24',
  red: '#f0605a',
  green: '#6cc36c',
  yellow: '#e5c07b',
  blue: '#61a0ef',
  magenta: '#c678dd',
  cyan: '#56b6c2',
  white: '#d4d4d4',
  brightBlack: '#6b6f7a',
  brightRed: '#ff7b72',
  brightGreen: '#8ee28e',
  brightYellow: '#f2d38a',
  brightBlue: '#82b8ff',
  brightMagenta: '#dd9cf0',
  brightCyan: '#7fd4de',
  brightWhite: '#ffffff',
};

export class TerminalStore {
  private entries: Entry[] = [];
  private snapshot: readonly HandTerminal[] = [];
  private readonly listeners = new Set<() => void>();
  private count = 0;

  constructor(private readonly transport: Transport) {
    transport.on('terminal-output', ({ terminalId, data }) => {
      const entry = this.byId(terminalId);
      if (!entry) return;
      entry.term.write(data, () => this.drawn(entry, data.length));
    });
    transport.on('terminal-exit', ({ terminalId, message }) => {
      const entry = this.byId(terminalId);
      if (!entry) return;
      entry.state = 'ended';
      entry.message = message;
      entry.term.write(`\r\n\u001b[2m[${message}]\u001b[0m\r\n`);
      this.changed();
    });
  }

  /** The terminals of one session, in the order they were opened. */
  list = (): readonly HandTerminal[] => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Opens a terminal on a session's hand; resolves with its key (it shows "opening" meanwhile, and why if it fails). */
  open(sessionId: string, hand: string): string {
    const number = this.entries.filter((entry) => entry.sessionId === sessionId && entry.hand === hand).length + 1;
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: THEME,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    const element = document.createElement('div');
    element.className = 'terminal-screen';
    const entry: Entry = {
      key: `terminal-${++this.count}`,
      terminalId: null,
      sessionId,
      hand,
      title: number === 1 ? hand : `${hand} ${number}`,
      state: 'opening',
      message: null,
      term,
      fit,
      element,
      opened: false,
      drawn: 0,
      typed: '',
    };
    this.entries.push(entry);
    term.attachCustomKeyEventHandler((event) => this.clipboardKey(entry, event));
    term.onData((data) => this.send(entry, data));
    term.onResize(({ cols, rows }) => {
      if (entry.terminalId !== null && entry.state === 'open')
        void this.transport.call('terminal-resize', { terminalId: entry.terminalId, cols, rows }).catch(() => undefined);
    });
    term.write(`\u001b[2mOpening a terminal on ${hand}…\u001b[0m\r\n`);
    this.changed();
    const size = { cols: Math.max(2, term.cols), rows: Math.max(1, term.rows) };
    this.transport.call('terminal-open', { sessionId, hand, ...size }).then(
      ({ terminalId }) => {
        entry.terminalId = terminalId;
        entry.state = entry.state === 'ended' ? 'ended' : 'open';
        if (entry.state === 'ended') {
          // Closed while it opened: close it now.
          void this.transport.call('terminal-close', { terminalId }).catch(() => undefined);
          return;
        }
        // The size may have changed while it opened (the pane fitted it).
        if (term.cols !== size.cols || term.rows !== size.rows)
          void this.transport.call('terminal-resize', { terminalId, cols: term.cols, rows: term.rows }).catch(() => undefined);
        this.changed();
        const typed = entry.typed;
        entry.typed = '';
        if (typed !== '') this.send(entry, typed);
        term.focus();
      },
      (error: unknown) => {
        entry.state = 'ended';
        entry.message = messageOf(error);
        term.write(`\u001b[31m${entry.message}\u001b[0m\r\n`);
        this.changed();
      },
    );
    return entry.key;
  }

  /** Shows the terminal in `parent` (opening the emulator there the first time) and fits it. */
  attach(key: string, parent: HTMLElement): void {
    const entry = this.entries.find((candidate) => candidate.key === key);
    if (!entry) return;
    if (entry.element.parentElement !== parent) parent.replaceChildren(entry.element);
    if (!entry.opened) {
      entry.term.open(entry.element);
      entry.opened = true;
    }
    this.fit(key);
  }

  fit(key: string): void {
    const entry = this.entries.find((candidate) => candidate.key === key);
    if (!entry?.opened || entry.element.clientWidth === 0) return;
    try {
      entry.fit.fit();
    } catch {
      // Not laid out yet: the next resize fits it.
    }
  }

  focus(key: string): void {
    this.entries.find((candidate) => candidate.key === key)?.term.focus();
  }

  /** Closes the terminal (its shell is hung up; the log records the close and a checkpoint) and drops its tab. */
  async close(key: string): Promise<void> {
    const entry = this.entries.find((candidate) => candidate.key === key);
    if (!entry) return;
    const wasOpen = entry.state === 'open' && entry.terminalId !== null;
    entry.state = 'ended';
    this.entries = this.entries.filter((candidate) => candidate !== entry);
    this.changed();
    try {
      if (wasOpen && entry.terminalId !== null) await this.transport.call('terminal-close', { terminalId: entry.terminalId });
    } finally {
      entry.term.dispose();
      entry.element.remove();
    }
  }

  // ------------------------------------------------------------------------------- internals

  private byId(terminalId: string): Entry | undefined {
    return this.entries.find((entry) => entry.terminalId === terminalId);
  }

  /** Keys typed, or a paste, in pieces the main process accepts. */
  private send(entry: Entry, data: string): void {
    if (entry.state === 'opening') entry.typed += data;
    if (entry.terminalId === null || entry.state !== 'open') return;
    const terminalId = entry.terminalId;
    for (let start = 0; start < data.length; start += TERMINAL_LIMITS.inputChars) {
      const piece = data.slice(start, start + TERMINAL_LIMITS.inputChars);
      void this.transport.call('terminal-input', { terminalId, data: piece }).catch((error: unknown) => {
        entry.term.write(`\r\n\u001b[31m${messageOf(error)}\u001b[0m\r\n`);
      });
    }
  }

  private drawn(entry: Entry, chars: number): void {
    entry.drawn += chars;
    if (entry.drawn < TERMINAL_LIMITS.ackEvery || entry.terminalId === null || entry.state !== 'open') return;
    const acked = entry.drawn;
    entry.drawn = 0;
    void this.transport.call('terminal-ack', { terminalId: entry.terminalId, chars: acked }).catch(() => undefined);
  }

  /** Ctrl/Cmd+Shift+C copies the selection; Ctrl/Cmd+Shift+V pastes (typed into the shell as a paste). */
  private clipboardKey(entry: Entry, event: KeyboardEvent): boolean {
    if (event.type !== 'keydown' || !event.shiftKey || !(event.ctrlKey || event.metaKey)) return true;
    const key = event.key.toLowerCase();
    if (key === 'c') {
      const selection = entry.term.getSelection();
      if (selection !== '') void navigator.clipboard?.writeText(selection).catch(() => undefined);
      event.preventDefault();
      return false;
    }
    if (key === 'v') {
      void navigator.clipboard
        ?.readText()
        .then((text) => entry.term.paste(text))
        .catch(() => undefined);
      event.preventDefault();
      return false;
    }
    return true;
  }

  private changed(): void {
    this.snapshot = this.entries.map((entry) => ({
      key: entry.key,
      terminalId: entry.terminalId,
      sessionId: entry.sessionId,
      hand: entry.hand,
      title: entry.title,
      state: entry.state,
      message: entry.message,
      term: entry.term,
      fit: entry.fit,
      element: entry.element,
    }));
    for (const listener of this.listeners) listener();
  }
}

const stores = new WeakMap<Transport, TerminalStore>();

/** This window's terminals over `transport` (one store per transport). */
export function terminalStore(transport: Transport): TerminalStore {
  let store = stores.get(transport);
  if (!store) {
    store = new TerminalStore(transport);
    stores.set(transport, store);
  }
  return store;
}

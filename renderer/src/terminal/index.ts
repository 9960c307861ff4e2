/** Terminals on hands (issue 23): the pane of a session's terminals and this window's store of them. */
export { TerminalPane, type TerminalPaneProps } from './TerminalPane.tsx';
export { terminalStore, type HandTerminal, type TerminalStore } from './terminal-store.ts';

/**
 * The session feature's public surface: what other features may import from session/ (the import
 * rules reject any other path into it). One session's view: transcript, composer, live output.
 */
export { SessionView, type PanelTab, type SessionViewProps } from './SessionView.tsx';

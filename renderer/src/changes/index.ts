/**
 * The changes feature's public surface (issue 20): what other features may import from changes/
 * (the import rules reject any other path into it). The Changes tab — files changed between two
 * events, one file's diff, one-file restore — and the words and ranges the transcript and the
 * timeline use to open it.
 */
export { ChangesPanel, type ChangesPanelProps } from './ChangesPanel.tsx';
export { filesChangedLabel, turnRange, type ChangesRange } from './changes-model.ts';

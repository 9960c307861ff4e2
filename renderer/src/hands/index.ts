/**
 * The hands feature's public surface: what other features may import from hands/ (the import
 * rules reject any other path into it). The hands panel, the Docker hand fields and draft the
 * launch dialog reuses, the hooks that ask the main process about Docker and the vault, and a
 * session's hands as of an event.
 */
export { HandsPanel, type HandsPanelProps } from './HandsPanel.tsx';
export { handsAsOf, type HandAsOf } from './hand-history.ts';
export { useCredentials, useDockerStatus } from './useHands.ts';
export { DockerHandFields } from './docker/DockerHandFields.tsx';
export { useEngines } from './docker/use-engines.ts';
export {
  DOCKER_FIELDS,
  EMPTY_DOCKER_DRAFT,
  HAND_FIELD_PATHS,
  REPO_ROOT,
  defaultRepoPath,
  dockerConfigOf,
  dockerDraftProblems,
  fieldsFixedBy,
  gitTokenChoices,
  handNameProblems,
  nextFreeName,
  parseUrl,
  placeAttachIssues,
  type DockerFieldName,
  type DockerFieldProblems,
  type DockerHandDraft,
  type HandFieldName,
  type Network,
} from './docker/docker-draft.ts';
export { defaultLibraryLabel, useHandLibrary, type HandLibraryState } from './library/use-hand-library.ts';
export { AttachHandForm } from './docker/AttachHandForm.tsx';
export { AttachMachineForm } from './machine/AttachMachineForm.tsx';
export { AttachMcpForm } from './mcp/AttachMcpForm.tsx';

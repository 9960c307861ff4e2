/**
 * The changes view (issue 20): what a hand's files did between two events of a session, one
 * file's diff, and a one-file restore — the shapes the RPC carries. The files at event N are the
 * hand's last `hand.checkpoint` at or before N (forks included, across their fork point).
 */
import { z } from 'zod';

export const ChangeKindSchema = z.enum(['added', 'changed', 'deleted', 'mode_changed', 'renamed']);
export type ChangeKind = z.infer<typeof ChangeKindSchema>;

/** One side of a path: what it was (null: absent). `unknown`: as in the hand's image, which was not read. */
export const FileSideSchema = z.strictObject({
  type: z.enum(['file', 'dir', 'symlink', 'unknown']),
  /** Bytes of a file (0 otherwise). */
  size: z.number().int().nonnegative(),
  /** Permission bits as octal text (`644`); '' when unknown. */
  mode: z.string(),
  /** A file's sha256, when known. */
  hash: z.string().nullable(),
  /** A symbolic link's target. */
  target: z.string().nullable(),
});
export type FileSide = z.infer<typeof FileSideSchema>;

export const FileChangeSchema = z.strictObject({
  path: z.string(),
  kind: ChangeKindSchema,
  /** A rename's old path. */
  fromPath: z.string().nullable(),
  before: FileSideSchema.nullable(),
  after: FileSideSchema.nullable(),
});
export type FileChange = z.infer<typeof FileChangeSchema>;

/** The checkpoint the files at an event come from (null: none yet — the hand's image). */
export const CheckpointRefSchema = z.strictObject({
  /** The session whose log holds it (a fork's files may come from its parent's checkpoint). */
  sessionId: z.string(),
  /** The `hand.checkpoint` event. */
  seq: z.number().int().positive(),
  /** The event the checkpoint follows (the tool result). */
  atSeq: z.number().int().positive(),
  manifest: z.string(),
});
export type CheckpointRef = z.infer<typeof CheckpointRefSchema>;

export const HandChangesSchema = z.strictObject({
  hand: z.string(),
  from: CheckpointRefSchema.nullable(),
  to: CheckpointRefSchema.nullable(),
  files: z.array(FileChangeSchema),
  /** What the view could not say exactly, in words (or null). */
  note: z.string().nullable(),
});
export type HandChanges = z.infer<typeof HandChangesSchema>;

export const ChangesSchema = z.strictObject({
  fromSeq: z.number().int().nonnegative(),
  toSeq: z.number().int().nonnegative(),
  hands: z.array(HandChangesSchema),
});
export type Changes = z.infer<typeof ChangesSchema>;

/** Larger sides are summarised, not diffed (bytes). */
export const DIFF_CAP_BYTES = 1024 * 1024;

export const FileDiffSchema = z.strictObject({
  path: z.string(),
  before: FileSideSchema.nullable(),
  after: FileSideSchema.nullable(),
  /** `text`: `patch` is a unified diff; otherwise `summary` says what differs. */
  kind: z.enum(['text', 'binary', 'too_big', 'unknown', 'same', 'not_file']),
  patch: z.string().nullable(),
  summary: z.string(),
});
export type FileDiff = z.infer<typeof FileDiffSchema>;

export const RestoredFileSchema = z.strictObject({
  path: z.string(),
  /** The checkpoint it came from (null: the hand's image). */
  from: CheckpointRefSchema.nullable(),
  /** The `hand.checkpoint` recorded after the restore (null: the files did not change). */
  checkpointSeq: z.number().int().positive().nullable(),
  summary: z.string(),
});
export type RestoredFile = z.infer<typeof RestoredFileSchema>;

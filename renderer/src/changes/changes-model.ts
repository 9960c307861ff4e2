/**
 * The changes view's pure parts: the range of a turn, the wording of counts and sides, and a
 * unified diff cut into lines the view colours (added, removed, context, hunk headers) with their
 * line numbers.
 */
import type { ChangeKind, Changes, FileSide } from '#shared/changes';

export interface ChangesRange {
  fromSeq: number;
  toSeq: number;
  /** One hand only (a tool call's), or every hand. */
  hand?: string;
}

/** The turn holding event `seq`: from just before its first event to `seq` (the files the turn changed so far). */
export function turnRange(turnStarts: readonly number[], seq: number): ChangesRange {
  let start = 1;
  for (const turn of turnStarts) if (turn <= seq) start = turn;
  return { fromSeq: Math.max(0, start - 1), toSeq: seq };
}

/** "1 file changed", "3 files changed". */
export function filesChangedLabel(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? 'file' : 'files'} changed`;
}

export const KIND_LABEL: Readonly<Record<ChangeKind, string>> = {
  added: 'added',
  changed: 'changed',
  deleted: 'deleted',
  mode_changed: 'mode changed',
  renamed: 'renamed',
};

/** One letter for the file list, as git shows them. */
export const KIND_MARK: Readonly<Record<ChangeKind, string>> = {
  added: 'A',
  changed: 'M',
  deleted: 'D',
  mode_changed: 'P',
  renamed: 'R',
};

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** One side of a path in words: "12 B, mode 644", "a link to a.txt", "absent". */
export function describeSide(side: FileSide | null): string {
  if (side === null) return 'absent';
  if (side.type === 'unknown') return 'as in the image (not read)';
  if (side.type === 'symlink') return `a link to ${side.target ?? '?'}`;
  if (side.type === 'dir') return `a folder, mode ${side.mode}`;
  return `${formatBytes(side.size)}, mode ${side.mode}`;
}

/** Files in the answer, every hand. */
export function totalFiles(changes: Changes): number {
  return changes.hands.reduce((sum, hand) => sum + hand.files.length, 0);
}

export interface DiffLine {
  kind: 'meta' | 'hunk' | 'add' | 'del' | 'ctx' | 'note';
  text: string;
  /** Line numbers in the old and the new file (null where the line is not in that side). */
  oldNo: number | null;
  newNo: number | null;
}

/** A unified diff (jsdiff's createTwoFilesPatch) as lines with their kinds and numbers. */
export function parsePatch(patch: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  const rows = patch.split('\n');
  if (rows.at(-1) === '') rows.pop();
  for (const text of rows) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      inHunk = true;
      lines.push({ kind: 'hunk', text, oldNo: null, newNo: null });
    } else if (!inHunk) {
      lines.push({ kind: 'meta', text, oldNo: null, newNo: null });
    } else if (text.startsWith('+')) {
      lines.push({ kind: 'add', text, oldNo: null, newNo: newNo++ });
    } else if (text.startsWith('-')) {
      lines.push({ kind: 'del', text, oldNo: oldNo++, newNo: null });
    } else if (text.startsWith('\\')) {
      lines.push({ kind: 'note', text, oldNo: null, newNo: null });
    } else {
      lines.push({ kind: 'ctx', text, oldNo: oldNo++, newNo: newNo++ });
    }
  }
  return lines;
}

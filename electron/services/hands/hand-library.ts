/**
 * The hand library (Settings → Hands library): saved hand configurations, in
 * `<dataDir>/hand-library.json` (mode 0600, replaced atomically). Entries hold vault secret ids,
 * never secret values.
 *
 * The file is read through zod like any input from outside. A damaged file is never overwritten:
 * `read()` reports it (what is wrong, where, what to do) and every change is refused until the
 * user fixes or moves it, so nothing saved in it is lost.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import type { HandSpec } from '#shared/hands';
import { HandLibraryEntrySchema, MAX_LIBRARY_HANDS, type HandLibraryEntry } from '#shared/hand-library';
import { writePrivateFileAtomic } from '#services/vault/private-file';

const LibraryFileSchema = z.strictObject({ version: z.literal(1), entries: z.array(HandLibraryEntrySchema) });

export const HAND_LIBRARY_FILE = 'hand-library.json';

export type LibraryRead = { ok: true; entries: HandLibraryEntry[] } | { ok: false; error: string };

export class HandLibrary {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, HAND_LIBRARY_FILE);
  }

  /** The saved hands, or why the file cannot be read (it is left untouched). */
  read(): LibraryRead {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, entries: [] };
      return {
        ok: false,
        error: `The hand library (${this.file}) could not be read: ${error instanceof Error ? error.message : String(error)}. Check its permissions; nothing in it was changed.`,
      };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: this.damaged('it is not JSON') };
    }
    const parsed = LibraryFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
      return { ok: false, error: this.damaged(`${issue?.message ?? 'unknown problem'}${where}`) };
    }
    return { ok: true, entries: parsed.data.entries };
  }

  /** Saves a hand under `label`; the entries after. */
  save(label: string, hand: HandSpec, now: Date = new Date()): HandLibraryEntry[] {
    const entries = this.entriesToChange();
    this.checkLabel(entries, label, null);
    if (entries.length >= MAX_LIBRARY_HANDS)
      throw new AppError('conflict', `The hand library holds at most ${MAX_LIBRARY_HANDS} hands: delete one you no longer use first.`);
    const entry = HandLibraryEntrySchema.parse({ id: `hlib_${randomBytes(8).toString('hex')}`, label, hand, savedAt: now.toISOString() });
    return this.write([...entries, entry]);
  }

  rename(id: string, label: string): HandLibraryEntry[] {
    const entries = this.entriesToChange();
    const entry = this.find(entries, id);
    this.checkLabel(entries, label, id);
    return this.write(entries.map((candidate) => (candidate === entry ? { ...entry, label: label.trim() } : candidate)));
  }

  remove(id: string): HandLibraryEntry[] {
    const entries = this.entriesToChange();
    const entry = this.find(entries, id);
    return this.write(entries.filter((candidate) => candidate !== entry));
  }

  private damaged(problem: string): string {
    return `The hand library file ${this.file} is damaged (${problem}). It was left as it is: fix it, or move it aside to start an empty library; nothing can be saved in the library until then.`;
  }

  private entriesToChange(): HandLibraryEntry[] {
    const read = this.read();
    if (!read.ok) throw new AppError('conflict', read.error);
    return read.entries;
  }

  private find(entries: readonly HandLibraryEntry[], id: string): HandLibraryEntry {
    const entry = entries.find((candidate) => candidate.id === id);
    if (entry === undefined)
      throw new AppError('not-found', `There is no saved hand "${id}" in the library: it may have been deleted. Reload the list.`);
    return entry;
  }

  private checkLabel(entries: readonly HandLibraryEntry[], label: string, except: string | null): void {
    const wanted = label.trim().toLowerCase();
    const taken = entries.find((entry) => entry.id !== except && entry.label.toLowerCase() === wanted);
    if (taken !== undefined)
      throw new AppError('conflict', `A saved hand is already called "${taken.label}": choose another name, or rename that one first.`);
  }

  private write(entries: HandLibraryEntry[]): HandLibraryEntry[] {
    try {
      writePrivateFileAtomic(this.file, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`);
    } catch (error) {
      throw new AppError(
        'storage-unwritable',
        `The hand library could not be saved in ${path.dirname(this.file)}: ${error instanceof Error ? error.message : String(error)}. Check that the data folder is writable and has room, then try again.`,
      );
    }
    return entries;
  }
}

/**
 * The budget new sessions get when their launch names none (Settings → "Default budget"), kept in
 * `default-budget.json` in the data folder (mode 0600, replaced atomically). Sessions already made
 * keep the budget their log records; this only seeds new ones.
 *
 * The file is read through zod like any input from outside: a damaged or hand-edited file is
 * reported and counts as "no default", never as a cap nobody set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import { BudgetSchema, type Budget } from '#shared/guardrails';
import { writePrivateFileAtomic } from '#services/vault/private-file';

const FileSchema = z.strictObject({ version: z.literal(1), budget: BudgetSchema.nullable() });

export class DefaultBudget {
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly log: (message: string, error?: unknown) => void = () => undefined,
  ) {
    this.file = path.join(dataDir, 'default-budget.json');
  }

  /** The default budget, or null when none is set (or the file cannot be read: logged). */
  get(): Budget | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log(`The default budget (${this.file}) could not be read; new sessions get none`, error);
      return null;
    }
    try {
      const parsed = FileSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data.budget;
      this.log(
        `The default budget file (${this.file}) is not valid (${parsed.error.issues[0]?.message ?? 'unknown problem'}); new sessions get none until it is set again`,
      );
    } catch (error) {
      this.log(`The default budget file (${this.file}) is not JSON; new sessions get none until it is set again`, error);
    }
    return null;
  }

  /** Sets (null: removes) the default budget; returns it as stored. */
  set(budget: Budget | null): Budget | null {
    try {
      writePrivateFileAtomic(this.file, `${JSON.stringify({ version: 1, budget })}\n`);
    } catch (error) {
      throw new AppError(
        'storage-unwritable',
        `The default budget could not be saved in ${path.dirname(this.file)}: ${error instanceof Error ? error.message : String(error)}. Check that the data folder is writable and has room, then try again.`,
      );
    }
    return budget;
  }
}

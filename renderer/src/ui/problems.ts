/**
 * Problems in a form, in the user's words: a number typed in a field, a schema's message as a
 * sentence, and the main process's refusal (zod issues by path) placed on the fields that show
 * them. Pure: no React, no DOM. Imports no feature.
 */
import type { RpcError } from '#shared/errors';

/** A whole number as typed (digits only, surrounding spaces allowed), else null. */
export function wholeNumber(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : null;
}

/** A schema message ("choose an image") as a sentence for the user ("Choose an image."). */
export function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return text;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?:]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** Problems by field key (one each), and those that belong to no field (shown above the form). */
export interface FormProblems {
  fields: Record<string, string>;
  general: string[];
}

/**
 * Puts each issue on the nearest field that shows it (`hands.0.config.cpus` → the hand's row);
 * issues no field shows go to `general`, with their path.
 */
export function placeIssues(issues: NonNullable<RpcError['issues']>, fieldKeys: ReadonlySet<string>): FormProblems {
  const placed: FormProblems = { fields: {}, general: [] };
  for (const issue of issues) {
    const key = nearestField(issue.path, fieldKeys);
    const text = sentence(issue.message);
    if (key === null) placed.general.push(issue.path === '' || issue.path === '(root)' ? text : `${issue.path}: ${text}`);
    else placed.fields[key] ??= text;
  }
  return placed;
}

function nearestField(path: string, fieldKeys: ReadonlySet<string>): string | null {
  const parts = path.split('.');
  for (let length = parts.length; length > 0; length--) {
    const key = parts.slice(0, length).join('.');
    if (fieldKeys.has(key)) return key;
  }
  return null;
}

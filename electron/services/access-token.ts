/**
 * Access tokens for Drover's local servers (serve mode's UI, the Managed Agents API): random, kept
 * in the data folder readable by the user alone (mode 0600), compared in constant time. Whoever
 * has one controls Drover, so a token is only ever shown to its user, never logged.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** Whether `token` is well formed: 16–256 characters of letters, digits, "-" or "_". */
export function tokenIsValid(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** A new random token (256 bits). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token stored in `dataDir/file`, or null when there is none (or it is not well formed). */
export function readToken(dataDir: string, file: string): string | null {
  try {
    const stored = readFileSync(path.join(dataDir, file), 'utf8').trim();
    return TOKEN_PATTERN.test(stored) ? stored : null;
  } catch {
    return null;
  }
}

/** Stores `token` in `dataDir/file` (mode 0600). */
export function writeToken(dataDir: string, file: string, token: string): void {
  const target = path.join(dataDir, file);
  writeFileSync(target, `${token}\n`, { mode: 0o600 });
  chmodSync(target, 0o600);
}

/** Constant-time comparison, so response timing reveals nothing about the token. */
export function tokenMatches(candidate: string | null, token: string): boolean {
  if (candidate === null) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

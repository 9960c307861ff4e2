/**
 * The serve-mode access token: random, kept in the data folder readable by the user alone
 * (mode 0600), and compared in constant time. Whoever has it controls Drover, so it is only
 * ever printed to the terminal that started the server, never logged or sent elsewhere.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '#shared/errors';

export const TOKEN_FILE = 'serve-token';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;
/** The rule for a token given with --token, as --help, the README and the refusal say it. */
export const TOKEN_RULE = 'A serve token must be 16–256 characters of letters, digits, "-" or "_".';

/** Whether `token` may be used (the rule above). */
export function tokenIsValid(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/**
 * The token to require: `explicit` if given (and well-formed), else the stored one, else a new
 * random one. Whatever is used is stored (mode 0600) so the next start prints the same URL.
 */
export function loadOrCreateToken(dataDir: string, explicit?: string): string {
  const file = path.join(dataDir, TOKEN_FILE);
  if (explicit !== undefined && !TOKEN_PATTERN.test(explicit)) {
    throw new AppError('invalid-argument', `${TOKEN_RULE} Leave --token out to get a random one.`);
  }
  let token = explicit;
  if (token === undefined) {
    try {
      const stored = readFileSync(file, 'utf8').trim();
      if (TOKEN_PATTERN.test(stored)) token = stored;
    } catch {
      // No stored token yet: make one below.
    }
  }
  token ??= randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Constant-time comparison, so response timing reveals nothing about the token. */
export function tokenMatches(candidate: string | null, token: string): boolean {
  if (candidate === null) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

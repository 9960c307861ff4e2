/**
 * The serve-mode access token: random, kept in the data folder readable by the user alone
 * (mode 0600), and compared in constant time. Whoever has it controls Drover, so it is only
 * ever printed to the terminal that started the server, never logged or sent elsewhere.
 */
import { AppError } from '#shared/errors';
import { newToken, readToken, tokenIsValid, writeToken } from '#services/access-token';

export { tokenIsValid, tokenMatches } from '#services/access-token';

export const TOKEN_FILE = 'serve-token';
/** The rule for a token given with --token, as --help, the README and the refusal say it. */
export const TOKEN_RULE = 'A serve token must be 16–256 characters of letters, digits, "-" or "_".';

/**
 * The token to require: `explicit` if given (and well-formed), else the stored one, else a new
 * random one. Whatever is used is stored (mode 0600) so the next start prints the same URL.
 */
export function loadOrCreateToken(dataDir: string, explicit?: string, file = TOKEN_FILE): string {
  if (explicit !== undefined && !tokenIsValid(explicit)) {
    throw new AppError('invalid-argument', `${TOKEN_RULE} Leave --token out to get a random one.`);
  }
  const token = explicit ?? readToken(dataDir, file) ?? newToken();
  writeToken(dataDir, file, token);
  return token;
}

/**
 * Decides whether an IPC message comes from Drover's own page. Pure (no 'electron' import) so it
 * can be tested under plain Node.
 *
 * URLs are compared parsed, never by string prefix: `file:///app/index.html.evil` or
 * `http://localhost:5173.attacker.example` must not pass for the app.
 */

/**
 * True when `senderUrl` is the app page `appUrl`:
 * - a `file:` app page: the very same file (same host and path; query and fragment ignored);
 * - an `http:`/`https:` app page (the dev server): any page of the same origin.
 * Anything that does not parse, or any other scheme, is untrusted.
 */
export function isTrustedSenderUrl(senderUrl: string, appUrl: string): boolean {
  const sender = parseUrl(senderUrl);
  const app = parseUrl(appUrl);
  if (sender === null || app === null) return false;
  if (app.protocol === 'file:') {
    return sender.protocol === 'file:' && sender.host === app.host && sender.pathname === app.pathname;
  }
  if (app.protocol === 'http:' || app.protocol === 'https:') {
    return sender.protocol === app.protocol && sender.origin === app.origin;
  }
  return false;
}

/** `new URL(value)`, or null when it does not parse. */
export function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/**
 * Electron hardening applied to every web contents and to the default session: no navigation,
 * no new windows, no webviews, no permissions but clipboard writes from the app page, no downloads except the page's own blob: exports.
 *
 * Never loosen these to make a feature work: a page that needs to go somewhere opens the user's
 * browser (https only), and anything else goes through the one RPC channel.
 */
import { shell, type Session, type WebContents } from 'electron';
import { isTrustedSenderUrl, parseUrl } from './trusted-sender.ts';

/** Locks down one web contents; run from `app.on('web-contents-created')` so none is missed. */
export function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  // 'will-navigate' sees only the top frame; a subframe must not be steered anywhere either.
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openInBrowserIfHttps(url);
    return { action: 'deny' };
  });
}

/**
 * The one permission the app's own page gets: writing plain text to the clipboard (the "Copy"
 * buttons on code blocks and events). Never read access.
 */
const APP_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/**
 * Denies every permission request and check except APP_PERMISSIONS from the app's own page
 * (`appUrl`), every device, and every download that is not a blob: URL.
 */
export function hardenSession(session: Session, appUrl: string): void {
  const allowed = (permission: string, url: string | undefined) =>
    APP_PERMISSIONS.has(permission) && url !== undefined && isTrustedSenderUrl(url, appUrl);
  session.setPermissionRequestHandler((_contents, permission, callback, details) => callback(allowed(permission, details.requestingUrl)));
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    allowed(permission, details.requestingUrl ?? requestingOrigin),
  );
  // USB, HID and serial devices have a grant path of their own (a device picked once stays granted).
  session.setDevicePermissionHandler(() => false);
  // The renderer exports sessions as Blob URLs; nothing else may start a download.
  session.on('will-download', (event, item) => {
    if (parseUrl(item.getURL())?.protocol !== 'blob:') event.preventDefault();
  });
}

/** Opens `url` in the user's browser when it is a well-formed https URL; ignores anything else. */
function openInBrowserIfHttps(url: string): void {
  const parsed = parseUrl(url);
  if (parsed?.protocol !== 'https:') {
    console.warn(`Blocked opening a window for ${parsed === null ? 'a malformed URL' : `a ${parsed.protocol} URL`}.`);
    return;
  }
  shell.openExternal(parsed.href).catch((error: unknown) => {
    console.error(`Could not open ${parsed.href} in the browser:`, error);
  });
}

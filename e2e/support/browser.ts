/**
 * Whether a Chromium is there for the 'browser' project: DROVER_CHROMIUM, Debian's
 * /usr/bin/chromium, or Playwright's own download. Missing → a printed skip locally, a failure
 * under CI=true (a green CI that skipped the browser would be a lie).
 */
import { existsSync } from 'node:fs';
import { chromium, test } from '@playwright/test';

export function chromiumPath(): string | undefined {
  const configured = process.env['DROVER_CHROMIUM'];
  if (configured) return configured;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined;
}

function missingReason(): string | null {
  const configured = chromiumPath();
  if (configured !== undefined) return existsSync(configured) ? null : `DROVER_CHROMIUM=${configured} does not exist`;
  const bundled = chromium.executablePath();
  return existsSync(bundled)
    ? null
    : "no Chromium: install Debian's chromium, set DROVER_CHROMIUM, or run `npx playwright install chromium`";
}

/** Call at the top of a browser spec file. */
export function requireChromium(): void {
  const reason = missingReason();
  if (reason !== null && process.env['CI'] === 'true') throw new Error(`Chromium is required under CI=true: ${reason}`);
  if (reason !== null) console.warn(`[skip] browser e2e: ${reason}`);
  test.skip(reason !== null, reason ?? '');
}

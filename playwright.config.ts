import { defineConfig } from '@playwright/test';
import { chromiumPath } from './e2e/support/browser.ts';

/**
 * E2E: the 'browser' project drives serve mode in Chromium, the 'electron' project the built app.
 * Playwright cannot download its own browser on every machine, so DROVER_CHROMIUM (or Debian's
 * /usr/bin/chromium) is used when present; elsewhere Playwright's own Chromium is the default.
 */
const executablePath = chromiumPath();

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1280, height: 800 },
  },
  projects: [
    {
      name: 'browser',
      testMatch: /browser\/.*\.spec\.ts$/,
      use: {
        browserName: 'chromium',
        launchOptions: {
          ...(executablePath === undefined ? {} : { executablePath }),
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-quic',
            '--no-first-run',
          ],
        },
      },
    },
    {
      // The built Electron app (out/), driven through Playwright's _electron; skips with the reason
      // where the Electron binary is not installed (see e2e/electron/app.spec.ts).
      name: 'electron',
      testMatch: /electron\/.*\.spec\.ts$/,
    },
  ],
});

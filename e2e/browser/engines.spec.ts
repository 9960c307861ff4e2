// Settings → Engines in Chromium against the real serve mode and the real local Docker engine:
// this computer's engine is listed and its Test shows the engine's facts; a URL that is neither
// ssh:// nor tcp:// is refused in words; the local engine's labels are saved and survive a reload.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const ENV = { ANTHROPIC_API_KEY: 'sk-ant-e2e-unused' };
const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-engines-'));
let serve: ServeHandle | undefined;

test.beforeAll(async () => {
  serve = await startServeMode(ENV, { dataDir });
});

test.afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('Settings → Engines: Test this computer, a bad URL refused, labels saved', async ({ page }) => {
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  const section = page.getByTestId('engines-settings');
  await expect(section.getByRole('heading', { name: 'Engines' })).toBeVisible();
  const local = section.getByTestId('engine-local');
  await expect(local).toContainText('This computer');

  await local.getByRole('button', { name: 'Test' }).click();
  await expect(local.getByRole('status')).toContainText(/^Docker \S+ on .+ CPUs, .+ GiB of memory, \d+ images/);

  await section.getByLabel('Id (what hands name)').fill('far');
  await section.getByLabel('Name', { exact: true }).fill('Far box');
  await section.getByLabel('URL', { exact: true }).fill('http://far.example.com');
  await section.getByRole('button', { name: 'Save engine' }).click();
  await expect(section.getByRole('alert')).toContainText('Give the engine a URL like ssh://user@host');
  await expect(section.getByTestId('engine-far')).toHaveCount(0);

  await local.getByRole('button', { name: 'Edit' }).click();
  await section.getByLabel('Labels', { exact: true }).fill('near, laptop');
  await section.getByRole('button', { name: 'Save engine' }).click();
  await expect(local).toContainText('near, laptop');
  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('engine-local')).toContainText('near, laptop');
});

// Settings → Storage in Chromium against the real serve mode and a real data folder: checkpoint
// data no session reaches (a real blob written into the data folder's store) is shown as such,
// "Reclaim unused storage" removes it and says how much it freed; a pause threshold above the
// disk's real free space shows the low-disk warning; a bad threshold is refused in words.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { BlobStore } from '#services/checkpoints/blob-store';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const ENV = { ANTHROPIC_API_KEY: 'sk-ant-e2e-unused' };
const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-storage-'));
let serve: ServeHandle | undefined;

test.beforeAll(async () => {
  serve = await startServeMode(ENV, { dataDir });
});

test.afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('Settings → Storage: unused checkpoint data reclaimed with the bytes freed; the low-disk warning', async ({ page }) => {
  if (serve === undefined) throw new Error('serve mode did not start');
  const blobs = new BlobStore(dataDir);
  const orphan = await blobs.put(randomBytes(64 * 1024));

  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  const section = page.getByTestId('storage-settings');
  await expect(section.getByRole('heading', { name: 'Storage' })).toBeVisible();
  await expect(section.getByTestId('storage-totals')).toContainText('Free disk');
  await expect(section.getByTestId('storage-totals')).toContainText('no session needs');

  await section.getByRole('button', { name: 'Reclaim unused storage' }).click();
  await expect(section.getByRole('status')).toHaveText(`Freed 64.0 KiB (1 checkpoint blobs, 0 images, 0 containers).`);
  expect(orphan.stored).toBe(64 * 1024 + 1);
  expect(existsSync(blobs.pathOf(orphan.hash))).toBe(false);
  await expect(section.getByTestId('storage-totals')).not.toContainText('no session needs');

  // A threshold far above the disk's real free space: checkpoints pause, and the page says so.
  await section.getByLabel('Pause checkpoints under').fill('1000 TiB');
  await section.getByRole('button', { name: 'Save threshold' }).click();
  await expect(section.getByTestId('storage-paused')).toContainText('Checkpoints are paused');
  await section.getByLabel('or % of the disk').fill('150');
  await section.getByRole('button', { name: 'Save threshold' }).click();
  await expect(section.getByRole('alert').last()).toContainText('a percentage from 0 to 100');
  await section.getByLabel('Pause checkpoints under').fill('0');
  await section.getByLabel('or % of the disk').fill('0');
  await section.getByRole('button', { name: 'Save threshold' }).click();
  await expect(section.getByTestId('storage-paused')).toHaveCount(0);
});

// Settings → Storage in Chromium against the real serve mode and a real data folder: checkpoint
// data no session reaches (a real blob written into the data folder's store) is shown as such,
// "Reclaim unused storage" removes it and says how much it freed; a pause threshold above the
// disk's real free space shows the low-disk warning; a bad threshold is refused in words.
// Caps and retention: a session written into the data folder before the server starts (12 turns of
// two checkpoints, each with 600 KB of its own, real blobs): "Thin old checkpoints" thins it by the
// rule (N = 10: the first checkpoint of turns 1 and 2) and says what it freed; nonsense caps are
// refused in words (in the page, and by the host); a cap it cannot get under shows the warning for
// that session; the caps persist across a reload; no caps, no warning.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { BlobStore } from '#services/checkpoints/blob-store';
import { storeManifest } from '#services/checkpoints/manifest';
import { SessionStore } from '#services/session/store';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const ENV = { ANTHROPIC_API_KEY: 'sk-ant-e2e-unused' };
const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-storage-'));
let serve: ServeHandle | undefined;

/** A session with 12 turns of two checkpoints each (real manifests, 600 KB of its own per checkpoint). */
async function seedSession(): Promise<void> {
  const store = SessionStore.open({ dataDir });
  const blobs = new BlobStore(dataDir);
  const { id } = store.createSession({ title: 'Seeded long session' });
  for (let turn = 1; turn <= 12; turn += 1) {
    store.emitEvent(id, { type: 'user.message', payload: { content: [{ type: 'text', text: `turn ${turn}` }] } });
    for (let call = 1; call <= 2; call += 1) {
      const content = randomBytes(600 * 1024);
      const file = await blobs.put(content);
      const { id: manifest } = await storeManifest(blobs, {
        version: 1,
        base: null,
        entries: [
          { path: '/workspace/data.bin', type: 'file', mode: 0o644, uid: 0, gid: 0, size: content.length, hash: file.hash, mtime: 1 },
        ],
      });
      const at = store.emitEvent(id, { type: 'agent.message', payload: { content: [{ type: 'text', text: `call ${call}` }] } }).seq;
      store.emitEvent(id, {
        type: 'hand.checkpoint',
        payload: {
          hand_id: 'box',
          at_seq: at,
          manifest,
          parent: null,
          base: 'sha256:seeded',
          captured_at: turn * 10 + call,
          changed_paths: 1,
          bytes_stored: content.length,
          duration_ms: 1,
        },
      });
    }
  }
  store.close();
}

test.beforeAll(async () => {
  await seedSession();
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

test('Settings → Storage: caps and retention — thin old checkpoints, nonsense refused in words, the warning at a cap', async ({ page }) => {
  test.setTimeout(120_000); // each step measures the storage again (Docker's df included): ~40 s on a quiet machine
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  const section = page.getByTestId('storage-settings');
  const limits = section.getByRole('group', { name: 'Caps and retention' });
  await expect(limits.getByLabel('Keep every checkpoint of the last')).toHaveValue('10');
  await expect(limits.getByLabel('Cap per session')).toHaveValue('');

  // The rule with N = 10: the first checkpoint of turns 1 and 2 go (each turn keeps its last).
  await limits.getByRole('button', { name: 'Thin old checkpoints' }).click();
  await expect(section.getByRole('status')).toHaveText(/^Thinned 2 checkpoints in 1 session, freed 1\.\d MiB\.$/);
  await expect(section.getByTestId('storage-sessions')).toContainText('2 old checkpoints thinned');
  await limits.getByRole('button', { name: 'Thin old checkpoints' }).click();
  await expect(section.getByRole('status')).toHaveText(/^Nothing to thin/);

  // Nonsense, refused in words: in the page, and by the host.
  await limits.getByLabel('Cap per session').fill('lots');
  await limits.getByRole('button', { name: 'Save caps' }).click();
  await expect(section.getByRole('alert').last()).toContainText('Give each cap as a size');
  await limits.getByLabel('Cap per session').fill('100 KiB');
  await limits.getByRole('button', { name: 'Save caps' }).click();
  await expect(section.getByRole('alert').last()).toContainText('give at least 1 MiB, or no cap');
  await limits.getByLabel('Cap per session').fill('10 GiB');
  await limits.getByLabel('Overall cap').fill('5 GiB');
  await limits.getByRole('button', { name: 'Save caps' }).click();
  await expect(section.getByRole('alert').last()).toContainText('the cap per session is larger than the overall cap');

  // A cap the session cannot get under (22 checkpoints of 600 KB each, all kept by the rule): its checkpoints pause, and the page says so.
  await limits.getByLabel('Cap per session').fill('2 MiB');
  await limits.getByLabel('Overall cap').fill('');
  await limits.getByLabel('Keep every checkpoint of the last').fill('10');
  await limits.getByRole('button', { name: 'Save caps' }).click();
  await expect(section.getByRole('status')).toContainText('1 session is still over a cap after thinning');
  const warning = section.getByTestId('storage-cap-paused');
  await expect(warning).toContainText('Seeded long session');
  await expect(warning).toContainText('Checkpoints of this session are paused');
  await expect(section.getByTestId('storage-sessions')).toContainText('at its cap: checkpoints paused');

  // The caps persist.
  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(limits.getByLabel('Cap per session')).toHaveValue('2.0 MiB');
  await expect(section.getByTestId('storage-cap-paused')).toHaveCount(1);

  // No caps: no warning.
  await limits.getByLabel('Cap per session').fill('');
  await limits.getByRole('button', { name: 'Save caps' }).click();
  await expect(section.getByRole('status')).toHaveText('Saved. Sessions over a cap have had their old checkpoints thinned.');
  await expect(section.getByTestId('storage-cap-paused')).toHaveCount(0);
});

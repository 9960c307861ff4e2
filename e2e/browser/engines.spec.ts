// Settings → Engines in Chromium against the real serve mode and the real local Docker engine:
// this computer's engine is listed and its Test shows the engine's facts; a URL that is neither
// ssh:// nor tcp:// is refused in words; the local engine's labels are saved and survive a reload.
// The launch dialog's Docker hand offers the engines (one on another machine is seeded in the data
// folder's engines.json: it is never reached, as a hand starts only on its first tool call) and
// requirements: a word Drover does not know is refused under the field, good ones are recorded in
// the hand's configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  const lab = {
    id: 'lab',
    kind: 'ssh',
    name: 'Lab box',
    url: 'ssh://me@lab.invalid',
    auth: { method: 'key', key_secret_id: 'sec_0123456789abcdef', passphrase_secret_id: null },
    socket_path: '/var/run/docker.sock',
    labels: ['gpu'],
  };
  const local = { id: 'local', kind: 'local', name: 'This computer', labels: [] };
  writeFileSync(path.join(dataDir, 'engines.json'), JSON.stringify({ version: 1, engines: [local, lab] }));
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

test("Launch dialog: a Docker hand's engine and requirements", async ({ page }) => {
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('On the lab box');
  await dialog.getByRole('button', { name: 'Add Docker hand' }).click();
  const hand = dialog.getByRole('group', { name: 'Hand box' });
  // The image is checked on the engine the hand starts on, at its first tool call (none here).
  await hand.getByLabel('Image').fill('busybox:1.36');
  const engine = hand.getByLabel('Engine', { exact: true });
  await expect(engine.locator('option')).toHaveText(['This computer', 'Lab box', 'Pick by requirements…']);
  await engine.selectOption({ label: 'Pick by requirements…' });
  const requirements = hand.getByLabel('Requirements', { exact: true });
  await requirements.fill('label=gpu arch=sparc');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(requirements).toHaveAttribute('aria-invalid', 'true');
  await expect(hand).toContainText('"arch=sparc" is not a requirement Drover knows');
  await expect(dialog).toBeVisible(); // nothing launched

  await requirements.fill('label=gpu cpus=2');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('navigation', { name: 'Sessions' })).toContainText('On the lab box');
  await page.getByRole('tab', { name: 'Events' }).click();
  await page.getByRole('listbox').getByRole('option').filter({ hasText: 'hand.attached' }).click();
  const detail = page.getByTestId('event-detail');
  await expect(detail).toContainText('"requirements"');
  await expect(detail).toContainText('"min_cpus": 2');
  await expect(detail).toContainText('"gpu"');
});

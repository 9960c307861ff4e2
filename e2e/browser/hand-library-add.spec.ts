// Settings → Hands library → "Add to library" (issue 23), in Chromium against the real serve mode:
// a Docker preset, a machine (a real OpenSSH server on 127.0.0.1, tested and its host key trusted
// in the form) and an MCP server (the reference server-everything) added with the Hands panel's own
// forms, each listed with its secrets by name only; a refused one says why in the form and adds
// nothing; then a new session launched with all three from the launch dialog, whose first tool
// call runs on the saved machine.
import { expect, test } from '@playwright/test';
import { BUSYBOX_IMAGE } from '#test/support/docker';
import { referenceServerEntry } from '#test/support/mcp';
import { requireSshd } from '#test/support/sshd';
import { requireChromium } from '../support/browser.ts';
import { snap } from '../support/cockpit.ts';
import { hostKeyGroup, saveSshKey } from '../support/launch.ts';
import { startMachineCockpit, type MachineCockpit } from '../support/machine.ts';

requireChromium();
const sshdReady = requireSshd();

let rig: MachineCockpit | null = null;

test.beforeAll(async () => {
  if (sshdReady) rig = await startMachineCockpit('echo added-in-settings && uname -s', 'Ran it on the machine from Settings.');
});

test.afterAll(async () => {
  await rig?.stop();
});

test('add a Docker preset, a machine and an MCP server from Settings, then launch a session with them', async ({ page }, testInfo) => {
  test.skip(!sshdReady || rig === null, 'sshd or the Secret Service is missing here (the reason is printed above)');
  if (rig === null) throw new Error('the set-up did not finish');
  const { sshd, key, user } = rig.ssh;
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1400, height: 1100 });
  await page.goto(rig.cockpit.serve.url);
  await saveSshKey(page, 'Laptop key', key.privateKey);

  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const library = page.getByTestId('hand-library');
  const kinds = library.getByRole('group', { name: 'Add to library' });

  // A Docker preset: the Docker form's fields; a refused name says so in the form and adds nothing.
  await kinds.getByRole('button', { name: 'Docker preset' }).click();
  const docker = library.getByRole('form', { name: 'Add a Docker hand' });
  await docker.getByLabel('Name', { exact: true }).fill('bad name!');
  await docker.getByLabel('Image', { exact: true }).fill(BUSYBOX_IMAGE);
  await docker.getByRole('button', { name: 'Add to library' }).click();
  await expect(docker.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(library.getByRole('table', { name: 'Saved hands' })).toHaveCount(0);
  await docker.getByLabel('Name', { exact: true }).fill('box');
  await docker.getByRole('button', { name: 'Add to library' }).click();
  await expect(docker).toBeHidden();
  await expect(library.getByRole('status')).toHaveText(`Added “box — Docker · ${BUSYBOX_IMAGE}” to the library.`);
  await expect(library.getByRole('row', { name: `box — Docker · ${BUSYBOX_IMAGE}` })).toContainText('Docker preset');

  // A machine: tested, its host key trusted, then added (with its key by name only).
  await kinds.getByRole('button', { name: 'Machine' }).click();
  const machine = library.getByRole('form', { name: 'Attach a machine' });
  await machine.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await machine.getByLabel('Port', { exact: true }).fill(String(sshd.port));
  await machine.getByLabel('User', { exact: true }).fill(user);
  await machine.getByRole('radio', { name: 'SSH key' }).check();
  await machine.getByLabel('Key', { exact: true }).selectOption({ label: 'Laptop key' });
  await machine.getByRole('button', { name: 'Test connection' }).click();
  await hostKeyGroup(machine).getByRole('button', { name: 'Trust this host' }).click();
  await expect(machine).toContainText('Linux');
  await expect(machine.getByLabel('Name', { exact: true })).toHaveValue('machine');
  await machine.getByRole('button', { name: 'Add to library' }).click();
  await expect(machine).toBeHidden();
  const machineLabel = `machine — Machine · ${user}@127.0.0.1:${sshd.port}`;
  const machineRow = library.getByRole('row', { name: machineLabel });
  await expect(machineRow).toContainText('Laptop key');
  expect(await page.content()).not.toContain(key.privateKey.split('\n')[1]);

  // An MCP server: a command and its arguments.
  await kinds.getByRole('button', { name: 'MCP server' }).click();
  const mcp = library.getByRole('form', { name: 'Add an MCP server' });
  await expect(mcp.getByLabel('Name', { exact: true })).toHaveValue('mcp');
  await mcp.getByLabel('Command', { exact: true }).fill(process.execPath);
  await mcp.getByLabel('Arguments', { exact: true }).fill(referenceServerEntry('server-everything'));
  await mcp.getByRole('button', { name: 'Add to library' }).click();
  await expect(mcp).toBeHidden();
  await expect(library.getByRole('row', { name: /^mcp — MCP server · / })).toContainText('MCP server');
  await expect(library.getByRole('table', { name: 'Saved hands' }).locator('tbody tr')).toHaveCount(3);
  await library.scrollIntoViewIfNeeded();
  // A long command wraps in its column: every row's actions stay inside the section.
  const section = await library.boundingBox();
  for (const button of await library.getByRole('button', { name: /^Delete / }).all()) {
    const box = await button.boundingBox();
    expect(box !== null && section !== null && box.x + box.width <= section.x + section.width).toBe(true);
  }
  await snap(page, testInfo, 'hand-library-added-in-settings');

  // A new session with all three, and a first message: its first tool call runs on the machine.
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('With hands from Settings');
  for (const label of [`box — Docker · ${BUSYBOX_IMAGE}`, machineLabel, /^mcp — MCP server/]) {
    const option = dialog.getByLabel('Saved hand').locator('option', { hasText: label });
    await dialog.getByLabel('Saved hand').selectOption({ label: (await option.textContent()) ?? '' });
    await dialog.getByRole('button', { name: 'Add saved hand' }).click();
  }
  for (const hand of ['box', 'machine', 'mcp']) await expect(dialog.getByRole('group', { name: `Hand ${hand}` })).toBeVisible();
  await dialog.getByLabel('First message').fill('Say hello from the machine');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toBeHidden();

  const card = page.getByTestId('approval-card');
  await expect(card).toContainText('on machine', { timeout: 60_000 });
  await card.getByRole('button', { name: 'Allow', exact: true }).click();
  await expect(page.getByTestId('transcript')).toContainText('Ran it on the machine from Settings.', { timeout: 60_000 });
  await page.getByTestId('tool-call').first().getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText(/added-in-settings\nLinux/);
  const hands = page.getByTestId('hands-panel');
  for (const hand of ['box', 'machine', 'mcp']) await expect(hands.getByRole('listitem', { name: `Hand ${hand}` })).toBeVisible();
  await snap(page, testInfo, 'launched-with-hands-from-settings');
});

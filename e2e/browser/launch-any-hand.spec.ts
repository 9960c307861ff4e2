// Launch with any hand (issue 23), in Chromium against the real serve mode and a real OpenSSH server
// on 127.0.0.1: a machine attached in one session is saved to the hand library; Settings → Hands
// library shows it with its key by name only; a new session is launched with it from the launch
// dialog, and its first tool call runs on that machine (after the approval a machine asks for).
import { expect, test } from '@playwright/test';
import { requireSshd } from '#test/support/sshd';
import { requireChromium } from '../support/browser.ts';
import { snap } from '../support/cockpit.ts';
import { hostKeyGroup, launchSession, saveSshKey, testMachineConnection } from '../support/launch.ts';
import { startMachineCockpit, type MachineCockpit } from '../support/machine.ts';

requireChromium();
const sshdReady = requireSshd();

let rig: MachineCockpit | null = null;

test.beforeAll(async () => {
  if (sshdReady) rig = await startMachineCockpit('echo hello-from-the-library && uname -s', 'Ran it on the saved machine.');
});

test.afterAll(async () => {
  await rig?.stop();
});

test('save a machine to the hand library, launch a session with it, and its first tool call runs there', async ({ page }, testInfo) => {
  test.skip(!sshdReady || rig === null, 'sshd or the Secret Service is missing here (the reason is printed above)');
  if (rig === null) throw new Error('the set-up did not finish');
  const { sshd, key, user } = rig.ssh;
  test.setTimeout(120_000);
  await page.goto(rig.cockpit.serve.url);
  await saveSshKey(page, 'Laptop key', key.privateKey);

  // A machine attached in a first session (tested, its host key trusted), then saved to the library.
  await launchSession(page, { name: 'Set up the machine' });
  const panel = page.getByTestId('hands-panel');
  await testMachineConnection(panel, { port: sshd.port, user, keyName: 'Laptop key' });
  await hostKeyGroup(panel).getByRole('button', { name: 'Trust this host' }).click();
  await expect(panel).toContainText('Linux');
  await panel.getByRole('button', { name: 'Attach', exact: true }).click();
  const machine = panel.getByRole('listitem', { name: 'Hand machine' });
  await expect(machine).toContainText(`${user}@127.0.0.1:${sshd.port}`);

  await machine.getByRole('button', { name: 'Save machine to the hand library' }).click();
  const save = machine.getByRole('form', { name: 'Save machine to the hand library' });
  await save.getByLabel('Saved hand name').fill('Build box');
  await save.getByRole('button', { name: 'Save' }).click();
  await expect(machine.getByRole('status')).toHaveText('Saved to the hand library as “Build box”.');

  // Settings → Hands library: the machine, with its key by name (never its value).
  await page.getByRole('button', { name: 'Settings' }).click();
  const library = page.getByTestId('hand-library');
  const row = library.getByRole('row', { name: 'Build box' });
  await expect(row).toContainText('Machine');
  await expect(row).toContainText(`${user}@127.0.0.1:${sshd.port}`);
  await expect(row).toContainText('Laptop key');
  expect(await page.content()).not.toContain(key.privateKey.split('\n')[1]);
  await row.scrollIntoViewIfNeeded();
  await snap(page, testInfo, 'hand-library-settings');

  // A new session launched with the saved machine and a first message: the message waits for nothing.
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('On the saved machine');
  await dialog.getByLabel('Saved hand').selectOption({ label: `Build box (Machine · ${user}@127.0.0.1:${sshd.port})` });
  await dialog.getByRole('button', { name: 'Add saved hand' }).click();
  const saved = dialog.getByRole('group', { name: 'Hand machine' });
  await expect(saved).toContainText('Machine from the library: Build box');
  // A machine asks before each command by default, as when attached in the Hands panel.
  await expect(dialog.getByLabel('Policy for machine').locator('option').first()).toHaveText('Default (ask)');
  await dialog.getByLabel('First message').fill('Say hello from the saved machine');
  await saved.scrollIntoViewIfNeeded();
  await snap(page, testInfo, 'launch-with-saved-machine');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toBeHidden();

  const card = page.getByTestId('approval-card');
  await expect(card).toContainText('on machine', { timeout: 30_000 });
  await expect(card.getByTestId('approval-command')).toHaveText('echo hello-from-the-library && uname -s');
  await card.getByRole('button', { name: 'Allow', exact: true }).click();
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Ran it on the saved machine.', { timeout: 30_000 });
  await page.getByTestId('tool-call').first().getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText(/hello-from-the-library\nLinux/);
  const hand = page.getByTestId('hands-panel').getByRole('listitem', { name: 'Hand machine' });
  await expect(hand.locator('.hand-state')).toHaveText('ready');
  await snap(page, testInfo, 'launch-any-hand-ran');
});

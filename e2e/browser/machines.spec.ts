// A personal machine as a hand, in Chromium against the real serve mode and a real OpenSSH server
// on 127.0.0.1: store an SSH key in the vault (a real gnome-keyring holds its key), attach the
// machine — Test connection shows its fingerprint, which must be trusted before attaching — and
// watch Claude run a command on it once it is allowed (a machine asks by default).
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
  if (sshdReady) rig = await startMachineCockpit('echo hello-from-ssh && uname -s', 'Ran it on your machine.');
});

test.afterAll(async () => {
  await rig?.stop();
});

test('attach a machine over SSH: test, trust its host key, attach, and run a command on it', async ({ page }, testInfo) => {
  test.skip(!sshdReady || rig === null, 'sshd or the Secret Service is missing here (the reason is printed above)');
  if (rig === null) throw new Error('the set-up did not finish');
  const { sshd, key, user } = rig.ssh;
  test.setTimeout(90_000);
  await page.goto(rig.cockpit.serve.url);

  // The key goes into the vault once; the page never sees it again.
  await saveSshKey(page, 'Laptop key', key.privateKey);

  await launchSession(page, { name: 'On my machine' });

  const panel = page.getByTestId('hands-panel');
  await testMachineConnection(panel, { port: sshd.port, user, keyName: 'Laptop key' });

  // First connection: the fingerprint is shown, exactly as ssh-keygen prints it, and must be trusted.
  const trust = hostKeyGroup(panel);
  await expect(trust).toContainText(sshd.hostFingerprint());
  await expect(panel.getByRole('button', { name: 'Attach', exact: true })).toBeDisabled();
  await snap(page, testInfo, '50-first-connection');
  await trust.getByRole('button', { name: 'Trust this host' }).click();
  await expect(panel).toContainText('Linux');
  await expect(panel).toContainText(/\d+(\.\d+)? ms/);
  await snap(page, testInfo, '51-tested');
  await panel.getByRole('button', { name: 'Attach', exact: true }).click();

  const machine = panel.getByRole('listitem', { name: 'Hand machine' });
  await expect(machine).toContainText(`SSH ${user}@127.0.0.1:${sshd.port}`);
  await expect(machine).toContainText('machine__bash');

  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Say hello from my machine');
  await box.press('Control+Enter');
  // An SSH machine asks before each command by default (guardrails): the approval card shows it;
  // nothing runs until Allow.
  const card = page.getByTestId('approval-card');
  await expect(card).toContainText('on machine', { timeout: 30_000 });
  await expect(card.getByTestId('approval-command')).toHaveText('echo hello-from-ssh && uname -s');
  await expect(machine.locator('.hand-state')).toHaveText('idle'); // it connects on the first run
  await expect(page.getByTestId('policies').getByLabel('Policy for bash')).toHaveValue('always_ask');
  await snap(page, testInfo, '52-approval-on-machine');
  await card.getByRole('button', { name: 'Allow', exact: true }).click();
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Ran it on your machine.', { timeout: 30_000 });
  await page.getByTestId('tool-call').first().getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText(/hello-from-ssh\nLinux/);
  await expect(machine.locator('.hand-state')).toHaveText('ready');
  await snap(page, testInfo, '53-ran-on-machine');
});

// Launch with any hand (issue 23), in Chromium against the real serve mode and a real OpenSSH server
// on 127.0.0.1: a machine attached in one session is saved to the hand library; Settings → Hands
// library shows it with its key by name only; a new session is launched with it from the launch
// dialog, and its first tool call runs on that machine (after the approval a machine asks for).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { startSecretService, type SecretService } from '#test/support/keyring';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { makeKey, requireSshd, TestSshd, testUser, type KeyPair } from '#test/support/sshd';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
const sshdReady = requireSshd();

let keyring: SecretService | null = null;
let sshd: TestSshd | undefined;
let key: KeyPair | undefined;
let keys: string | undefined;
let serve: ServeHandle | undefined;
let model: ModelServer | undefined;

test.beforeAll(async () => {
  if (!sshdReady) return;
  keyring = await startSecretService();
  if (keyring === null) return;
  sshd = await TestSshd.start();
  keys = mkdtempSync(path.join(tmpdir(), 'drover-e2e-keys-'));
  key = makeKey(keys);
  sshd.authorize(key);
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    respond: (request) => {
      const last = request.body.messages.at(-1);
      const answersTool = Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
      if (answersTool)
        return { kind: 'message', message: { content: [{ type: 'text', text: 'Ran it on the saved machine.' }], stop_reason: 'end_turn' } };
      return {
        kind: 'message',
        message: {
          content: [{ type: 'tool_use', name: 'machine__bash', input: { command: 'echo hello-from-the-library && uname -s' } }],
          stop_reason: 'tool_use',
        },
      };
    },
  });
  serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e', ...keyring.env });
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
  await sshd?.stop();
  await keyring?.stop();
  if (keys !== undefined) rmSync(keys, { recursive: true, force: true });
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const body = await page.screenshot({ path: `/tmp/shots/${name}.png` });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}

test('save a machine to the hand library, launch a session with it, and its first tool call runs there', async ({ page }, testInfo) => {
  test.skip(!sshdReady || keyring === null, 'sshd or the Secret Service is missing here (the reason is printed above)');
  if (serve === undefined || sshd === undefined || key === undefined) throw new Error('the set-up did not finish');
  test.setTimeout(120_000);
  const user = testUser().user;
  await page.goto(serve.url);

  await page.getByRole('button', { name: 'Settings' }).click();
  const add = page.getByRole('form', { name: 'Add a credential' });
  await add.getByLabel('Name').fill('Laptop key');
  await add.getByLabel('Kind').selectOption({ label: 'SSH private key' });
  await add.getByLabel('Value').fill(key.privateKey);
  await add.getByRole('button', { name: 'Save credential' }).click();
  await expect(page.getByRole('row', { name: 'Laptop key' })).toBeVisible();

  // A machine attached in a first session (tested, its host key trusted), then saved to the library.
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Set up the machine');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toBeHidden();
  const panel = page.getByTestId('hands-panel');
  await panel.getByRole('button', { name: 'Attach a machine' }).click();
  await panel.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await panel.getByLabel('Port', { exact: true }).fill(String(sshd.port));
  await panel.getByLabel('User', { exact: true }).fill(user);
  await panel.getByRole('radio', { name: 'SSH key' }).check();
  await panel.getByLabel('Key', { exact: true }).selectOption({ label: 'Laptop key' });
  await panel.getByRole('button', { name: 'Test connection' }).click();
  await panel
    .getByRole('group', { name: /Host key of 127\.0\.0\.1/ })
    .getByRole('button', { name: 'Trust this host' })
    .click();
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

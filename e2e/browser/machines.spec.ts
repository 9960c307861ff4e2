// A personal machine as a hand, in Chromium against the real serve mode and a real OpenSSH server
// on 127.0.0.1: store an SSH key in the vault (a real gnome-keyring holds its key), attach the
// machine — Test connection shows its fingerprint, which must be trusted before attaching — and
// watch Claude run a command on it once it is allowed (a machine asks by default).
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
        return { kind: 'message', message: { content: [{ type: 'text', text: 'Ran it on your machine.' }], stop_reason: 'end_turn' } };
      return {
        kind: 'message',
        message: {
          content: [{ type: 'tool_use', name: 'machine__bash', input: { command: 'echo hello-from-ssh && uname -s' } }],
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
  await testInfo.attach(name, { body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
}

test('attach a machine over SSH: test, trust its host key, attach, and run a command on it', async ({ page }, testInfo) => {
  test.skip(!sshdReady || keyring === null, 'sshd or the Secret Service is missing here (the reason is printed above)');
  if (serve === undefined || sshd === undefined || key === undefined) throw new Error('the set-up did not finish');
  test.setTimeout(90_000);
  await page.goto(serve.url);

  // The key goes into the vault once; the page never sees it again.
  await page.getByRole('button', { name: 'Settings' }).click();
  const add = page.getByRole('form', { name: 'Add a credential' });
  await add.getByLabel('Name').fill('Laptop key');
  await add.getByLabel('Kind').selectOption({ label: 'SSH private key' });
  await add.getByLabel('Value').fill(key.privateKey);
  await add.getByRole('button', { name: 'Save credential' }).click();
  await expect(page.getByRole('row', { name: 'Laptop key' })).toBeVisible();

  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('On my machine');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toBeHidden();

  const panel = page.getByTestId('hands-panel');
  await panel.getByRole('button', { name: 'Attach a machine' }).click();
  await panel.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await panel.getByLabel('Port', { exact: true }).fill(String(sshd.port));
  await panel.getByLabel('User', { exact: true }).fill(testUser().user);
  await panel.getByRole('radio', { name: 'SSH key' }).check();
  await panel.getByLabel('Key', { exact: true }).selectOption({ label: 'Laptop key' });
  await panel.getByRole('button', { name: 'Test connection' }).click();

  // First connection: the fingerprint is shown, exactly as ssh-keygen prints it, and must be trusted.
  const trust = panel.getByRole('group', { name: /Host key of 127\.0\.0\.1/ });
  await expect(trust).toContainText(sshd.hostFingerprint());
  await expect(panel.getByRole('button', { name: 'Attach', exact: true })).toBeDisabled();
  await snap(page, testInfo, '50-first-connection');
  await trust.getByRole('button', { name: 'Trust this host' }).click();
  await expect(panel).toContainText('Linux');
  await expect(panel).toContainText(/\d+(\.\d+)? ms/);
  await snap(page, testInfo, '51-tested');
  await panel.getByRole('button', { name: 'Attach', exact: true }).click();

  const machine = panel.getByRole('listitem', { name: 'Hand machine' });
  await expect(machine).toContainText(`SSH ${testUser().user}@127.0.0.1:${sshd.port}`);
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

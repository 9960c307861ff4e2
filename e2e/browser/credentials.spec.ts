// Credentials in Chromium against the real serve mode, whose vault key lives in a real
// gnome-keyring (a private D-Bus session started here): the first-run prompt asks for the API
// key, stores and tests it; the Settings page adds, replaces and deletes a credential. Every
// WebSocket frame the page receives is recorded: no secret value ever comes back to it.
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { startSecretService, type SecretService } from '#test/support/keyring';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const API_KEY = 'sk-ant-e2e-canary-5a7b9c1d3e';
const GIT_TOKEN = 'ghp_e2eCanaryToken_2468ace0';
const NEW_GIT_TOKEN = 'ghp_e2eCanaryToken_replaced_1357';

let keyring: SecretService | null = null;
let serve: ServeHandle | undefined;
let model: ModelServer | undefined;

test.beforeAll(async () => {
  keyring = await startSecretService();
  if (keyring === null) return;
  model = await startModelServer({
    apiKey: API_KEY,
    respond: () => ({
      kind: 'message',
      message: { content: [{ type: 'text', text: 'Hello from the stored key.' }], stop_reason: 'end_turn' },
    }),
  });
  // No ANTHROPIC_API_KEY: the key must come from the vault.
  const env: Record<string, string> = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: '', ...keyring.env };
  serve = await startServeMode(env);
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
  await keyring?.stop();
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
}

test('first run asks for the key; Settings manages credentials; no value ever comes back', async ({ page }, testInfo) => {
  test.skip(keyring === null, 'no Secret Service here (the reason is printed above)');
  if (serve === undefined) throw new Error('serve mode did not start');
  const frames: string[] = [];
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));

  await page.goto(serve.url);
  const prompt = page.getByTestId('api-key-prompt');
  await expect(prompt).toContainText('Claude needs an Anthropic API key');
  await snap(page, testInfo, '40-first-run');

  // A wrong key is refused by the API, said so, and the prompt stays.
  await prompt.getByLabel('Anthropic API key').fill('sk-ant-wrong-key-000');
  await prompt.getByRole('button', { name: 'Save and test' }).click();
  await expect(prompt.getByRole('alert')).toContainText('refused the key');
  await prompt.getByLabel('Anthropic API key').fill(API_KEY);
  await prompt.getByRole('button', { name: 'Save and test' }).click();
  await expect(prompt).toHaveCount(0);

  // The stored key works: a session answers.
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Uses the stored key');
  await dialog.getByLabel('First message').fill('Say hello');
  await dialog.getByLabel('First message').press('Control+Enter');
  await expect(page.getByTestId('transcript')).toContainText('Hello from the stored key.');

  // Settings: where the key comes from, and the credentials.
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByTestId('settings');
  await expect(settings.getByTestId('api-key-source')).toContainText('the key stored in the vault');
  await settings.getByTestId('api-key-settings').getByRole('button', { name: 'Test', exact: true }).click();
  await expect(settings.getByTestId('api-key-test')).toContainText('accepted the key');
  await expect(settings).toContainText('OS keyring (Secret Service)');

  const add = settings.getByRole('form', { name: 'Add a credential' });
  await add.getByLabel('Name').fill('GitHub token');
  await add.getByLabel('Kind').selectOption({ label: 'Git token' });
  await add.getByLabel('Value').fill(GIT_TOKEN);
  await add.getByRole('button', { name: 'Save credential' }).click();
  const row = settings.getByRole('row', { name: 'GitHub token' });
  await expect(row).toContainText('Git token');
  await expect(row).toContainText('never');
  await expect(add.getByLabel('Value')).toHaveValue('');
  await snap(page, testInfo, '41-credentials');

  // A second credential of the same name is refused, saying why.
  await add.getByLabel('Name').fill('github TOKEN');
  await add.getByLabel('Value').fill('another-value-123');
  await add.getByRole('button', { name: 'Save credential' }).click();
  await expect(add.getByRole('alert')).toContainText(/already/i);
  await add.getByLabel('Name').fill('');
  await add.getByLabel('Value').fill('');

  await row.getByRole('button', { name: 'Replace' }).click();
  await row.getByLabel('New value for GitHub token').fill(NEW_GIT_TOKEN);
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(row.getByRole('button', { name: 'Replace' })).toBeVisible();

  await page.reload();
  await expect(page.getByTestId('settings').getByRole('row', { name: 'GitHub token' })).toBeVisible();
  page.once('dialog', (confirm) => void confirm.accept());
  await page.getByRole('button', { name: 'Delete GitHub token' }).click();
  await expect(page.getByTestId('settings').getByRole('row', { name: 'GitHub token' })).toHaveCount(0);

  const received = frames.join('\n');
  expect(frames.length).toBeGreaterThan(10);
  for (const value of [API_KEY, GIT_TOKEN, NEW_GIT_TOKEN]) expect(received).not.toContain(value);
  expect(await page.content()).not.toContain(API_KEY);
});

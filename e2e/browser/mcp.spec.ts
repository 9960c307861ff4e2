// MCP servers as hands, in Chromium against the real serve mode and the real reference servers
// from node_modules (run with this Node, no network): add server-everything by clicks, test it,
// attach it, watch Claude call its echo tool, turn a tool off and see it leave the next request,
// mark a tool as changing files (and unmark it), turn the server off, and import a Claude Desktop config whose token goes into the vault (a real
// gnome-keyring holds the vault's key).
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { startSecretService, type SecretService } from '#test/support/keyring';
import { referenceServerEntry } from '#test/support/mcp';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const HAND = 'everything';
const ECHO = `${HAND}__echo`;
const FINAL = 'The server echoed it back.';

let keyring: SecretService | null = null;
let serve: ServeHandle | undefined;
let model: ModelServer | undefined;

test.beforeAll(async () => {
  keyring = await startSecretService();
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    respond: (request) => {
      const last = request.body.messages.at(-1);
      const answersTool = Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
      if (answersTool) return { kind: 'message', message: { content: [{ type: 'text', text: FINAL }], stop_reason: 'end_turn' } };
      if (JSON.stringify(last).includes('Echo')) {
        return {
          kind: 'message',
          message: { content: [{ type: 'tool_use', name: ECHO, input: { message: 'hello from mcp' } }], stop_reason: 'tool_use' },
        };
      }
      return { kind: 'message', message: { content: [{ type: 'text', text: 'Noted.' }], stop_reason: 'end_turn' } };
    },
  });
  serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e', ...(keyring?.env ?? {}) });
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
  await keyring?.stop();
});

async function snap(target: Page | Locator, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await target.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
}

/** The tool names the model was offered in the last request. */
function lastOfferedTools(): string[] {
  return (model?.requests.at(-1)?.body.tools ?? []).map((tool) => tool.name);
}

test('add an MCP server by clicks, call its tool, turn a tool off, and import a Claude Desktop config', async ({ page }, testInfo) => {
  if (serve === undefined || model === undefined) throw new Error('the set-up did not finish');
  test.setTimeout(120_000);
  // Tall enough for the whole form in the hands panel's screenshots.
  await page.setViewportSize({ width: 1280, height: 1300 });
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Tools from an MCP server');
  await dialog.getByLabel('Name', { exact: true }).press('Control+Enter');
  await expect(dialog).toBeHidden();

  // Add server-everything: a command and one argument per line.
  const panel = page.getByTestId('hands-panel');
  await panel.getByRole('button', { name: 'Add MCP server' }).click();
  const form = panel.getByRole('form', { name: 'Add an MCP server' });
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('mcp');
  await form.getByLabel('Name', { exact: true }).fill(HAND);
  await expect(form.getByRole('radio', { name: 'Command (stdio)' })).toBeChecked();
  await form.getByLabel('Command', { exact: true }).fill(process.execPath);
  await form.getByLabel('Arguments', { exact: true }).fill(referenceServerEntry('server-everything'));
  await form.getByLabel('Timeout per tool call').fill('0');
  await form.getByRole('button', { name: 'Add variable' }).click();
  await form.getByRole('group', { name: 'Environment variables: variable 1' }).getByLabel('Variable name').fill('LOG_LEVEL');
  await form.getByRole('group', { name: 'Environment variables: LOG_LEVEL' }).getByLabel('Value', { exact: true }).fill('debug');
  await form.getByRole('button', { name: 'Attach', exact: true }).click();
  await expect(form.getByLabel('Timeout per tool call')).toHaveAccessibleDescription(/1 to 3600/);
  await expect(form.getByLabel('Timeout per tool call')).toBeFocused();
  await snap(form, testInfo, '59-mcp-form-problem');
  await form.getByLabel('Timeout per tool call').fill('60');
  await form.getByRole('button', { name: 'Test server' }).click();
  const result = form.getByTestId('mcp-test-result');
  await expect(result).toContainText('Started', { timeout: 30_000 });
  await expect(result.getByRole('list', { name: 'Tools' })).toContainText('echo');
  await snap(form, testInfo, '60-mcp-tested');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(form, testInfo, '60-mcp-tested-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await form.getByRole('button', { name: 'Attach', exact: true }).click();
  await expect(form).toHaveCount(0);

  const row = panel.getByRole('listitem', { name: `Hand ${HAND}` });
  await expect(row).toContainText('MCP');
  await expect(row).toContainText(referenceServerEntry('server-everything'));
  await expect(row.getByRole('switch', { name: `${HAND} on` })).toHaveAttribute('aria-checked', 'true');

  // Claude calls the server's echo tool; the transcript shows it on the server, with its result.
  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill('Echo a greeting through the MCP server');
  await message.press('Control+Enter');
  // A server not marked trusted asks before each call (guardrails): the approval card shows the
  // server's own tool name and its input; Allow runs it.
  const card = page.getByTestId('approval-card');
  await expect(card).toContainText(`on ${HAND}`, { timeout: 30_000 });
  await expect(card).toContainText('hello from mcp');
  await snap(card, testInfo, '61-mcp-approval-card');
  await card.getByRole('button', { name: 'Allow', exact: true }).click();
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText(FINAL, { timeout: 30_000 });
  const call = page.getByTestId('tool-call').first();
  await expect(call).toContainText(HAND);
  await expect(call).toContainText('echo');
  await call.getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText('hello from mcp');
  const toolRequest = model.requests.find((request) => (request.body.tools ?? []).some((tool) => tool.name === ECHO));
  expect(toolRequest, `a request offered ${ECHO}`).toBeDefined();
  await snap(page, testInfo, '61-mcp-tool-called');

  // Turn echo off in the Tools list: the next request no longer offers it, the others stay.
  await row.getByRole('button', { name: /^Tools/ }).click();
  const echo = row.getByRole('checkbox', { name: 'echo', exact: true });
  await expect(echo).toBeChecked({ timeout: 30_000 });
  await echo.uncheck();
  await expect(echo).not.toBeChecked();
  await expect(echo).toBeEnabled();
  await expect(row).toContainText('1 off');
  await snap(page, testInfo, '62-mcp-tool-off');
  const before = model.requests.length;
  await message.fill('Anything else?');
  await message.press('Control+Enter');
  await expect(transcript).toContainText('Noted.', { timeout: 30_000 });
  expect(model.requests.length).toBeGreaterThan(before);
  expect(lastOfferedTools()).not.toContain(ECHO);
  expect(lastOfferedTools().some((name) => name.startsWith(`${HAND}__`))).toBe(true);

  // Mark a tool as changing files: the row says what that means, counts it, and the transcript records the change.
  const writes = row.getByRole('checkbox', { name: 'get-sum changes files', exact: true });
  await expect(writes).not.toBeChecked();
  await expect(row.getByText(/after this tool runs, Drover checkpoints the files of this session’s hands/)).toBeVisible();
  await writes.check();
  await expect(writes).toBeChecked();
  await expect(writes).toBeEnabled();
  await expect(row.getByRole('button', { name: /^Tools/ })).toContainText('1 file-changing');
  await expect(transcript).toContainText('get-sum marked as changing files');
  await snap(row, testInfo, '62b-mcp-tool-changes-files');
  await writes.uncheck();
  await expect(row.getByRole('button', { name: /^Tools/ })).not.toContainText('file-changing');
  await expect(transcript).toContainText('get-sum no longer marked as changing files');

  await row.getByRole('button', { name: 'Server log' }).click();
  await expect(row.locator('.mcp-panel')).toBeVisible();

  // The whole server off: its tools are not offered at all.
  await row.getByRole('switch', { name: `${HAND} on` }).click();
  await expect(row).toContainText('Off — its tools are not offered');
  await expect(row.getByRole('switch', { name: `${HAND} on` })).toHaveAttribute('aria-checked', 'false');
  await snap(page, testInfo, '63-mcp-off');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(page, testInfo, '64-mcp-off-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // A server used before (in any session) fills the form in one pick, under a free name.
  await panel.getByRole('button', { name: 'Add MCP server' }).click();
  const usedBefore = form.getByLabel('Used before');
  await usedBefore.selectOption((await usedBefore.locator('option', { hasText: /^everything — / }).getAttribute('value')) ?? 'missing');
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('everything-2');
  await expect(form.getByLabel('Command', { exact: true })).toHaveValue(process.execPath);
  await expect(form.getByRole('textbox', { name: 'Variable name' })).toHaveValue('LOG_LEVEL');
  await form.getByRole('button', { name: 'Cancel' }).click();

  // Import a Claude Desktop config: the token goes into the vault, the server attaches.
  test.skip(keyring === null, 'the Secret Service is missing here: the import (which stores a token in the vault) is not tried');
  await panel.getByRole('button', { name: 'Add MCP server' }).click();
  const config = {
    mcpServers: {
      memory: {
        command: process.execPath,
        args: [referenceServerEntry('server-memory')],
        env: { API_TOKEN: 'tok-e2e-not-a-real-token-0123456789' },
      },
      broken: { note: 'neither a command nor a url' },
    },
  };
  await form
    .getByLabel('Import from Claude Desktop config…')
    .setInputFiles({ name: 'claude_desktop_config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(config)) });
  const review = panel.getByRole('region', { name: 'Import MCP servers' });
  const memory = review.getByRole('listitem', { name: 'Server memory' });
  await expect(memory).toContainText(/API_TOKEN.*vault/);
  await expect(review).toContainText('broken');
  await expect(review).not.toContainText('tok-e2e-not-a-real-token');
  await snap(review, testInfo, '65-mcp-import');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(review, testInfo, '66-mcp-import-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await review.getByRole('button', { name: /^Attach .*selected$/ }).click();
  await expect(review).toHaveCount(0);
  const imported = panel.getByRole('listitem', { name: 'Hand memory' });
  await expect(imported).toContainText('MCP');
  await imported.getByRole('button', { name: /^Tools/ }).click();
  await expect(imported.getByRole('list', { name: 'Tools' })).toContainText('create_entities', { timeout: 30_000 });
  await snap(page, testInfo, '67-mcp-imported');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snap(page, testInfo, '68-mcp-imported-dark');
});

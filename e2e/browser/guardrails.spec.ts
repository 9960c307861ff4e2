// Guardrails in Chromium against the real serve mode, the real Docker engine and the local Messages
// API server: a Docker hand set to "Ask" at launch waits for approval (the approval card; the hand
// never starts before Allow), Enter allows it, "Allow similar" adds a rule the Hands panel lists and
// the next such command runs without asking, Esc → a deny message the model's next request carries;
// the waiting count in the window title and the sidebar; a desktop notification (the real
// Notification API, observed through an init-script spy); the budget meter, budget_reached and
// raising the cap.
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { BASH_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
const dockerReady = await requireDocker();
test.skip(!dockerReady, 'the Docker engine is not available (the reason is printed above)');

const INSTANCE_LABEL = 'app.drover.instance';
let serve: ServeHandle | undefined;
let model: ModelServer | undefined;
const instances = new Set<string>();

type Message = RecordedRequest['body']['messages'][number];
const blocksOf = (message: Message | undefined): Array<{ type: string; text?: string }> =>
  Array.isArray(message?.content) ? (message.content as Array<{ type: string; text?: string }>) : [];

/** The user's last typed message in a request (skipping tool results). */
function lastUserText(request: RecordedRequest): string {
  for (const message of [...request.body.messages].reverse()) {
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    const text = blocksOf(message).find((block) => block.type === 'text')?.text;
    if (text !== undefined) return text;
  }
  return '';
}

const bash = (command: string, usage?: { input_tokens: number; output_tokens: number }): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'tool_use', name: 'box__bash', input: { command } }], stop_reason: 'tool_use', ...(usage ? { usage } : {}) },
});
const COMMANDS: Record<string, string> = { one: 'echo ran-one', two: 'ls /etc', three: 'ls /', four: 'rm -rf /important' };

test.beforeAll(async () => {
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    respond: (request) => {
      const said = lastUserText(request);
      const answersTool = blocksOf(request.body.messages.at(-1)).some((block) => block.type === 'tool_result');
      if (answersTool)
        return { kind: 'message', message: { content: [{ type: 'text', text: `Finished ${said}.` }], stop_reason: 'end_turn' } };
      if (said === 'costly') return bash('echo costly', { input_tokens: 200_000, output_tokens: 10 });
      if (said === 'five') {
        const calls = ['echo first-of-two', 'echo second-of-two'].map((command) => ({
          type: 'tool_use' as const,
          name: 'box__bash',
          input: { command },
        }));
        return { kind: 'message', message: { content: calls, stop_reason: 'tool_use' } };
      }
      return bash(COMMANDS[said] ?? 'echo unknown');
    },
  });
  serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e' });
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
  for (const instance of instances) {
    const images = dockerCli('image', 'ls', '-q', '--filter', `label=${INSTANCE_LABEL}=${instance}`).split('\n').filter(Boolean);
    if (images.length > 0) dockerCli('image', 'rm', '-f', ...new Set(images));
  }
});

async function snap(target: Page | Locator, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  const body = 'goto' in target ? await target.screenshot({ path, fullPage: true }) : await target.screenshot({ path });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}

async function launch(page: Page, title: string, options: { policy?: string; budget?: string }): Promise<void> {
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(title);
  // The dialog remembers the last launch's hands.
  const box = dialog.getByRole('group', { name: 'Hand box' });
  if ((await box.count()) === 0) await dialog.getByRole('button', { name: 'Add Docker hand' }).click();
  await box.getByLabel('Image').fill(BASH_IMAGE);
  if (options.policy !== undefined) await dialog.getByLabel('Policy for box').selectOption({ label: options.policy });
  if (options.budget !== undefined) await dialog.getByLabel('Budget (USD)').fill(options.budget);
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toHaveCount(0);
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Control+Enter');
}

/** Records every desktop notification the page constructs (the real API underneath). */
const NOTIFICATION_SPY = () => {
  const Real = window.Notification;
  const shown: string[] = [];
  (window as unknown as { __notifications: string[] }).__notifications = shown;
  class Spy extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      shown.push(title);
    }
  }
  Object.defineProperty(window, 'Notification', { value: Spy, configurable: true, writable: true });
};
const notifications = (page: Page): Promise<string[]> =>
  page.evaluate(() => [...(window as unknown as { __notifications: string[] }).__notifications]);

test('approvals: the card, Allow (Enter), Allow similar, Deny with a message; the waiting count and a notification', async ({
  page,
  context,
}, testInfo) => {
  test.setTimeout(180_000);
  if (serve === undefined || model === undefined) throw new Error('serve mode did not start');
  await context.grantPermissions(['notifications'], { origin: serve.origin });
  await page.addInitScript(NOTIFICATION_SPY);
  await page.goto(serve.url);
  await expect(page).toHaveTitle('Drover');

  // Notifications are turned on in Settings (a user gesture asks the permission).
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByTestId('guardrails-settings');
  await settings.getByLabel(/Desktop notifications/).check();
  await expect(settings.getByLabel(/Desktop notifications/)).toBeChecked();
  await snap(settings, testInfo, '30-settings-guardrails');

  await launch(page, 'Approvals', { policy: 'Ask' });
  const panel = page.getByTestId('hands-panel');
  const hand = panel.getByRole('listitem', { name: 'Hand box' });
  const policies = page.getByTestId('policies');
  await expect(policies.getByLabel('Policy for box: all tools')).toHaveValue('always_ask');

  // 1. The card; nothing runs before Allow (the hand starts on its first run: it stays idle).
  await send(page, 'one');
  const card = page.getByTestId('approval-card');
  await expect(card).toHaveCount(1, { timeout: 30_000 });
  await expect(card).toContainText('bash');
  await expect(card).toContainText('on box');
  await expect(card.getByTestId('approval-command')).toHaveText('echo ran-one');
  // The call in the transcript says it waits for the user, not that it has no result.
  await expect(page.getByTestId('tool-call').last().locator('.tool-status')).toHaveText('waits for your approval');
  await expect(hand.locator('.hand-state')).toHaveText('idle');
  await expect(page).toHaveTitle('(1) Drover');
  await expect(page.getByTestId('session-waiting')).toHaveText('waits for you');
  await expect.poll(() => notifications(page)).toContain('Approvals waits for you');
  await snap(page, testInfo, '31-approval-card');

  // The card took the focus from the (empty) message box: Enter allows it.
  await expect(card).toBeFocused();
  await page.keyboard.press('Enter');
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Finished one.', { timeout: 60_000 });
  await expect(page.getByTestId('approval-answered').first()).toContainText('Allowed');
  await expect(hand.locator('.hand-state')).toHaveText('ready');
  await expect(page).toHaveTitle('Drover');
  await expect(page.getByTestId('session-waiting')).toHaveCount(0);
  await expect.poll(() => notifications(page)).toContain('Approvals finished');
  const container = (await hand.locator('.hand-container').textContent())?.trim() ?? '';
  instances.add(dockerCli('inspect', '--format', `{{ index .Config.Labels "${INSTANCE_LABEL}" }}`, container));

  // 2. Allow similar: says what it allows, adds a rule the panel lists; the next `ls` runs at once.
  await send(page, 'two');
  await expect(card).toHaveCount(1, { timeout: 30_000 });
  await expect(card).toContainText('allows “ls …” on box for this session');
  await card.getByRole('button', { name: 'Allow similar for this session' }).click();
  await expect(transcript).toContainText('Finished two.', { timeout: 30_000 });
  await expect(page.getByTestId('rules')).toContainText('box · bash: allow commands starting “ls”');
  await snap(page, testInfo, '32-allow-similar');
  await send(page, 'three');
  await expect(transcript).toContainText('Finished three.', { timeout: 30_000 });
  await expect(card).toHaveCount(0);

  // 3. Deny with a message: Esc goes to the deny field, Enter denies; the model reads the message.
  await send(page, 'four');
  await expect(card).toHaveCount(1, { timeout: 30_000 });
  await expect(card.getByTestId('approval-command')).toHaveText('rm -rf /important');
  await expect(card).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(card.getByLabel('Deny message')).toBeFocused();
  await page.keyboard.type('Not on this box, list it instead');
  await snap(page, testInfo, '33-deny-message');
  await page.keyboard.press('Enter');
  await expect(transcript).toContainText('Finished four.', { timeout: 30_000 });
  const last = model.requests.at(-1);
  expect(JSON.stringify(last?.body.messages.at(-1))).toContain('Not on this box, list it instead');
  await expect(page.getByTestId('approval-answered').last()).toContainText('Denied: “Not on this box, list it instead”');

  // Several calls in one message: "Allow all" answers them together.
  await send(page, 'five');
  await expect(card).toHaveCount(2, { timeout: 30_000 });
  await expect(page.getByTestId('approvals')).toContainText('2 tool calls wait for your approval.');
  await snap(page, testInfo, '34-two-waiting');
  await page.getByRole('button', { name: 'Allow all' }).click();
  await expect(transcript).toContainText('Finished five.', { timeout: 30_000 });
  await expect(card).toHaveCount(0);
  await expect(page.getByTestId('approval-answered')).toHaveCount(3);
  await expect(page.getByTestId('approval-answered').last()).toContainText('Allowed (Allow all)');

  // The rule is removable; a tool's policy is changed in the panel.
  await policies.getByRole('button', { name: /Remove the rule/ }).click();
  await expect(page.getByTestId('rules')).toHaveCount(0);
  await policies.getByLabel('Policy for editor').selectOption({ label: 'Deny' });
  await expect(policies.getByLabel('Policy for editor')).toHaveValue('deny');
  await expect(policies.getByLabel('Policy for bash')).toHaveValue('always_ask');
  await snap(page, testInfo, '35-answered');
});

test('budget: the meter, budget reached, a refused cap, and raising it continues', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);
  await launch(page, 'Budgeted', { budget: '0.01' });
  const meter = page.getByTestId('budget-meter');
  await expect(meter).toContainText('Budget $0 / $0.01');

  await send(page, 'costly');
  const reached = page.getByTestId('budget-reached');
  await expect(reached).toBeVisible({ timeout: 60_000 });
  await expect(reached).toContainText('Budget reached.');
  await expect(meter).toContainText('/ $0.01');
  await expect(meter.getByRole('meter')).toHaveAttribute('aria-valuenow', '100');
  await snap(page, testInfo, '40-budget-reached');

  await reached.getByLabel('New budget in US dollars').fill('0.01');
  await reached.getByRole('button', { name: 'Raise cap and continue' }).click();
  await expect(reached.getByRole('alert')).toContainText('Give a higher cap');
  await snap(page, testInfo, '41-budget-refused');

  await reached.getByLabel('New budget in US dollars').fill('50');
  await reached.getByRole('button', { name: 'Raise cap and continue' }).click();
  await expect(page.getByTestId('transcript')).toContainText('Finished costly.', { timeout: 60_000 });
  await expect(reached).toHaveCount(0);
  await expect(meter).toContainText('/ $50.00');
  await snap(page, testInfo, '42-budget-raised');
  const container =
    (await page.getByTestId('hands-panel').getByRole('listitem', { name: 'Hand box' }).locator('.hand-container').textContent())?.trim() ??
    '';
  if (container !== '') instances.add(dockerCli('inspect', '--format', `{{ index .Config.Labels "${INSTANCE_LABEL}" }}`, container));

  // The default budget for new sessions (Settings): a bad amount is refused in words; a launch
  // that gives none gets it, shown in its meter.
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByTestId('guardrails-settings');
  const field = settings.getByLabel('Default budget for new sessions (USD)');
  await expect(field).toBeEnabled();
  await field.fill('five');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings.getByRole('alert')).toContainText('Give the budget in US dollars');
  await field.fill('5');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings.getByRole('status')).toHaveText('New sessions get a budget of $5.00.');
  await snap(settings, testInfo, '43-default-budget');
  await launch(page, 'Default budget', {});
  await expect(page.getByTestId('budget-meter')).toContainText('Budget $0 / $5.00');
});

// A conversation in Chromium against the real serve mode, whose brain talks to a local Messages
// API server over real SSE: send a message, watch the answer stream, see the stored events, and
// stop a slow answer with the Stop button.
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

let serve: ServeHandle;
let model: ModelServer;
const ANSWER = 'The flaky test depends on the wall clock. Freeze time in the fixture and it passes every day of the week.';

test.beforeAll(async () => {
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    respond: (request) => {
      const last = JSON.stringify(request.body.messages.at(-1));
      // Slow frames so the page can be seen mid-stream.
      if (last.includes('talk slowly'))
        return {
          kind: 'message',
          message: { content: [{ type: 'text', text: 'word '.repeat(300) }], stop_reason: 'end_turn' },
          frameDelayMs: 40,
        };
      return { kind: 'message', message: { content: [{ type: 'text', text: ANSWER }], stop_reason: 'end_turn' }, frameDelayMs: 150 };
    },
  });
  serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e' });
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, {
    body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true }),
    contentType: 'image/png',
  });
}

test('send a message, watch the answer stream, and stop a long one', async ({ page }, testInfo) => {
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Flaky date test');
  await dialog.getByLabel('Name', { exact: true }).press('Control+Enter');
  await expect(page.getByText('Nothing here yet')).toBeVisible();

  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Why does the date test fail?');
  await box.press('Control+Enter');

  const live = page.getByTestId('live-response');
  await expect(live).toContainText('The flaky test');
  await expect(live).not.toContainText('every day of the week');
  await snap(page, testInfo, '11-streaming');

  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('every day of the week.');
  await expect(live).toHaveCount(0);
  await expect(page.getByTestId('timeline-position')).toContainText('session.status_idle');
  await snap(page, testInfo, '12-answered');

  await box.fill('Now talk slowly');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(live).toContainText('word word');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(transcript).toContainText('You stopped Claude');
  await expect(page.getByRole('button', { name: 'Stop' })).toHaveCount(0);
  await snap(page, testInfo, '13-stopped');

  await page.reload();
  await page.getByRole('navigation', { name: 'Sessions' }).getByText('Flaky date test').click();
  await expect(transcript).toContainText('every day of the week.');
  await expect(transcript).toContainText('You stopped Claude');
});

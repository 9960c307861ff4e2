// The cockpit as a new user meets it, in Chromium against the real serve mode: a first run with
// no key and no keyring, then a conversation (against a local Messages API server) with a message
// sent while Claude answers, a very long message, a rewind, and deleting a session with its branch.
import { expect, test, type Page } from '@playwright/test';
import { tmpdir } from 'node:os';
import { BASH_IMAGE, requireDocker } from '#test/support/docker';
import { requireChromium } from '../support/browser.ts';
import { snap, textReply, useCockpit } from '../support/cockpit.ts';
import { launchSession } from '../support/launch.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
// Attaching a Docker hand checks its image (it starts no container: nothing is run).
const dockerReady = await requireDocker();

let bare: ServeHandle | undefined;
const cockpit = useCockpit((request) => {
  const last = JSON.stringify(request.body.messages.at(-1));
  if (last.includes('talk slowly')) return textReply('word '.repeat(120), 60);
  if (last.includes('are you still there')) return textReply('Still here, after the words.');
  return textReply('Noted.');
});

test.beforeAll(async () => {
  // No key and no keyring (no session bus): nothing can be stored and nothing can be sent.
  bare = await startServeMode({ ANTHROPIC_API_KEY: '', DBUS_SESSION_BUS_ADDRESS: '', ANTHROPIC_BASE_URL: cockpit().model.url });
});

test.afterAll(async () => {
  await bare?.stop();
});

/** A session launched from the dialog with Ctrl+Enter. */
async function launch(page: Page, name: string, firstMessage?: string): Promise<void> {
  await launchSession(page, { name, ...(firstMessage === undefined ? {} : { firstMessage }) }, 'shortcut');
}

test('first run with no key and no keyring: one accurate way forward, and nothing claims a key was refused', async ({ page }, testInfo) => {
  if (bare === undefined) throw new Error('serve mode did not start');
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(bare.url);

  const prompt = page.getByTestId('api-key-prompt');
  await expect(prompt).toContainText('Drover cannot store one here');
  await expect(prompt).toContainText('Set ANTHROPIC_API_KEY in the environment Drover starts from, then restart Drover.');
  await expect(prompt).not.toContainText('Paste one');
  await expect(prompt.getByRole('textbox')).toHaveCount(0);
  await snap(page, testInfo, '60-no-keyring');

  // The favicon is linked and loads under the page's CSP.
  await expect(page.locator('link[rel="icon"]')).toHaveCount(1);
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  expect(icon).not.toBeNull();
  const loaded = await page.evaluate(async (href) => {
    const image = new Image();
    image.src = href;
    await image.decode();
    return image.naturalWidth;
  }, icon ?? '');
  expect(loaded).toBeGreaterThan(0);

  // A launch that failed its checks, cancelled, opens clean the next time.
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('');
  await dialog.getByLabel('Name', { exact: true }).press('Control+Enter');
  await expect(dialog.locator('[aria-invalid="true"]')).not.toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'New session' }).first().click();
  await expect(dialog).toBeVisible();
  await expect(dialog.locator('[aria-invalid="true"]')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await launch(page, 'No key yet', 'Hello?');
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('No Anthropic API key is set, so nothing was sent to Claude.');
  await expect(transcript).toContainText('Drover cannot store a key here (no keyring). Set ANTHROPIC_API_KEY');
  await expect(transcript).not.toContainText('refused');
  await expect(transcript.locator('.notice')).toHaveCount(1);
  await snap(page, testInfo, '61-no-key-launch');
  expect(consoleErrors).toEqual([]);
});

test('a message sent while Claude answers waits after that answer; long messages fold; a session with a branch is deleted with it', async ({
  page,
}, testInfo) => {
  // A slow answer (300 words, 40 ms apart) and a 200 KB message typed into the box: about 40 s on a quiet machine.
  test.setTimeout(150_000);
  await page.goto(cockpit().serve.url);
  await launch(page, 'Queue and fold');
  const box = page.getByRole('textbox', { name: 'Message' });
  const transcript = page.getByTestId('transcript');
  const live = page.getByTestId('live-response');

  await box.fill('Please talk slowly');
  await box.press('Control+Enter');
  await expect(live).toContainText('word word');
  await box.fill('Hello, are you still there?');
  await box.press('Control+Enter');
  const queued = transcript.getByRole('article', { name: 'Your queued message' });
  await expect(queued).toContainText('are you still there');
  // Below the answer in progress, as Claude will read it.
  const order = await transcript.evaluate((element) => {
    const liveAt = element.querySelector('[data-testid="live-response"]');
    const queuedAt = element.querySelector('[aria-label="Your queued message"]');
    return liveAt !== null && queuedAt !== null ? liveAt.compareDocumentPosition(queuedAt) & Node.DOCUMENT_POSITION_FOLLOWING : -1;
  });
  expect(order).toBeGreaterThan(0);
  await snap(page, testInfo, '62-queued');

  await expect(transcript).toContainText('Still here, after the words.');
  await expect(queued).toHaveCount(0);
  const texts = await transcript.locator('article').allInnerTexts();
  const slow = texts.findIndex((text) => text.includes('word word'));
  const second = texts.findIndex((text) => text.includes('are you still there'));
  expect(slow).toBeGreaterThan(-1);
  expect(second).toBeGreaterThan(slow);

  // A 200 KB message is folded to a readable height until "Show all".
  await box.fill(`Here is the log:\n${'0123456789 abcdefghij klmnopqrst uvwxyz ABCDEFGHIJ KLMNOP\n'.repeat(3500)}`);
  await box.press('Control+Enter');
  await expect(transcript).toContainText('Noted.');
  const long = transcript.getByRole('article', { name: 'Your message' }).filter({ hasText: 'Here is the log' });
  const folded = await long.boundingBox();
  expect(folded?.height ?? Infinity).toBeLessThan(1200);
  await long.getByRole('button', { name: /^Show all/ }).click();
  await expect.poll(async () => (await long.boundingBox())?.height ?? 0).toBeGreaterThan(5000);
  await long.getByRole('button', { name: 'Show less' }).click();
  await snap(page, testInfo, '63-folded');

  // The header counts events in words; the Events tab shows whole types.
  await expect(page.locator('.session-subtitle')).toContainText(/\d events/);
  await page.getByRole('tab', { name: 'Events' }).click();
  const badge = page.locator('.event-badge', { hasText: 'span.model_request_start' }).first();
  await expect(badge).toBeVisible();
  expect(await badge.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
  await snap(page, testInfo, '64-events');

  // Rewind to an earlier event: the conversation now has a branch.
  await transcript.getByRole('article', { name: 'Your message' }).first().locator('.seq-link').click();
  await page.getByRole('button', { name: 'Rewind to here' }).click();
  await page.getByRole('menuitem', { name: /^Conversation and files/ }).click();
  await page.getByRole('tab', { name: 'Branches' }).click();
  const current = page.locator('.branch-node-current');
  await expect(current).toBeVisible();
  const fits = await current.evaluate((element) => {
    const panel = element.closest('.branch-tree-panel');
    // Inside the panel with room to spare (its border is not cut by the panel's edge), and nothing scrolls sideways.
    return (
      panel !== null &&
      panel.scrollWidth <= panel.clientWidth &&
      element.getBoundingClientRect().right <= panel.getBoundingClientRect().right - 4
    );
  });
  expect(fits).toBe(true);
  await snap(page, testInfo, '65-branches');

  // Deleting the original says what else goes, in the same words as the tree, and does it.
  await page.locator('.branch-node').filter({ hasText: 'Queue and fold' }).click();
  let question = '';
  page.once('dialog', (dialog) => {
    question = dialog.message();
    void dialog.accept();
  });
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('navigation', { name: 'Sessions' }).getByText('Queue and fold')).toHaveCount(0);
  expect(question).toContain('and the 1 branch taken from it?');
});

test("a hand's details wrap in the narrow panel with no separator left at a line's start", async ({ page }, testInfo) => {
  test.skip(!dockerReady, 'no Docker engine here (the reason is printed above)');
  await page.goto(cockpit().serve.url);
  await launch(page, 'Hand rows');
  const panel = page.getByTestId('hands-panel');
  await panel.getByRole('button', { name: 'Add a Docker hand' }).click();
  const form = panel.getByRole('form', { name: 'Add a Docker hand' });
  await form.getByLabel('Name').fill('build-tools-with-a-long-name');
  await form.getByLabel('Image').fill(BASH_IMAGE);
  await form.getByLabel('Host folder (optional)').fill(tmpdir());
  await form.getByLabel('Container path').fill('/workspace/a-rather-long-project-folder-name');
  await form.getByLabel('Network').selectOption({ label: 'No network' });
  await form.getByRole('button', { name: 'Attach' }).click();
  const hand = panel.getByRole('listitem', { name: /^Hand / });
  await expect(hand).toContainText('no network');
  const lines = await hand.locator('.hand-metas').evaluate((group) => {
    const items = [...group.children];
    const rects = items.map((item) => item.getBoundingClientRect());
    // Where an item starts a line, its separator (at its left) must be clipped away: the point shows something else.
    const starts = items.filter((_, index) => index > 0 && (rects[index]?.top ?? 0) > (rects[index - 1]?.top ?? 0) + 1);
    const visible = (item: Element) => {
      const rect = item.getBoundingClientRect();
      return document.elementFromPoint(rect.left + 4, rect.top + rect.height / 2) === item;
    };
    // Between two items on one line the separator shows.
    const between = items.filter((item, index) => index > 0 && !starts.includes(item));
    return {
      wrapped: starts.length,
      stray: starts.filter(visible).length,
      separated: between.filter(visible).length,
      between: between.length,
    };
  });
  expect(lines.wrapped).toBeGreaterThan(0);
  expect(lines.stray).toBe(0);
  expect(lines.separated).toBe(lines.between);
  await snap(page, testInfo, '66-hand-row');
});

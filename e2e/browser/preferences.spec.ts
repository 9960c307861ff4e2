// Layout and preferences in Chromium against the real serve mode: the command palette (Ctrl+K, keyboard
// only) runs actions and opens sessions; the theme switch applies at once and survives a reload; the side
// panel, timeline and sidebar resize by keyboard and pointer and keep their size over a reload; a long
// message is folded until "Show all". The Messages API is a local server (the only stand-in).
import { expect, test, type Page } from '@playwright/test';
import { requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
await requireDocker();

let serve: ServeHandle | undefined;
let model: ModelServer | undefined;

test.beforeAll(async () => {
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    respond: () => ({ kind: 'message', message: { content: [{ type: 'text', text: 'Noted.' }], stop_reason: 'end_turn' } }),
  });
  serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e' });
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
});

function url(): string {
  if (serve === undefined) throw new Error('serve mode did not start');
  return serve.url;
}

async function launch(page: Page, name: string, firstMessage: string): Promise<void> {
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('First message').fill(firstMessage);
  await dialog.getByLabel('Name', { exact: true }).press('Control+Enter');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('transcript')).toContainText('Noted.');
}

test('the command palette opens with Ctrl+K, filters as you type and runs actions and sessions with the keyboard alone', async ({
  page,
}) => {
  await page.goto(url());
  await launch(page, 'Palette target', 'Hello');
  await page.getByRole('button', { name: 'New session' }).first().focus();

  // Ctrl+K: a modal dialog, labelled, with the field focused and every command listed.
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Command palette' });
  await expect(palette).toBeVisible();
  expect(await palette.getAttribute('aria-modal')).toBe('true');
  const field = palette.getByRole('combobox');
  await expect(field).toBeFocused();
  const options = palette.getByRole('option');
  expect(await options.count()).toBeGreaterThan(10);
  await expect(options.filter({ hasText: 'Fork from the selected event' })).toHaveCount(1);
  await expect(options.filter({ hasText: 'Palette target' })).toHaveCount(1);

  // Esc closes it and focus is back where it was.
  await page.keyboard.press('Escape');
  await expect(palette).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'New session' }).first()).toBeFocused();

  // A fuzzy query finds Settings → Engines first; arrows move the choice; Enter runs it.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('set eng');
  await expect(options.first()).toContainText('Settings: Engines');
  await expect(options.first()).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await expect(palette).toHaveCount(0);
  await expect(page).toHaveURL(/#\/settings$/);
  await expect(page.getByRole('heading', { name: 'Engines', exact: true })).toBeFocused();

  // A session by its title.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('palette targ');
  await expect(options.first()).toContainText('Palette target');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Palette target' })).toBeVisible();

  // An action: "New session…" opens the launch dialog.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('new session');
  await expect(options.first()).toContainText('New session…');
  await page.keyboard.press('Enter');
  const launchDialog = page.getByRole('dialog', { name: /New session/ });
  await expect(launchDialog).toBeVisible();
  // Not a second modal over another dialog.
  await page.keyboard.press('Control+k');
  await expect(palette).toHaveCount(0);
  await launchDialog.getByRole('button', { name: 'Cancel' }).click();

  // A session command that cannot run now says why and does nothing; one that can, runs (rewind needs a past event).
  await page.keyboard.press('Control+k');
  await page.keyboard.type('rewind conversation and files');
  const rewind = options.first();
  await expect(rewind).toHaveAttribute('aria-disabled', 'true');
  await expect(rewind).toContainText('Select an earlier event on the timeline first');
  await page.keyboard.press('Enter');
  await expect(palette).toBeVisible();
  await page.keyboard.press('Escape');
  await page.getByTestId('timeline-tape').focus();
  await page.keyboard.press('Home');
  await expect(page.getByTestId('past-bar')).toBeVisible();
  await page.keyboard.press('Control+k');
  await page.keyboard.type('back to live');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('past-bar')).toHaveCount(0);

  // Nothing matches: it says so.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('zzzzqqq');
  await expect(palette).toContainText('No command or session matches “zzzzqqq”.');
  await page.keyboard.press('Escape');
});

test('the theme switch applies at once, is remembered over a reload, and "system" follows the OS', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(url());
  const html = page.locator('html');
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await expect(html).toHaveAttribute('data-theme', 'light');
  const light = await background();

  // Settings → Appearance → Dark.
  await page.getByRole('button', { name: 'Settings' }).click();
  const appearance = page.getByTestId('appearance-settings');
  await appearance.getByRole('radio', { name: 'Dark' }).check();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  const dark = await background();
  expect(dark).not.toBe(light);
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(appearance.getByRole('radio', { name: 'Dark' })).toBeChecked();
  expect(await background()).toBe(dark);

  // From the palette: light.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('theme light');
  await page.keyboard.press('Enter');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await expect(appearance.getByRole('radio', { name: 'Light' })).toBeChecked();

  // "Same as the system" follows the OS as it changes.
  await appearance.getByRole('radio', { name: 'Same as the system' }).check();
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.reload();
  await expect(appearance.getByRole('radio', { name: 'Same as the system' })).toBeChecked();
});

test('the side panel, timeline and sidebar resize by keyboard and pointer, and keep their size over a reload', async ({ page }) => {
  await page.goto(url());
  await launch(page, 'Resize me', 'Hello');
  const panel = page.locator('.side-panel');
  const panelSplitter = page.getByRole('separator', { name: 'Resize the side panel' });
  const width = async () => Math.round((await panel.boundingBox())?.width ?? 0);
  const before = await width();
  expect(Number(await panelSplitter.getAttribute('aria-valuenow'))).toBe(before);

  // Keyboard: Tab-reachable, ← grows the panel on the right by 16px a press (64 with Shift).
  await panelSplitter.focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Shift+ArrowLeft');
  await expect(panelSplitter).toHaveAttribute('aria-valuenow', String(before + 80));
  expect(await width()).toBe(before + 80);
  // The timeline did not move: the separator took the arrow keys.
  await expect(page.getByTestId('past-bar')).toHaveCount(0);

  // Pointer: drag the edge 60px to the right (narrower).
  const box = await panelSplitter.boundingBox();
  if (box === null) throw new Error('no splitter box');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 30, box.y + box.height / 2, { steps: 3 });
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2, { steps: 3 });
  await page.mouse.up();
  await expect(panelSplitter).toHaveAttribute('aria-valuenow', String(before + 20));

  // The timeline's tape: ↑ makes it taller.
  const tape = page.getByTestId('timeline-tape');
  const tapeHeight = async () => Math.round((await tape.boundingBox())?.height ?? 0);
  const tapeBefore = await tapeHeight();
  await page.getByRole('separator', { name: 'Resize the timeline' }).focus();
  await page.keyboard.press('Shift+ArrowUp');
  expect(await tapeHeight()).toBe(tapeBefore + 32);

  // The sidebar: → widens it.
  const sidebar = page.locator('.sidebar');
  const sidebarBefore = Math.round((await sidebar.boundingBox())?.width ?? 0);
  await page.getByRole('separator', { name: 'Resize the sessions sidebar' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  expect(Math.round((await sidebar.boundingBox())?.width ?? 0)).toBe(sidebarBefore + 32);

  await page.reload();
  await expect(page.getByTestId('transcript')).toContainText('Noted.');
  expect(await width()).toBe(before + 20);
  expect(await tapeHeight()).toBe(tapeBefore + 32);
  expect(Math.round((await sidebar.boundingBox())?.width ?? 0)).toBe(sidebarBefore + 32);

  // Double-click gives the first size back (the sidebar's 300px; the side panel's a share of the window), remembered too.
  await page.getByRole('separator', { name: 'Resize the sessions sidebar' }).dblclick();
  expect(Math.round((await sidebar.boundingBox())?.width ?? 0)).toBe(sidebarBefore);
  await panelSplitter.dblclick();
  await expect(panelSplitter).toHaveAttribute('aria-valuenow', String(before));
  expect(await width()).toBe(before);
  await page.reload();
  await expect(page.getByTestId('transcript')).toContainText('Noted.');
  expect(await width()).toBe(before);
});

test('a long message is folded, "Show all" unfolds it and "Show less" folds it again', async ({ page }) => {
  await page.goto(url());
  const long = `Here is the report:\n${'A line of the report, long enough to wrap a little in the transcript.\n'.repeat(400)}The end.`;
  await launch(page, 'Fold me', 'Hello');
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(long);
  await box.press('Control+Enter');
  const transcript = page.getByTestId('transcript');
  await expect(transcript.getByRole('article', { name: 'Your message' })).toHaveCount(2);
  const message = transcript.getByRole('article', { name: 'Your message' }).filter({ hasText: 'Here is the report' });
  await expect(message).not.toContainText('The end.');
  const folded = (await message.boundingBox())?.height ?? Infinity;
  expect(folded).toBeLessThan(900);
  const showAll = message.getByRole('button', { name: /^Show all/ });
  await expect(showAll).toHaveAttribute('aria-expanded', 'false');
  await showAll.click();
  await expect(message).toContainText('The end.');
  await expect.poll(async () => (await message.boundingBox())?.height ?? 0).toBeGreaterThan(folded * 2);
  await message.getByRole('button', { name: 'Show less' }).click();
  await expect(message).not.toContainText('The end.');
});

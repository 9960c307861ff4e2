// Accessibility in Chromium against the real serve mode: axe-core (@axe-core/playwright) finds no serious or
// critical violation on each main view — first use, the launch dialog, a session with its transcript (a tool
// call run on a real Docker hand), timeline and every side panel, the forms that attach a Docker hand, a machine
// and an MCP server, the terminal pane and its tabs, the past (scrubbed back), the search dialog, Settings (and its
// Hands library), the command palette and the shortcuts — in the light AND the dark theme. The Messages API is a
// local server.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { requireDockerSpec, toolThenAnswer, toolUseReply, useCockpit } from '../support/cockpit.ts';
import { fillLaunchDialog, submitLaunchDialog } from '../support/launch.ts';

requireChromium();
await requireDockerSpec();

const ANSWER =
  'All green. What I ran:\n\n```bash\nmake test\n```\n\n| step | result |\n|---|---|\n| compile | ok |\n| test | ok |\n\nSee [the docs](https://example.com/docs) and `make help`.';

const call = toolUseReply(
  'box__bash',
  { command: "echo note > /tmp/note.txt && echo make-test-ok && printf '\\033[32mPASS\\033[0m 12 tests\\n'" },
  'Let me run the tests and write a note.',
);

const cockpit = useCockpit(toolThenAnswer(call, ANSWER), { docker: true });

interface Found {
  view: string;
  theme: string;
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/** Runs axe on the page as it is now, in the light and then the dark theme (the OS's, followed by "system"). */
async function check(page: Page, testInfo: TestInfo, view: string, found: Found[]): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    // Transitions settle before colours are judged.
    await page.waitForTimeout(250);
    const name = `a11y-${view.replaceAll(/\W+/g, '-')}-${theme}`;
    await testInfo.attach(name, { body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
    const results = await new AxeBuilder({ page }).analyze();
    for (const violation of results.violations) {
      if (violation.impact !== 'serious' && violation.impact !== 'critical') continue;
      found.push({
        view,
        theme,
        rule: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map(
          (node) => `${node.target.join(' ')}${node.failureSummary ? ` — ${node.failureSummary.replaceAll('\n', ' ')}` : ''}`,
        ),
      });
    }
  }
}

test('axe: no serious or critical violations on each main view, in the light and the dark theme', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  const { serve } = cockpit();
  const found: Found[] = [];
  await page.goto(serve.url);

  // First use: no sessions yet.
  await expect(page.getByRole('heading', { name: 'Start your first session' })).toBeVisible();
  await check(page, testInfo, 'first use', found);

  // The launch dialog, with a Docker hand and a first message.
  const dialog = await fillLaunchDialog(page, { name: 'Check the build', dockerHand: true, firstMessage: 'Make the build green' });
  await check(page, testInfo, 'launch dialog', found);
  await submitLaunchDialog(dialog, 'shortcut');

  // A session: the transcript with a tool call (opened), the timeline, each side panel.
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('See the docs', { timeout: 90_000 });
  const tool = page.getByTestId('tool-call').first();
  await expect(tool).toContainText('done');
  await tool.getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText('make-test-ok');
  await check(page, testInfo, 'session hands', found);
  for (const tab of ['Events', 'Branches', 'Changes'] as const) {
    await page.getByRole('tab', { name: tab }).click();
    await expect(page.getByRole('tab', { name: tab })).toHaveAttribute('aria-selected', 'true');
    await page.waitForTimeout(500);
    await check(page, testInfo, `session ${tab.toLowerCase()}`, found);
  }

  // The side panel's tabs by keyboard: ← / → move between them (one Tab stop), and the panel is labelled by its tab.
  const changesTab = page.getByRole('tab', { name: 'Changes' });
  await changesTab.focus();
  await page.keyboard.press('ArrowRight');
  const handsTab = page.getByRole('tab', { name: 'Hands' });
  await expect(handsTab).toBeFocused();
  await expect(handsTab).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tabpanel', { name: 'Hands' })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Events' })).toHaveAttribute('tabindex', '-1');

  // Focus is visible on everything Tab reaches in the session, in both themes: a 2px outline in the focus colour.
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await page.getByRole('button', { name: 'New session' }).first().focus();
    const unseen: string[] = [];
    for (let step = 0; step < 40; step++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const element = document.activeElement;
        if (!(element instanceof HTMLElement) || element === document.body) return null;
        const style = getComputedStyle(element);
        const name = `${element.tagName.toLowerCase()}${element.className ? `.${String(element.className).split(' ')[0]}` : ''} “${(element.getAttribute('aria-label') ?? element.textContent ?? '').trim().slice(0, 30)}”`;
        return { name, style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor };
      });
      if (focus === null) continue;
      if (focus.style === 'none' || focus.width < 2) unseen.push(`${focus.name}: outline ${focus.style} ${focus.width}px`);
    }
    expect(unseen, `focus not visible (${theme})`).toEqual([]);
  }

  // The forms that attach a hand: a Docker hand, a machine over SSH, an MCP server (each opened, checked, cancelled).
  const hands = page.getByTestId('hands-panel');
  for (const [button, view] of [
    ['Add a Docker hand', 'attach docker form'],
    ['Attach a machine', 'attach machine form'],
    ['Add MCP server', 'attach mcp form'],
  ] as const) {
    await hands.getByRole('button', { name: button, exact: true }).click();
    const cancel = hands.getByRole('button', { name: 'Cancel', exact: true });
    await expect(cancel).toBeVisible();
    await page.waitForTimeout(500);
    await check(page, testInfo, view, found);
    await cancel.click();
    await expect(cancel).toBeHidden();
  }

  // The terminal pane with two tabs on the Docker hand, its shell's prompt drawn; then both closed (the log's spans).
  await hands.getByRole('button', { name: 'Open a terminal on box' }).click();
  const terminals = page.getByTestId('terminal-pane');
  await expect(terminals.getByRole('tab', { name: 'box', exact: true })).toBeVisible();
  await hands.getByRole('button', { name: 'Open a terminal on box' }).click();
  await expect(terminals.getByRole('tab', { name: 'box 2' })).toHaveAttribute('aria-selected', 'true');
  await expect(terminals.getByTestId('terminal-screen').locator('.xterm-rows')).toContainText('#', { timeout: 60_000 });
  await check(page, testInfo, 'terminal pane', found);
  await terminals.getByRole('button', { name: 'Close terminal box 2' }).click();
  await terminals.getByRole('button', { name: 'Close terminal box', exact: true }).click();
  await expect(terminals).toBeHidden();
  await expect(page.getByTestId('terminal-band')).toHaveCount(2, { timeout: 30_000 });

  // Saved to the hand library (its form checked), for Settings' Hands library below.
  await hands.getByRole('button', { name: 'Save box to the hand library' }).click();
  await check(page, testInfo, 'save to library form', found);
  await hands.getByRole('form', { name: 'Save box to the hand library' }).getByRole('button', { name: 'Save', exact: true }).click();
  await expect(hands.locator('.hand-save-note')).toBeVisible();

  // The past: scrubbed back one turn, with Rewind / Fork, and the rewind menu open.
  const tape = page.getByTestId('timeline-tape');
  await tape.focus();
  await tape.press('Shift+ArrowLeft');
  await expect(page.getByTestId('past-bar')).toBeVisible();
  await check(page, testInfo, 'session past', found);
  await page.getByRole('button', { name: 'Rewind to here' }).click();
  await expect(page.getByRole('menu')).toBeVisible();
  await check(page, testInfo, 'rewind menu', found);
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Back to live' }).first().click();

  // The outcome dialog.
  await page.getByRole('button', { name: /^Outcome/ }).click();
  await expect(page.getByTestId('outcome-dialog')).toBeVisible();
  await check(page, testInfo, 'outcome dialog', found);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('outcome-dialog')).toBeHidden();

  // The command palette over the session.
  await page.keyboard.press('Control+k');
  await expect(page.getByRole('dialog', { name: 'Command palette' })).toBeVisible();
  await page.keyboard.type('fork');
  await check(page, testInfo, 'command palette', found);
  await page.keyboard.press('Escape');

  // Search across sessions (Ctrl+Shift+F), with hits for a command Claude ran; a modal dialog.
  await page.keyboard.press('Control+Shift+F');
  const search = page.getByRole('dialog', { name: 'Search sessions' });
  await expect(search).toBeVisible();
  await expect(search).toHaveAttribute('aria-modal', 'true');
  await page.keyboard.type('make');
  await expect(search.getByTestId('search-hit').first()).toBeVisible({ timeout: 30_000 });
  await check(page, testInfo, 'search dialog', found);
  await search.getByRole('button', { name: 'Close search' }).click();
  await expect(search).toBeHidden();

  // The keyboard shortcuts.
  await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await check(page, testInfo, 'shortcuts', found);
  await page.keyboard.press('Escape');

  // Settings.
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('settings')).toBeVisible();
  await page.waitForTimeout(1000);
  await check(page, testInfo, 'settings', found);
  // Its Hands library section, with the hand saved above.
  const library = page.getByTestId('hand-library');
  await library.scrollIntoViewIfNeeded();
  await expect(library.getByRole('table', { name: 'Saved hands' })).toContainText('box');
  await check(page, testInfo, 'settings hands library', found);

  const report = found.map((f) => `${f.view} (${f.theme}): ${f.impact} ${f.rule} — ${f.help}\n    ${f.targets.join('\n    ')}`).join('\n');
  // The whole list (an assertion's message is cut short): every view and theme at once, to fix in one go.
  if (found.length > 0) process.stdout.write(`\naxe found ${found.length} serious or critical violations:\n${report}\n`);
  expect(found, `axe found serious or critical violations:\n${report}`).toEqual([]);
});

// The cockpit end to end, in Chromium against the real serve mode, the real Docker engine and the
// local Messages API server: launch a session by clicks with a Docker hand, watch text stream,
// see a tool run, scrub back, rewind, fork, switch branches, reload and find everything as it was.
import { expect, test } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { answersTool, requireDockerSpec, snap, textReply, toolUseReply, useCockpit } from '../support/cockpit.ts';
import { fillLaunchDialog, submitLaunchDialog } from '../support/launch.ts';

requireChromium();
await requireDockerSpec();

const FINAL =
  'The build is green. Here is what I ran:\n\n```bash\nmake test\n```\n\n| step | result |\n|---|---|\n| compile | ok |\n| test | ok |\n\nNothing else needed **fixing**.';

const cockpit = useCockpit(
  (request) => {
    const text = JSON.stringify(request.body.messages.at(-1));
    if (answersTool(request)) return textReply(FINAL, 120);
    if (text.includes('try again')) return textReply('Second attempt: a different way.');
    if (text.includes('fork question')) return textReply('Answer in the fork.');
    return toolUseReply(
      'box__bash',
      { command: "echo make-test-ok && printf '\\033[32mPASS\\033[0m 12 tests\\n'" },
      'Let me run the tests first.',
    );
  },
  { docker: true },
);

test('launch by clicks, stream, run a tool, scrub, rewind, fork, switch branches, reload', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const { serve } = cockpit();
  await page.goto(serve.url);
  await expect(page.getByRole('heading', { name: 'Start your first session' })).toBeVisible();
  await snap(page, testInfo, '20-empty');

  // Launch: name, model, a Docker hand, the first message, Ctrl+Enter.
  const dialog = await fillLaunchDialog(page, { name: 'Fix the build', dockerHand: true, firstMessage: 'Make the build green' });
  await snap(page, testInfo, '21-launch-dialog');
  await submitLaunchDialog(dialog, 'shortcut');

  // The answer streams (part of it shows before the rest), after a tool ran in the container.
  const transcript = page.getByTestId('transcript');
  const live = page.getByTestId('live-response');
  // About 1.2 s of streaming (3 words a frame, 120 ms apart): seen part-way, before the end arrives.
  await expect(live).toContainText('The build is', { timeout: 60_000 });
  await expect(live).not.toContainText('Nothing else needed');
  await snap(page, testInfo, '22-streaming');
  await expect(transcript).toContainText('Nothing else needed fixing.');
  await expect(live).toHaveCount(0);
  const tool = page.getByTestId('tool-call').first();
  await expect(tool).toContainText('bash');
  await expect(tool).toContainText('done');
  await tool.getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText('make-test-ok');
  await expect(page.getByTestId('tool-output').locator('[class*="ansi-green"]')).toHaveText('PASS');
  await expect(transcript.locator('table')).toContainText('compile');
  await expect(transcript.locator('pre code')).toContainText('make test');
  await snap(page, testInfo, '23-tool-and-answer');

  // Scrub back with the keyboard: one turn back is the user's message; the answer is gone.
  const tape = page.getByTestId('timeline-tape');
  await tape.focus();
  const lastSeq = Number(await tape.getAttribute('aria-valuemax'));
  expect(lastSeq).toBeGreaterThan(8);
  await tape.press('Shift+ArrowLeft');
  const userSeq = Number(await tape.getAttribute('aria-valuenow'));
  expect(userSeq).toBeLessThan(lastSeq);
  await expect(page.getByTestId('past-bar')).toBeVisible();
  await expect(transcript).not.toContainText('Nothing else needed');
  await expect(transcript).toContainText('Make the build green');
  await tape.press('ArrowRight');
  await expect(tape).toHaveAttribute('aria-valuenow', String(userSeq + 1));
  await snap(page, testInfo, '24-scrubbed');

  // Drag the minimap to the far right: back at the newest event, live again.
  const minimap = page.getByTestId('timeline-minimap');
  const box = await minimap.boundingBox();
  if (box === null) throw new Error('the minimap is not visible');
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.move(box.x + box.width + 5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('past-bar')).toHaveCount(0);
  await expect(transcript).toContainText('Nothing else needed fixing.');

  // Rewind to the user's message: a new branch of the same conversation, shown at once.
  await tape.focus();
  await tape.press('Shift+ArrowLeft');
  await expect(tape).toHaveAttribute('aria-valuenow', String(userSeq));
  await page.getByRole('button', { name: 'Rewind to here' }).click();
  await page.getByRole('menuitem', { name: /^Conversation and files/ }).click();
  await expect(page.getByTestId('past-bar')).toHaveCount(0);
  await expect(page.getByTestId('session-view')).toContainText('branch from event');
  await expect(transcript).not.toContainText('Nothing else needed');
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill('Please try again');
  await composer.press('Control+Enter');
  await expect(transcript).toContainText('Second attempt: a different way.');
  await page.getByRole('tab', { name: 'Branches' }).click();
  const tree = page.getByTestId('branch-tree');
  await expect(tree).toContainText('Branch from #');
  await expect(tree.locator('[aria-current="true"]')).toContainText('Branch from #');
  await snap(page, testInfo, '25-rewound');
  const sidebar = page.getByRole('navigation', { name: 'Sessions' });
  await expect(sidebar.getByRole('button')).toHaveCount(1);
  await expect(sidebar).toContainText('2 branches');

  // Switch back to the first branch with one click: its answer is there, the hand restored.
  await tree.getByRole('button', { name: /Fix the build/ }).click();
  await expect(transcript).toContainText('Nothing else needed fixing.');
  await expect(transcript).not.toContainText('Second attempt');
  const original = page.url();

  // Fork from the user's message: a new session in the sidebar; the original is untouched.
  await tape.focus();
  await tape.press('Shift+ArrowLeft');
  await page.getByRole('button', { name: 'Fork from here' }).click();
  await expect(sidebar.getByRole('button')).toHaveCount(2);
  await expect(page.getByTestId('session-view')).toContainText('fork of');
  await composer.fill('A fork question');
  await composer.press('Control+Enter');
  await expect(transcript).toContainText('Answer in the fork.');
  await snap(page, testInfo, '26-forked');

  // The events inspector lists every event and shows the raw one under the cursor.
  await page.getByRole('tab', { name: 'Events' }).click();
  const list = page.getByRole('listbox');
  await expect(list.getByRole('option').first()).toBeVisible();
  await list.getByRole('option').filter({ hasText: 'session.forked' }).click();
  await expect(page.getByTestId('past-bar')).toBeVisible();
  await expect(page.getByTestId('event-detail')).toContainText('"parent_session_id"');
  await snap(page, testInfo, '27-inspector');

  // Reload the original branch at a past event: same session, branch and cursor.
  await page.goto(original);
  await tape.focus();
  await tape.press('Shift+ArrowLeft');
  const cursorBefore = await tape.getAttribute('aria-valuenow');
  await page.reload();
  await expect(page.getByTestId('timeline-tape')).toHaveAttribute('aria-valuenow', cursorBefore ?? '');
  await expect(page.getByTestId('past-bar')).toBeVisible();
  await page.getByRole('button', { name: 'Back to live' }).first().click();
  await expect(transcript).toContainText('Nothing else needed fixing.');
  await expect(sidebar).toContainText('2 branches');
  await snap(page, testInfo, '28-after-reload');

  // The OS's dark theme is followed.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByTestId('tool-call').first().getByRole('button').first().click();
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(23, 24, 28)');
  await snap(page, testInfo, '29-dark');
});

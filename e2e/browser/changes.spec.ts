// The Changes view end to end (issue 20), in Chromium against the real serve mode, the real Docker
// engine and the local Messages API server: a turn whose two tool calls write and then edit a file
// (each checkpointed by the hand), the second call's "1 file changed" opens the Changes tab on it,
// the file's diff shows the edit, "Restore this file to event N" (confirmed) puts it back, and the
// view since the start then shows the file as the first call wrote it; scrubbed back to before the
// restore, the past bar's "Files changed" shows the turn's changes up to there.
import { expect, test } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { requireDockerSpec, snap, textReply, toolUseReply, useCockpit } from '../support/cockpit.ts';
import { launchSession } from '../support/launch.ts';

requireChromium();
await requireDockerSpec();

const WRITE = "mkdir -p /work && printf 'alpha\\nbeta\\n' > /work/notes.txt";
const EDIT = "printf 'alpha\\nBETA\\ngamma\\n' > /work/notes.txt";

const cockpit = useCockpit(
  (request) => {
    const results = request.body.messages.filter(
      (message) => Array.isArray(message.content) && message.content.some((block) => block.type === 'tool_result'),
    ).length;
    if (results === 0) return toolUseReply('box__bash', { command: WRITE });
    if (results === 1) return toolUseReply('box__bash', { command: EDIT });
    return textReply('Notes written and edited.');
  },
  { docker: true },
);

test("a tool call's changed files, their diff, and one file restored", async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  await page.goto(cockpit().serve.url);
  await launchSession(page, { name: 'Notes', dockerHand: true, firstMessage: 'Write the notes, then edit them' }, 'shortcut');

  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Notes written and edited.', { timeout: 90_000 });

  // The edit's card: "1 file changed" (the checkpoint after its result) opens the Changes tab on it.
  const edit = page.getByTestId('tool-call').nth(1);
  const changed = edit.getByTestId('tool-changes');
  await expect(changed).toHaveText('1 file changed', { timeout: 30_000 });
  await expect(page.getByTestId('tool-call').first().getByTestId('tool-changes')).toHaveText(/\d+ files? changed/);
  await changed.click();
  await expect(page.getByRole('tab', { name: 'Changes' })).toHaveAttribute('aria-selected', 'true');
  const panel = page.getByRole('region', { name: 'Changed files' });
  await expect(panel.getByText('Only box.')).toBeVisible();
  const file = panel.getByRole('button', { name: 'changed: /work/notes.txt' });
  await expect(file).toBeVisible();
  await file.press('Enter');
  await expect(file).toHaveAttribute('aria-pressed', 'true');
  const diff = panel.getByRole('region', { name: 'Unified diff of /work/notes.txt' });
  await expect(diff.locator('tr.diff-del td.diff-text')).toHaveText(['removed: -beta']);
  await expect(diff.locator('tr.diff-add td.diff-text')).toHaveText(['added: +BETA', 'added: +gamma']);
  await snap(page, testInfo, '60-changes-diff');

  // Restore it to the range's start (before the edit), confirmed.
  const restore = panel.getByRole('button', { name: /^Restore this file to event \d+$/ });
  await restore.click();
  const confirm = panel.getByRole('group', { name: 'Confirm the restore' });
  await expect(confirm).toContainText('back as it was at event');
  await confirm.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(panel.getByRole('status')).toContainText('/work/notes.txt is back as it was at event', { timeout: 30_000 });
  await snap(page, testInfo, '61-restored');

  // Since the start: the file as the first call wrote it.
  await panel.getByRole('button', { name: 'Since the start' }).click();
  const added = panel.getByRole('button', { name: 'added: /work/notes.txt' });
  await added.click();
  const whole = panel.getByRole('region', { name: 'Unified diff of /work/notes.txt' });
  await expect(whole.locator('tr.diff-add td.diff-text')).toHaveText(['added: +alpha', 'added: +beta']);

  // From the timeline: one event back (before the restore), "Files changed" shows the turn up to there.
  const tape = page.getByTestId('timeline-tape');
  await tape.focus();
  await tape.press('ArrowLeft');
  await page.getByTestId('past-bar').getByRole('button', { name: 'Files changed' }).click();
  await expect(panel).toContainText(/files? changed from event \d+ to event \d+/);
  await panel.getByRole('button', { name: 'added: /work/notes.txt' }).click();
  await expect(whole.locator('tr.diff-add td.diff-text')).toHaveText(['added: +alpha', 'added: +BETA', 'added: +gamma']);
});

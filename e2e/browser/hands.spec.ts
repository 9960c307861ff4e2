// Hands in Chromium against the real serve mode and the real Docker engine: launch a session with
// a Docker hand, watch it start on Claude's first tool call and run a command, then attach,
// refuse and detach a second hand through the panel.
import { expect, test } from '@playwright/test';
import { BASH_IMAGE, dockerCli } from '#test/support/docker';
import { requireChromium } from '../support/browser.ts';
import { requireDockerSpec, snap, toolThenAnswer, toolUseReply, useCockpit } from '../support/cockpit.ts';
import { fillLaunchDialog } from '../support/launch.ts';

requireChromium();
await requireDockerSpec();

/** The label Drover puts on every container and snapshot image of one data folder. */
const INSTANCE_LABEL = 'app.drover.instance';

const call = toolUseReply('box__bash', { command: 'echo hello-from-the-container && uname -s' });
// Serve removes its containers when it stops; its snapshot images stay for forks, so stop()
// removes them (their data folder is gone).

const cockpit = useCockpit(toolThenAnswer(call, 'Done.'), { docker: true });

test('a Docker hand starts on the first tool call; hands are attached, refused and detached in the panel', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const { serve } = cockpit();
  await page.goto(serve.url);
  const dialog = await fillLaunchDialog(page, { name: 'Run a command in a box', dockerHand: true });
  await snap(dialog, testInfo, '20-new-session-with-hand');
  await dialog.getByRole('button', { name: 'Launch' }).click();

  const panel = page.getByTestId('hands-panel');
  const box = panel.getByRole('listitem', { name: 'Hand box' });
  await expect(box).toBeVisible();
  await expect(box.locator('.hand-state')).toHaveText('idle');
  await expect(box).toContainText(`Docker ${BASH_IMAGE}`);
  await expect(box).toContainText('network on');
  await expect(box).toContainText('Starts on the first tool call.');
  await expect(box).toContainText('box__bash');
  await expect(page.getByText('Nothing here yet')).toHaveCount(0);
  await snap(panel, testInfo, '21-hand-idle');

  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill('Say hello from the box');
  await message.press('Control+Enter');

  await expect(box.locator('.hand-state')).toHaveText('ready', { timeout: 60_000 });
  const container = (await box.locator('.hand-container').textContent())?.trim() ?? '';
  expect(container).toMatch(/^[0-9a-f]{12}$/);
  // The data folder's instance id, read from the hand's container while it runs.
  const instance = dockerCli('inspect', '--format', `{{ index .Config.Labels "${INSTANCE_LABEL}" }}`, container);
  const events = page.getByTestId('transcript');
  await expect(events).toContainText('Done.', { timeout: 30_000 });
  // The tool call's header opens to the whole output.
  const call = page.getByTestId('tool-call').first();
  await expect(call).toContainText('echo hello-from-the-container');
  await call.getByRole('button').first().click();
  await expect(page.getByTestId('tool-output')).toContainText(/hello-from-the-container\nLinux/);
  await expect(box.getByRole('progressbar')).toHaveCount(0);
  await snap(panel, testInfo, '22-hand-ready');
  await snap(page, testInfo, '23-session-with-hand', true);

  await panel.getByRole('button', { name: 'Add a Docker hand' }).click();
  const form = panel.getByRole('form', { name: 'Add a Docker hand' });
  await expect(form.getByLabel('Name')).toHaveValue('box-2');
  await form.getByLabel('Name').fill('web');
  await form.getByLabel('Image').fill(BASH_IMAGE);
  await form.getByLabel('Network').selectOption({ label: 'No network' });
  await expect(form.getByLabel('Read-only')).toBeChecked();
  await snap(panel, testInfo, '24-attach-form');
  await form.getByRole('button', { name: 'Attach' }).click();

  const web = panel.getByRole('listitem', { name: 'Hand web' });
  await expect(web.locator('.hand-state')).toHaveText('idle');
  await expect(web).toContainText('no network');
  await expect(web).toContainText('web__bash');
  await expect(form).toHaveCount(0);
  await expect(events).toContainText('Hand web attached');

  await panel.getByRole('button', { name: 'Add a Docker hand' }).click();
  await form.getByLabel('Name').fill('web');
  await form.getByLabel('Image').fill(BASH_IMAGE);
  await form.getByRole('button', { name: 'Attach' }).click();
  await expect(form.getByRole('alert')).toContainText('This session already has a hand named "web"');
  await snap(panel, testInfo, '25-attach-refused');
  await form.getByRole('button', { name: 'Cancel' }).click();

  let asked = '';
  page.once('dialog', (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await web.getByRole('button', { name: 'Detach web' }).click();
  expect(asked).toBe('Detach web? Its container is removed; its snapshots stay for forks.');
  await expect(web).toHaveCount(0);
  await expect(box.locator('.hand-state')).toHaveText('ready');
  await expect(events).toContainText('Hand web detached');
  await snap(panel, testInfo, '26-detached');

  await serve.stop();
  expect(dockerCli('ps', '-aq', '--filter', `label=${INSTANCE_LABEL}=${instance}`)).toBe('');
});

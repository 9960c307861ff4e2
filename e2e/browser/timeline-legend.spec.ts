// A timeline that explains itself (issue 23), in Chromium against the real serve mode and a local
// Messages API server: events in words in the Events panel and the timeline, the raw type one hover
// away; a legend for the colours; numbered turns; a time scale with zoom (buttons and Ctrl+wheel),
// remembered across a reload; the Events panel's names whole at its default width.
import { expect, test } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { answersTool, snap, textReply, toolUseReply, useCockpit } from '../support/cockpit.ts';
import { launchSession } from '../support/launch.ts';

requireChromium();

const cockpit = useCockpit((request) => {
  if (answersTool(request)) return textReply('Looked around.');
  if (JSON.stringify(request.body.messages.at(-1)).includes('again')) return textReply('Second answer.');
  // A call on a hand the session does not have: recorded as Claude's call and answered with an error.
  return toolUseReply('box__bash', { command: 'ls' });
});

test('legend, events in words with the raw type on hover, numbered turns, time scale with zoom', async ({ page }, testInfo) => {
  const { serve } = cockpit();
  test.setTimeout(90_000);
  await page.goto(serve.url);
  await launchSession(page, { name: 'Explained timeline', firstMessage: 'Look around' });
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Looked around.', { timeout: 30_000 });
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Do it again');
  await box.press('Control+Enter');
  await expect(transcript).toContainText('Second answer.', { timeout: 30_000 });

  // The timeline: the event in words (raw type in its title), the turn it is in, T1/T2 over the tape.
  const position = page.getByTestId('timeline-position');
  await expect(position).toContainText('Turn 2 of 2');
  await expect(page.getByTestId('timeline-event-name')).toHaveText(/^Turn ended/);
  await expect(page.getByTestId('timeline-event-name')).toHaveAttribute('title', 'session.status_idle');
  await expect(page.getByTestId('timeline-turns')).toContainText('T1');
  await expect(page.getByTestId('timeline-turns')).toContainText('T2');

  // The Events panel: names in words at its default width, whole; the raw type on hover.
  await page.getByRole('tab', { name: 'Events' }).click();
  const call = page.locator('.event-badge-name', { hasText: 'Claude ran a command on box' });
  await call.scrollIntoViewIfNeeded();
  await expect(call).toBeVisible();
  await expect(call).toHaveAttribute('title', 'agent.tool_use');
  expect(await call.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
  await expect(page.locator('.event-badge-name', { hasText: 'Tool failed' })).toHaveAttribute('title', 'agent.tool_result');
  await expect(page.locator('.event-badge-name', { hasText: 'You wrote' }).first()).toHaveAttribute('title', 'user.message');
  await call.hover();
  await call.click();
  const detail = page.getByTestId('event-detail');
  await expect(detail.locator('.event-badge')).toHaveText('agent.tool_use');
  await expect(detail).toContainText('Claude ran a command on box');
  await expect(page.getByTestId('timeline-event-name')).toHaveText(/^Claude ran a command on box/);
  await snap(page, testInfo, 'timeline-events-panel');

  // The legend: every colour named, with examples in words.
  await page.getByTestId('timeline-legend').locator('summary').click();
  const legend = page.getByRole('group', { name: 'Timeline legend' });
  await expect(legend).toBeVisible();
  for (const label of ['You', 'Claude', 'Tools', 'Hands', 'Session', 'Requests', 'Errors', 'Outcome', 'Verdicts'])
    await expect(legend.locator('.timeline-legend-label', { hasText: new RegExp(`^${label}$`) })).toBeVisible();
  await expect(legend.getByText('Checkpoint', { exact: false }).first()).toBeVisible();
  await expect(legend.locator('span[title="hand.checkpoint"]')).toHaveText(/Checkpoint/);
  await snap(page, testInfo, 'timeline-legend');
  await page.getByTestId('timeline-legend').locator('summary').click();
  await expect(legend).toBeHidden();

  // The time scale: events by their time; zoom with the buttons and Ctrl+wheel; remembered.
  const scale = page.getByRole('group', { name: 'Timeline scale' });
  await scale.getByRole('button', { name: 'Time' }).click();
  const timeTape = page.getByTestId('timeline-time-tape');
  await expect(timeTape).toBeVisible();
  await expect(page.getByTestId('timeline-tape')).toBeHidden();
  const zoom = page.getByTestId('timeline-zoom');
  await expect(zoom).toHaveText('1 min');
  await scale.getByRole('button', { name: 'Zoom in' }).click();
  await expect(zoom).toHaveText('15 s');
  await timeTape.hover();
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, 120);
  await page.keyboard.up('Control');
  await expect(zoom).toHaveText('1 min');
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, 120);
  await page.keyboard.up('Control');
  await expect(zoom).toHaveText('5 min');
  // The tape is still the keyboard slider, and clicking picks the nearest event in time.
  await timeTape.focus();
  await page.keyboard.press('Home');
  await expect(timeTape).toHaveAttribute('aria-valuenow', '1');
  await page.keyboard.press('End');
  await snap(page, testInfo, 'timeline-time-scale');

  await page.reload();
  await page.getByRole('navigation', { name: 'Sessions' }).getByText('Explained timeline').click();
  await expect(page.getByTestId('timeline-time-tape')).toBeVisible();
  await expect(page.getByTestId('timeline-zoom')).toHaveText('5 min');
  await page.getByRole('group', { name: 'Timeline scale' }).getByRole('button', { name: 'Events' }).click();
  await expect(page.getByTestId('timeline-tape')).toBeVisible();
});

// An imported session's hands in Chromium against the real serve mode: a file whose log attaches
// an MCP stdio command arrives with that hand off, shown for review (the command it would run);
// a message asking for its tool runs nothing; "Turn on" records the approval, and only then does
// the command run.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { HandSpecSchema } from '#shared/hands';
import { requireChromium } from '../support/browser.ts';
import { toolThenAnswer, toolUseReply, useCockpit } from '../support/cockpit.ts';

requireChromium();

const cockpit = useCockpit(toolThenAnswer(toolUseReply('evil__run', {}), 'Done.'));
const outside = mkdtempSync(path.join(tmpdir(), 'drover-e2e-import-'));
const marker = path.join(outside, 'MARKER');

test.afterAll(() => {
  rmSync(outside, { recursive: true, force: true });
});

function exportFile(): string {
  const spec = HandSpecSchema.parse({
    name: 'evil',
    config: { kind: 'mcp', transport: { type: 'stdio', command: '/bin/sh', args: ['-c', `touch ${marker}`] } },
  });
  const events = [
    { type: 'hand.attached', payload: { hand_id: spec.name, config: spec.config } },
    { type: 'user.message', payload: { content: [{ type: 'text', text: 'hello' }] } },
  ];
  const header = {
    drover_session_export: 1,
    session: { id: randomUUID(), title: 'A file from someone', created_at: new Date().toISOString(), parent_id: null, fork_seq: null },
    event_count: events.length,
  };
  const lines = events.map((event, index) => JSON.stringify({ seq: index + 1, id: randomUUID(), ts: new Date().toISOString(), ...event }));
  return `${[JSON.stringify(header), ...lines].join('\n')}\n`;
}

test('an imported MCP command is shown for review and runs only after “Turn on”', async ({ page }, testInfo) => {
  const { serve, model } = cockpit();
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.goto(serve.url);
  await page
    .locator('input[type=file]')
    .setInputFiles({ name: 'someone.drover.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(exportFile()) });
  await expect(page.getByRole('navigation', { name: 'Sessions' })).toContainText('A file from someone');
  // The sidebar says which sessions came from a file.
  await expect(page.getByTestId('session-imported')).toContainText(/imported \(#1–#\d+ from a file\)/);

  const review = page.getByTestId('imported-hands-review');
  await expect(review).toContainText('Imported from a file.');
  await expect(review.getByRole('listitem', { name: 'Imported hand evil' })).toContainText(`/bin/sh -c 'touch ${marker}'`);
  await page.screenshot({ path: testInfo.outputPath('01-review.png') });

  const requests = model.requests.length;
  await page.getByLabel('Message', { exact: true }).fill('Use your tools.');
  await page.getByLabel('Message', { exact: true }).press('Control+Enter');
  await expect.poll(() => model.requests.length).toBeGreaterThan(requests + 1);
  await expect(page.getByTestId('transcript')).toContainText('Done.');
  expect(existsSync(marker)).toBe(false);

  await review.getByRole('button', { name: 'Turn on evil' }).click();
  await expect(page.getByTestId('imported-hands-review')).toBeHidden();
  await page.getByLabel('Message', { exact: true }).fill('Now use it.');
  await page.getByLabel('Message', { exact: true }).press('Control+Enter');
  await expect.poll(() => existsSync(marker), { timeout: 30_000 }).toBe(true);
  await page.screenshot({ path: testInfo.outputPath('02-approved.png') });
});

// The sessions UI in Chromium against the real serve mode: empty state, create by clicks,
// import an exported session, fork at an event, export, reload — and a refused token.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

let serve: ServeHandle;

test.beforeAll(async () => {
  serve = await startServeMode();
});

test.afterAll(async () => {
  await serve?.stop();
});

const ids = [
  '0b7f2a10-1d2e-4f30-8a40-5b6c7d8e9f01',
  '1c8e3b21-2e3f-4a41-9b51-6c7d8e9fa012',
  '2d9f4c32-3f40-4b52-8c62-7d8e9fab1023',
  '3ea05d43-4051-4c63-9d73-8e9fab0c2134',
  '4fb16e54-5162-4d74-8e84-9fab0c1d3245',
  '50c27f65-6273-4e85-9f95-ab0c1d2e4356',
];
const events = [
  { type: 'user.message', payload: { content: [{ type: 'text', text: 'Why does the date test fail on Mondays?' }] } },
  { type: 'agent.thinking', payload: { thinking: 'Probably a week-boundary bug; run the test first.', signature: 'c2ln' } },
  { type: 'agent.tool_use', payload: { tool_use_id: 'toolu_01', name: 'bash', input: { command: 'npm test -- dates' } } },
  {
    type: 'agent.tool_result',
    payload: { tool_use_id: 'toolu_01', content: [{ type: 'text', text: '1 failed, 41 passed' }], is_error: false, status: 'completed' },
  },
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'The week starts on Sunday in the fixture; fixed it.' }] } },
  { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
].map((event, index) => ({ seq: index + 1, id: ids[index], ts: new Date(Date.UTC(2026, 10, 20, 9, 0, index)).toISOString(), ...event }));
const exported = [
  JSON.stringify({
    drover_session_export: 1,
    session: {
      id: '9a000000-0000-4000-8000-000000000000',
      title: 'Monday bug',
      created_at: '2026-11-20T09:00:00.000Z',
      parent_id: null,
      fork_seq: null,
    },
    event_count: events.length,
  }),
  ...events.map((event) => JSON.stringify(event)),
].join('\n');

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, {
    body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true }),
    contentType: 'image/png',
  });
}

test('create, import, fork and export sessions by clicks; everything survives a reload', async ({ page }, testInfo) => {
  await page.goto(serve.url);
  await expect(page.getByRole('heading', { name: 'Start your first session' })).toBeVisible();
  expect(page.url()).not.toContain('token=');
  await snap(page, testInfo, '01-empty');

  const sessions = page.getByRole('navigation', { name: 'Sessions' });
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Tidy the release notes');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(sessions).toContainText('Tidy the release notes');
  await snap(page, testInfo, '02-created');

  await page
    .locator('input[type=file]')
    .setInputFiles({ name: 'monday.drover.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(exported) });
  await expect(sessions).toContainText('Monday bug');
  await page.getByRole('tab', { name: 'Events' }).click();
  const rows = page.getByRole('listbox').getByRole('option');
  await expect(rows).toHaveCount(events.length);
  await expect(rows.nth(2)).toContainText('agent.tool_use');
  await expect(rows.nth(2)).toContainText('npm test -- dates');
  await expect(page.getByTestId('transcript')).toContainText('The week starts on Sunday');
  await snap(page, testInfo, '03-imported');

  // Select event 3 in the inspector, then fork there from the timeline's bar.
  await rows.nth(2).click();
  await expect(page.getByTestId('timeline-tape')).toHaveAttribute('aria-valuenow', '3');
  await page.getByRole('button', { name: 'Fork from here' }).click();
  await expect(sessions).toContainText('Monday bug (fork at 3)');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(3)).toContainText('session.forked');
  await snap(page, testInfo, '04-forked');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export' }).click();
  const file = await (await download).path();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(1 + 4);
  expect(lines.slice(1, 4)).toEqual(exported.split('\n').slice(1, 4));

  await page.reload();
  for (const title of ['Tidy the release notes', 'Monday bug', 'Monday bug (fork at 3)']) await expect(sessions).toContainText(title);
  await snap(page, testInfo, '05-after-reload');

  // "?" lists the keyboard shortcuts; Escape closes the list.
  await page.locator('body').press('?');
  const shortcuts = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(shortcuts).toContainText('Previous / next turn');
  await snap(page, testInfo, '06-shortcuts');
  await page.keyboard.press('Escape');
  await expect(shortcuts).toBeHidden();

  // Deleting asks first, then the session is gone (after a reload too).
  await sessions.getByText('Tidy the release notes').click();
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(sessions).not.toContainText('Tidy the release notes');
  await page.reload();
  await expect(sessions).toContainText('Monday bug');
  await expect(sessions).not.toContainText('Tidy the release notes');
});

test('a page without the token, or with a wrong one, is told what to do', async ({ browser }) => {
  const fresh = await browser.newPage();
  await fresh.goto(`${serve.origin}/`);
  await expect(fresh.getByText(/URL that `npm run serve` printed/)).toBeVisible();
  await fresh.goto(`${serve.origin}/?token=not-the-right-token-at-all`);
  await expect(fresh.getByRole('alert')).toContainText(/refused/);
  await fresh.close();
});

test('a page from another origin cannot open the RPC socket, even with the right token', async ({ browser }) => {
  const foreign = createServer((_request, response) => {
    response.setHeader('Content-Type', 'text/html');
    response.end('<!doctype html><title>Another site</title>');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  try {
    const token = new URL(serve.url).searchParams.get('token') ?? '';
    const socketUrl = `${serve.origin.replace('http:', 'ws:')}/rpc?token=${encodeURIComponent(token)}`;
    const tryOpen = (url: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(url);
        socket.onopen = () => {
          socket.close();
          resolve('open');
        };
        socket.onclose = (event) => resolve(`closed ${event.code}`);
      });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
    expect(await page.evaluate(tryOpen, socketUrl)).toBe('closed 1006');
    // The same request from Drover's own page opens: the refusal is the Origin, not the token.
    await page.goto(serve.url);
    expect(await page.evaluate(tryOpen, socketUrl)).toBe('open');
    await page.close();
  } finally {
    foreign.close();
  }
});

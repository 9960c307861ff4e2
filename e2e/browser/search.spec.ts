// Search across sessions in Chromium against the real serve mode and the real Docker engine: a command
// Claude ran on a Docker hand in one session is found from another session (Ctrl+Shift+F), with its
// output, filtered by kind; odd input gets a message; the hit opens that session at that event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { SessionStore } from '#services/session/store';
import { requireChromium } from '../support/browser.ts';
import { answersTool, requireDockerSpec, snap, textReply, toolUseReply, useCockpit } from '../support/cockpit.ts';
import { launchSession } from '../support/launch.ts';
import { startServeMode } from '../support/serve.ts';

requireChromium();
await requireDockerSpec();

/** A word only the probe command and its output contain. */
const WORD = 'zebrafinch42';

const cockpit = useCockpit(
  (request) => {
    if (answersTool(request)) return textReply('Probe done.');
    const asked = JSON.stringify(request.body.messages[0]?.content ?? '');
    if (asked.includes('Run the probe')) return toolUseReply('box__bash', { command: `echo ${WORD}-found` });
    return textReply('Hi there.');
  },
  { docker: true },
);

test('search finds a command run in another session and opens that session at that event', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const { serve } = cockpit();
  await page.goto(serve.url);

  // Session one: Claude runs the probe command on a Docker hand.
  await launchSession(page, { name: 'Probe run', dockerHand: true, firstMessage: 'Run the probe' }, 'shortcut');
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Probe done.', { timeout: 90_000 });
  const probeUrl = page.url();
  const probeId = /#\/s\/([0-9a-f-]{36})/.exec(probeUrl)?.[1];
  expect(probeId).toBeDefined();

  // Session two: unrelated; the search starts from here.
  await launchSession(page, { name: 'Other work', firstMessage: 'Hello' }, 'shortcut');
  await expect(transcript).toContainText('Hi there.');
  expect(page.url()).not.toContain(probeId ?? '');

  await page.keyboard.press('Control+Shift+F');
  const search = page.getByRole('dialog', { name: 'Search sessions' });
  await expect(search).toBeVisible();
  const box = search.getByRole('searchbox', { name: 'Search for' });
  await expect(box).toBeFocused();

  // Odd input: said, not obeyed (and nothing crashes).
  await box.fill('"');
  await expect(search.getByRole('alert')).toContainText('has none');
  await box.fill('NEAR(');
  await expect(search.getByRole('status')).toContainText('0 hits');

  await box.fill(WORD);
  const group = search.getByRole('region', { name: 'Hits in Probe run' });
  await expect(group.getByTestId('search-hit')).toHaveCount(2);
  await expect(group.getByTestId('search-hit').first()).toContainText('Tool output on box');
  await expect(group.getByTestId('search-hit').nth(1)).toContainText('Tool call on box');
  await expect(group.locator('mark').first()).toHaveText(WORD);
  await expect(search.getByRole('region', { name: 'Hits in Other work' })).toHaveCount(0);
  await snap(page, testInfo, '40-search-hits');

  // Filters: the kind of event, then the other session only.
  await search.getByLabel('Kind').selectOption({ label: 'Tool calls' });
  await expect(group.getByTestId('search-hit')).toHaveCount(1);
  await expect(group.getByTestId('search-hit')).toContainText('Tool call on box');
  await search.getByLabel('Session').selectOption({ label: 'Other work' });
  await expect(search.getByRole('status')).toContainText('0 hits');
  await search.getByLabel('Session').selectOption({ label: 'All sessions' });

  // The hit opens the probe session at the tool call, on the timeline.
  const hit = group.getByTestId('search-hit');
  const seq = Number(/#(\d+)/.exec((await hit.textContent()) ?? '')?.[1]);
  expect(seq).toBeGreaterThan(0);
  await hit.click();
  await expect(search).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`#/s/${probeId}/${seq}$`));
  await expect(page.getByTestId('timeline-tape')).toHaveAttribute('aria-valuenow', String(seq));
  await expect(page.getByTestId('past-bar')).toBeVisible();
  await expect(page.getByTestId('timeline-event-name')).toHaveAttribute('title', 'agent.tool_use');
  await snap(page, testInfo, '41-opened-at-hit');

  // The sidebar's Search button opens it too.
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Search sessions' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'Search sessions' })).toBeHidden();
});

test('a big log written before the start is searchable once indexed, and the dialog says it is indexing until then', async ({
  page,
}, testInfo) => {
  test.setTimeout(150_000);
  // 200,000 events written by the store itself before serve mode starts: the index catches up after the start.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-search-'));
  const store = SessionStore.open({ dataDir });
  const session = store.createSession({ title: 'Long build log' });
  for (let batch = 0; batch < 40; batch++) {
    store.emitEvents(
      session.id,
      Array.from({ length: 5000 }, (_, i) => ({
        type: 'agent.message' as const,
        payload: { content: [{ type: 'text' as const, text: `build step ${batch * 5000 + i} compiled module${batch * 5000 + i}` }] },
      })),
    );
  }
  store.close();
  const big = await startServeMode({ ANTHROPIC_API_KEY: 'sk-ant-e2e' }, { dataDir, keepDataDir: false });
  try {
    await page.goto(big.url);
    await page.keyboard.press('Control+Shift+F');
    const search = page.getByRole('dialog', { name: 'Search sessions' });
    await expect(search.getByRole('status')).toContainText(/Indexing… [\d,]+ events to go/);
    await snap(page, testInfo, '42-indexing');
    await search.getByRole('searchbox', { name: 'Search for' }).fill('module199999');
    await expect(search.getByRole('status')).toContainText('1 hit in 1 session', { timeout: 120_000 });
    const hit = search.getByTestId('search-hit');
    await expect(hit).toContainText('#200000');
    await expect(hit.locator('mark')).toHaveText('module199999');
  } finally {
    await big.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

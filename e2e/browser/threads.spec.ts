// Threads in the cockpit (issue 21), in Chromium against the real serve mode: a session whose
// coordinator started two threads (tester, builder) — its log written beforehand with real store
// appends (test/support/thread-log.ts, the event sequence the harness writes) — shows a lane per
// thread on the timeline, switches the transcript to one thread, and shows each thread's cost.
// A fork taken at an event inside a thread has every thread as it was then.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { SessionStore } from '#services/session/store';
import { ThreadViews } from '#services/harness/thread-views';
import { formatCost } from '#renderer/ui/format.ts';
import { threadOf } from '#shared/thread-view';
import { TESTER, threadSessionEvents } from '#test/support/thread-log';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-threads-'));
const TITLE = 'Coordinator with two threads';
let serve: ServeHandle | undefined;
/** Each thread's cost as the fold prices it (the primary first): what the thread tree must show. */
let costs: string[] = [];
/** The tester's tool call: both threads are still running there. */
let forkAt = 0;

test.beforeAll(async () => {
  const store = SessionStore.open({ dataDir });
  const { id } = store.createSession({ title: TITLE });
  const stored = store.emitEvents(id, threadSessionEvents());
  forkAt = stored.find((event) => event.type === 'agent.tool_use' && threadOf(event) === TESTER)?.seq ?? 0;
  costs = new ThreadViews(store).threads(id).map((thread) => formatCost(thread.costUsd));
  store.close();
  serve = await startServeMode({ ANTHROPIC_API_KEY: 'sk-ant-e2e-unused' }, { dataDir });
});

test.afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openSession(page: Page): Promise<void> {
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);
  await page.getByRole('navigation', { name: 'Sessions' }).getByText(TITLE).click();
  await expect(page.getByTestId('session-view')).toBeVisible();
}

test('a lane per thread on the timeline, the transcript switched to one thread, each thread’s cost', async ({ page }) => {
  await openSession(page);

  // One lane per thread, the primary first; a lane collapses and expands, the block hides and shows.
  const lanes = page.getByTestId('timeline-lane');
  await expect(lanes).toHaveCount(3);
  await expect(lanes.nth(0)).toContainText('coordinator');
  await expect(lanes.nth(1)).toContainText('tester');
  await expect(lanes.nth(2)).toContainText('builder');
  await lanes.nth(2).getByRole('button', { name: 'builder' }).click();
  await expect(lanes.nth(2)).toHaveAttribute('data-collapsed', 'true');
  await lanes.nth(2).getByRole('button', { name: 'builder' }).click();
  await expect(lanes.nth(2)).toHaveAttribute('data-collapsed', 'false');
  await page.getByRole('button', { name: 'Thread lanes' }).click();
  await expect(lanes).toHaveCount(0);
  await page.getByRole('button', { name: 'Show 3 thread lanes' }).click();
  await expect(lanes).toHaveCount(3);

  // Interleaved: every item labelled with its thread; the threads' start and reports are cards.
  const transcript = page.getByTestId('transcript');
  await expect(transcript).toContainText('Both threads finished');
  await expect(transcript).toContainText('tester is done: all good.');
  await expect(transcript).toContainText('builder is done: all good.');
  await expect(transcript.getByTestId('thread-card').filter({ hasText: 'coordinator started tester' })).toContainText(
    'Run the tests and report.',
  );
  await expect(transcript.getByTestId('transcript-thread-label').filter({ hasText: 'builder' }).first()).toBeVisible();

  // One thread: the tester's own events only.
  const threadSwitch = page.getByRole('radiogroup', { name: 'Threads shown in the transcript' });
  await threadSwitch.getByRole('radio', { name: 'tester' }).click();
  await expect(threadSwitch.getByRole('radio', { name: 'tester' })).toHaveAttribute('aria-checked', 'true');
  await expect(transcript).toContainText('tester is done: all good.');
  await expect(transcript.getByTestId('thread-card').filter({ hasText: 'tester → coordinator' })).toBeVisible();
  await expect(transcript).not.toContainText('builder is done');
  await expect(transcript).not.toContainText('Both threads finished');
  await expect(transcript.getByTestId('transcript-thread-label')).toHaveCount(0);
  await threadSwitch.getByRole('radio', { name: 'All threads' }).click();
  await expect(transcript).toContainText('Both threads finished');

  // The thread tree beside the branch tree: each thread's status, tokens and cost.
  await page.getByRole('tab', { name: 'Branches' }).click();
  const tree = page.getByTestId('thread-tree');
  const nodes = tree.getByTestId('thread-node');
  await expect(nodes).toHaveCount(3);
  await expect(nodes.nth(0)).toContainText('coordinator (primary)');
  await expect(nodes.nth(1)).toContainText('tester');
  await expect(nodes.nth(1)).toContainText('ended: ended by the coordinator');
  await expect(nodes.nth(2)).toContainText('builder');
  await expect(nodes.nth(2)).toContainText('idle');
  for (const [index, cost] of costs.entries()) await expect(nodes.nth(index).getByTestId('thread-cost')).toContainText(cost);
  await expect(nodes.nth(1).getByTestId('thread-cost')).toContainText('4.0k in · 600 out · 2 requests');
  await expect(nodes.nth(2).getByTestId('thread-cost')).toContainText('1.0k in · 100 out · 2 requests');
  // A thread in the tree is the transcript's switch too.
  await nodes.nth(2).click();
  await expect(threadSwitch.getByRole('radio', { name: 'builder' })).toHaveAttribute('aria-checked', 'true');
  await expect(transcript).not.toContainText('tester is done');
});

test('a fork at an event inside a thread has every thread as it was then', async ({ page }) => {
  await openSession(page);
  expect(forkAt).toBeGreaterThan(1);
  await page.getByTestId('timeline-tape').focus();
  await page.keyboard.press('Home');
  for (let step = 1; step < forkAt; step++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('timeline-position')).toContainText(`Event ${forkAt} of`);
  await expect(page.getByTestId('timeline-position')).toContainText('agent.tool_use');
  await page.getByRole('button', { name: 'Fork from here' }).click();
  await expect(page.getByTestId('session-view')).toContainText(`${TITLE} (fork at ${forkAt})`);

  await page.getByRole('tab', { name: 'Branches' }).click();
  const nodes = page.getByTestId('thread-tree').getByTestId('thread-node');
  await expect(nodes).toHaveCount(3);
  await expect(nodes.nth(1)).toContainText('running');
  await expect(nodes.nth(2)).toContainText('running');
  await expect(page.getByTestId('timeline-lane')).toHaveCount(3);
});

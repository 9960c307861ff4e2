// Threads in the cockpit (issue 21), in Chromium against the real serve mode. Live: a coordinator
// agent (multiagent, through the Managed Agents API) whose scripted model starts two threads, waits
// for their replies and summarises — the harness runs them; the cockpit shows a lane per thread,
// the transcript switched to one thread, and each thread's tokens and cost as the API reports them.
// Recorded: a session whose log was written beforehand with real store appends
// (test/support/thread-log.ts) for exact figures, lanes that collapse, and a fork taken at an event
// inside a thread, which has every thread as it was then.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { expect, test, type Page } from '@playwright/test';
import { SessionStore } from '#services/session/store';
import { ThreadViews } from '#services/harness/thread-views';
import { formatCost } from '#renderer/ui/format.ts';
import { threadOf } from '#shared/thread-view';
import { TESTER, threadSessionEvents } from '#test/support/thread-log';
import { startModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { compact } from '#renderer/threads/thread-model.ts';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

/** Made in beforeAll: Playwright also loads this file to list its tests, and that must leave nothing behind. */
let dataDir = '';
const TITLE = 'Coordinator with two threads';
let serve: ServeHandle | undefined;
/** Each thread's cost as the fold prices it (the primary first): what the thread tree must show. */
let costs: string[] = [];
/** The tester's tool call: both threads are still running there. */
let forkAt = 0;

test.beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-threads-'));
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
  if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
});

async function openSession(page: Page, on: ServeHandle | undefined = serve, title = TITLE): Promise<void> {
  if (on === undefined) throw new Error('serve mode did not start');
  await page.goto(on.url);
  await page.getByRole('navigation', { name: 'Sessions' }).getByText(title, { exact: true }).click();
  await expect(page.getByTestId('session-view')).toBeVisible();
}

const body = (request: RecordedRequest): string => JSON.stringify(request.body.messages);
const say = (text: string, input: number): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: input, output_tokens: 40 } },
});

/** The coordinator starts a tester and a builder, waits for both replies, summarises; each thread answers from its own context. */
function liveModel(request: RecordedRequest): Reply {
  const system = JSON.stringify(request.body.system ?? '');
  if (system.includes('You test.')) return say('Tests pass: 12 of 12.', 2100);
  if (system.includes('You build.')) return say('The build is green.', 700);
  const text = body(request);
  if (!text.includes('"tool_result"'))
    return {
      kind: 'message',
      message: {
        content: [
          { type: 'tool_use', id: 'toolu_start_tester', name: 'thread_start', input: { agent: 'tester', task: 'Run the tests.' } },
          { type: 'tool_use', id: 'toolu_start_builder', name: 'thread_start', input: { agent: 'builder', task: 'Build it.' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 1500, output_tokens: 60 },
      },
    };
  const replies = text.match(/Message from thread/g)?.length ?? 0;
  if (replies >= 2 || text.includes('every thread is idle or ended')) return say('Summary: tests pass and the build is green.', 3000);
  return {
    kind: 'message',
    message: {
      content: [{ type: 'tool_use', id: `toolu_wait_${request.body.messages.length}`, name: 'thread_wait', input: {} }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1800, output_tokens: 20 },
    },
  };
}

test('live: a coordinator starts two threads; lanes, one thread in the transcript, each thread’s tokens and cost', async ({ page }) => {
  test.setTimeout(120_000);
  const model = await startModelServer({ apiKey: 'sk-ant-e2e', respond: liveModel });
  const live = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e' }, { args: ['--api-port', '0'] });
  try {
    if (live.apiBaseURL === null) throw new Error('serve mode did not start the API');
    const token = readFileSync(path.join(live.dataDir, 'api-token'), 'utf8').trim();
    const client = new Anthropic({ baseURL: live.apiBaseURL, apiKey: token, maxRetries: 0 });
    const tester = await client.beta.agents.create({ name: 'tester', model: 'claude-sonnet-4-6', system: 'You test.' });
    const builder = await client.beta.agents.create({ name: 'builder', model: 'claude-haiku-4-5', system: 'You build.' });
    const lead = await client.beta.agents.create({
      name: 'lead',
      model: 'claude-sonnet-4-6',
      system: 'You coordinate.',
      multiagent: { type: 'coordinator', agents: [tester.id, builder.id] },
    });
    const env = await client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } } });
    const session = await client.beta.sessions.create({
      agent: lead.id,
      environment_id: env.id,
      title: 'Live threads',
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Test and build, in parallel.' }] }],
    } as never);
    for await (const event of await client.beta.sessions.events.stream(session.id)) if (event.type === 'session.status_idle') break;
    const threads: Anthropic.Beta.Sessions.Threads.BetaManagedAgentsSessionThread[] = [];
    for await (const thread of client.beta.sessions.threads.list(session.id)) threads.push(thread);
    expect(threads.map((thread) => (thread.agent.type === 'inline' ? thread.agent.name : 'primary'))).toEqual([
      'primary',
      'tester',
      'builder',
    ]);

    await openSession(page, live, 'Live threads');
    const lanes = page.getByTestId('timeline-lane');
    await expect(lanes).toHaveCount(3);
    await expect(lanes.nth(1)).toContainText('tester');
    await expect(lanes.nth(2)).toContainText('builder');
    const transcript = page.getByTestId('transcript');
    await expect(transcript).toContainText('Summary: tests pass and the build is green.');
    await expect(transcript.getByTestId('thread-card').filter({ hasText: 'tester → coordinator' })).toContainText('Tests pass: 12 of 12.');
    const threadSwitch = page.getByRole('radiogroup', { name: 'Threads shown in the transcript' });
    await threadSwitch.getByRole('radio', { name: 'builder' }).click();
    await expect(transcript).toContainText('The build is green.');
    await expect(transcript).not.toContainText('Tests pass: 12 of 12.');
    await expect(transcript).not.toContainText('Summary:');

    await page.getByRole('tab', { name: 'Branches' }).click();
    const nodes = page.getByTestId('thread-tree').getByTestId('thread-node');
    await expect(nodes).toHaveCount(3);
    // Each thread's tokens as the API counts them (the same fold), and a cost.
    for (const [index, thread] of threads.entries()) {
      const usage = thread.usage;
      if (usage === null) throw new Error(`thread ${thread.id} has no usage`);
      await expect(nodes.nth(index).getByTestId('thread-cost')).toContainText(
        `${compact(usage.input_tokens ?? 0)} in · ${compact(usage.output_tokens ?? 0)} out`,
      );
      await expect(nodes.nth(index).getByTestId('thread-cost')).toContainText('$');
    }
    await expect(nodes.nth(1).getByTestId('thread-cost')).toContainText('2.1k in · 40 out · 1 request');
    await expect(nodes.nth(2).getByTestId('thread-cost')).toContainText('700 in · 40 out · 1 request');
  } finally {
    await live.stop();
    await model.close();
  }
});

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

// Outcomes end to end, in Chromium against the real serve mode and the local Messages API server:
// launch by clicks with an outcome, the grader finds the first turn wanting, its feedback becomes a
// second turn, the second check is satisfied; the transcript shows both verdict cards, the sidebar
// says "satisfied after 2 iterations"; then the outcome is replaced from the session's dialog.
// No Docker needed: the outcome has no verification command.
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const DESCRIPTION = 'The checkout test passes, and the summary says what was wrong';
const RUBRIC = '- `npm test` passes\n- The summary names the cause of the failure';
const FIRST_TURN = 'I changed the timeout in the checkout test. It should pass now.';
const SECOND_TURN = 'Second pass: `npm test` now passes (42 tests). The cause was a **race** between two fixtures.';

let serve: ServeHandle | undefined;
let model: ModelServer | undefined;
const graderCalls: RecordedRequest[] = [];
const turnCalls: RecordedRequest[] = [];

function isGrader(request: RecordedRequest): boolean {
  const choice = request.body.tool_choice as { type: string; name?: string } | undefined;
  return choice?.type === 'tool' && choice.name === 'record_verdict';
}

function verdict(input: Record<string, unknown>, frameDelayMs = 0): Reply {
  return {
    kind: 'message',
    message: { content: [{ type: 'tool_use', name: 'record_verdict', input }], stop_reason: 'tool_use' },
    frameDelayMs,
  };
}

test.beforeAll(async () => {
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    respond: (request) => {
      if (isGrader(request)) {
        graderCalls.push(request);
        if (graderCalls.length === 1) {
          return verdict(
            {
              criteria: [
                {
                  criterion: '`npm test` passes',
                  met: false,
                  note: 'No test run is in the evidence: the agent only says it *should* pass.',
                },
                { criterion: 'The summary names the cause', met: true, note: 'It says the timeout was the problem.' },
              ],
              verdict: 'needs_revision',
              explanation: 'The fix is **not shown to work**: run `npm test` and report the result.',
            },
            400,
          ); // slow enough to see the check under way
        }
        return verdict({
          criteria: [
            { criterion: '`npm test` passes', met: true, note: 'The agent reports 42 passing tests.' },
            { criterion: 'The summary names the cause', met: true, note: 'A race between two fixtures.' },
          ],
          verdict: 'satisfied',
          explanation: 'Both criteria are met.',
        });
      }
      turnCalls.push(request);
      const text = turnCalls.length === 1 ? FIRST_TURN : SECOND_TURN;
      return { kind: 'message', message: { content: [{ type: 'text', text }], stop_reason: 'end_turn' }, frameDelayMs: 20 };
    },
  });
  serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e' });
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
}

test('launch with an outcome: needs revision, a second turn, then satisfied; replace the outcome', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);

  // Launch by clicks with an outcome: description, rubric, at most 3 checks.
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Fix the checkout test');
  await expect(dialog.getByLabel('What must be true when Claude is done')).toHaveCount(0);
  await dialog.getByLabel('Check the work against an outcome').check();
  // An empty description is refused next to its field; nothing typed is lost.
  await dialog.getByLabel('First message').fill('The checkout test is flaky: fix it.');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog.getByText('Describe the outcome: what must be true when Claude is done.')).toBeVisible();
  await expect(dialog.getByLabel('First message')).toHaveValue('The checkout test is flaky: fix it.');
  await dialog.getByLabel('What must be true when Claude is done').fill(DESCRIPTION);
  await dialog.getByLabel('Rubric').fill(RUBRIC);
  await dialog.getByLabel('Max iterations').fill('3');
  await expect(dialog.getByText('Describe the outcome')).toHaveCount(0);
  await dialog.getByLabel('Rubric').scrollIntoViewIfNeeded();
  await snap(page, testInfo, '80-launch-outcome');
  await dialog.getByRole('button', { name: 'Launch' }).click();
  await expect(dialog).toBeHidden();

  // The definition card, the check under way (in the transcript and the sidebar), then the first
  // verdict (needs revision) with its criteria.
  const transcript = page.getByTestId('transcript');
  const defined = transcript.getByTestId('outcome-defined');
  await expect(defined).toContainText(DESCRIPTION);
  await expect(defined).toContainText('at most 3 times');
  const sidebar = page.getByRole('navigation', { name: 'Sessions' });
  const state = sidebar.getByTestId('session-outcome');
  const checking = transcript.getByTestId('outcome-checking');
  await expect(checking).toContainText('Checking the work against the outcome…', { timeout: 30_000 });
  await expect(checking).toContainText('Check 1 of 3');
  await expect(state).toHaveText('checking… (1/3)');
  await snap(page, testInfo, '81-checking');
  const checks = transcript.getByTestId('outcome-check');
  await expect(checks).toHaveCount(2, { timeout: 60_000 });
  const first = checks.nth(0);
  await expect(first).toHaveAttribute('data-result', 'needs_revision');
  await expect(first).toContainText('Needs revision');
  await expect(first).toContainText('Check 1 of 3');
  await expect(first).toContainText('1 of 2 criteria met');
  await expect(first.locator('strong')).toHaveText('not shown to work');
  await expect(first.locator('.outcome-criterion[data-met="false"]')).toContainText('No test run is in the evidence');

  // The grader's feedback became a second turn; the second check is satisfied.
  await expect(transcript).toContainText('Second pass:');
  await expect(transcript).toContainText(FIRST_TURN);
  const second = checks.nth(1);
  await expect(second).toHaveAttribute('data-result', 'satisfied');
  await expect(second).toContainText('Satisfied');
  await expect(second).toContainText('Check 2 of 3');
  await expect(second).toContainText('2 of 2 criteria met');
  expect(graderCalls).toHaveLength(2);
  expect(turnCalls).toHaveLength(2);
  expect(JSON.stringify(turnCalls[1]?.body.messages)).toContain('not shown to work');

  // The sidebar says where the outcome stands, its description in the tooltip.
  await expect(state).toHaveText('✓ satisfied after 2 iterations');
  await expect(state).toHaveAttribute('title', `Outcome: ${DESCRIPTION}`);

  // The rubric is folded on the definition card until asked for.
  await expect(defined.locator('li')).toHaveCount(0);
  await defined.getByRole('button', { name: 'Rubric' }).click();
  await expect(defined.locator('li')).toHaveCount(2);
  await defined.scrollIntoViewIfNeeded();
  await snap(page, testInfo, '82-transcript-checks');

  // The events inspector counts the outcome's events under their own category.
  await page.getByRole('tab', { name: 'Events' }).click();
  await expect(page.locator('.event-filter[data-category="outcome"]')).toContainText('5');
  await second.scrollIntoViewIfNeeded();
  await snap(page, testInfo, '83-verdicts-and-timeline');

  // Replace the outcome from the session: the current one is shown, a bad value is refused inline.
  await page.getByRole('button', { name: 'Outcome…' }).click();
  const outcomeDialog = page.getByTestId('outcome-dialog');
  await expect(outcomeDialog).toBeVisible();
  await expect(outcomeDialog.getByTestId('outcome-current')).toContainText(DESCRIPTION);
  await expect(outcomeDialog.getByTestId('outcome-current')).toContainText('✓ satisfied after 2 iterations');
  await expect(outcomeDialog.getByLabel('What must be true when Claude is done')).toHaveValue(DESCRIPTION);
  await expect(outcomeDialog.getByLabel('Rubric')).toHaveValue(RUBRIC);
  await outcomeDialog.getByLabel('Max iterations').fill('25');
  await outcomeDialog.getByRole('button', { name: 'Replace outcome' }).click();
  await expect(outcomeDialog.getByText('Max iterations is a whole number from 1 to 20.')).toBeVisible();
  await expect(outcomeDialog.getByLabel('Max iterations')).toHaveAttribute('aria-invalid', 'true');
  await snap(page, testInfo, '84-replace-outcome-refused');
  await outcomeDialog.getByLabel('Max iterations').fill('5');
  await outcomeDialog.getByLabel('What must be true when Claude is done').fill('The checkout test passes 20 runs in a row');
  // The grader may use another model than the session's (the Models API's list).
  const graderModel = outcomeDialog.getByLabel('Grader model');
  await expect(graderModel).toHaveValue('');
  await expect(graderModel.locator('option')).not.toHaveCount(1);
  await graderModel.selectOption({ index: 1 });
  const chosenModel = await graderModel.inputValue();
  expect(chosenModel).not.toBe('');
  await outcomeDialog.getByRole('button', { name: 'Replace outcome' }).click();
  await expect(outcomeDialog).toBeHidden();
  await expect(transcript.getByTestId('outcome-defined')).toHaveCount(2);
  await expect(transcript.getByTestId('outcome-defined').nth(1)).toContainText('at most 5 times');
  await expect(transcript.getByTestId('outcome-defined').nth(1)).toContainText(`by ${chosenModel}`);
  await expect(state).toHaveText('outcome not checked yet');
  await snap(page, testInfo, '85-replaced');

  // The dark theme: the cards, badges and the sidebar line.
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('body')).toHaveCSS('background-color', 'rgb(23, 24, 28)');
  await checks.nth(0).scrollIntoViewIfNeeded();
  await snap(page, testInfo, '86-dark-transcript');
  await page.getByRole('button', { name: 'Outcome…' }).click();
  await expect(outcomeDialog.getByLabel('Grader model')).toHaveValue(chosenModel);
  await outcomeDialog.getByLabel('Run a command before each check').check();
  await outcomeDialog.getByRole('button', { name: 'Replace outcome' }).click();
  await expect(outcomeDialog.getByText('Give the command to run before each check, e.g. npm test.')).toBeVisible();
  await snap(page, testInfo, '87-dark-outcome-dialog');
  await outcomeDialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'New session' }).first().click();
  await dialog.getByLabel('Check the work against an outcome').check();
  await dialog.getByLabel('Run a command before each check').check();
  await dialog.getByLabel('Rubric').scrollIntoViewIfNeeded();
  await snap(page, testInfo, '88-dark-launch-outcome');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

// A session as exported, with what a Docker-less run cannot produce: a verification command's
// (coloured) output, a check out of iterations, and a check seen before its verdict.
const IMPORT_IDS = Array.from({ length: 12 }, (_, index) => `7a000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`);
const importedEvents = [
  {
    type: 'user.define_outcome',
    payload: {
      description: 'The docs build without warnings',
      rubric: '- `make docs` prints no warning',
      max_iterations: 2,
      verification: { hand_id: 'box', command: 'make docs' },
    },
  },
  { type: 'user.message', payload: { content: [{ type: 'text', text: 'Fix the docs warnings.' }] } },
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Fixed the broken links.' }] } },
  { type: 'span.outcome_evaluation_start', payload: { iteration: 1 } },
  {
    type: 'span.outcome_evaluation_end',
    payload: {
      iteration: 1,
      result: 'needs_revision',
      explanation: 'Two warnings are left.',
      criteria: [{ criterion: 'make docs prints no warning', met: false, note: '2 warnings about missing anchors.' }],
      verification: {
        hand_id: 'box',
        command: 'make docs',
        output:
          '\u001b[33mWARNING\u001b[0m missing anchor #setup\n\u001b[33mWARNING\u001b[0m missing anchor #faq\nbuild finished with 2 warnings',
        is_error: true,
      },
    },
  },
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Added the anchors.' }] } },
  { type: 'span.outcome_evaluation_start', payload: { iteration: 2 } },
  {
    type: 'span.outcome_evaluation_end',
    payload: {
      iteration: 2,
      result: 'max_iterations_reached',
      explanation: 'One warning is still there, and no checks are left.',
      criteria: [{ criterion: 'make docs prints no warning', met: false, note: '1 warning about #faq.' }],
      verification: {
        hand_id: 'box',
        command: 'make docs',
        output: '\u001b[33mWARNING\u001b[0m missing anchor #faq\nbuild finished with 1 warning',
        is_error: true,
      },
    },
  },
  { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
].map((event, index) => ({
  seq: index + 1,
  id: IMPORT_IDS[index],
  ts: new Date(Date.UTC(2026, 10, 21, 9, 0, index)).toISOString(),
  ...event,
}));
const importedJsonl = [
  JSON.stringify({
    drover_session_export: 1,
    session: {
      id: '7b000000-0000-4000-8000-000000000000',
      title: 'Docs warnings',
      created_at: '2026-11-21T09:00:00.000Z',
      parent_id: null,
      fork_seq: null,
    },
    event_count: importedEvents.length,
  }),
  ...importedEvents.map((event) => JSON.stringify(event)),
].join('\n');

test('an imported session: verification output, out of iterations, and a check before its verdict', async ({ page }, testInfo) => {
  if (serve === undefined) throw new Error('serve mode did not start');
  await page.goto(serve.url);
  await page
    .locator('input[type=file]')
    .setInputFiles({ name: 'docs.drover.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(importedJsonl) });
  const sidebar = page.getByRole('navigation', { name: 'Sessions' });
  const row = sidebar.getByRole('button').filter({ hasText: 'Docs warnings' });
  await expect(row.getByTestId('session-outcome')).toHaveText('✗ not satisfied after 2 iterations');
  await row.click();

  const transcript = page.getByTestId('transcript');
  const last = transcript.getByTestId('outcome-check').nth(1);
  await expect(last).toHaveAttribute('data-result', 'max_iterations_reached');
  await expect(last).toContainText('Check 2 of 2');
  await expect(last).toContainText('Out of iterations');
  await last.getByRole('button', { name: /Verification/ }).click();
  const output = last.getByTestId('outcome-verification-output');
  await expect(output).toContainText('build finished with 1 warning');
  await expect(output.locator('[class*="ansi-yellow"]').first()).toHaveText('WARNING');
  await snap(page, testInfo, '89-verification-output');

  // Before its verdict, a check says so (the timeline at the second check's start).
  const tape = page.getByTestId('timeline-tape');
  await tape.focus();
  await tape.press('End');
  for (let step = 0; step < 2; step++) await tape.press('ArrowLeft');
  await expect(tape).toHaveAttribute('aria-valuenow', '7');
  await expect(transcript.getByTestId('outcome-checking')).toContainText('its verdict comes later in the session');
  await expect(transcript.getByTestId('outcome-check')).toHaveCount(1);
  await snap(page, testInfo, '90-check-before-verdict');
});

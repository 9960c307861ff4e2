// Self-hosted workers in the cockpit, in Chromium against the real serve mode (--api-port): an
// environment key rotated in Settings → Local API (shown once, copied, dropped on Done), the SDK's
// own EnvironmentWorker started with it, the Hands panel showing that worker ready on this computer
// with its heartbeat, then lost once killed; the key revoked in Settings refuses the worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { expect, test } from '@playwright/test';
import { startWorker, type StartedWorker } from '#test/support/workers';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();

const TOKEN = 'drover-e2e-workers-token-0123456789';
let serve: ServeHandle | undefined;
let worker: StartedWorker | undefined;
const workdir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-worker-'));

test.beforeAll(async () => {
  // Short leases, so a killed worker is lost within the test.
  serve = await startServeMode(
    { ANTHROPIC_API_KEY: 'sk-ant-e2e-unused', DROVER_WORK_LEASE_SECONDS: '3' },
    { args: ['--api-port', '0', '--api-token', TOKEN] },
  );
});

test.afterAll(async () => {
  worker?.kill();
  await serve?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

test('an environment key rotated in Settings runs the SDK’s worker, which the Hands panel shows ready, then lost', async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  if (serve === undefined || serve.apiBaseURL === null) throw new Error('serve mode did not start its API');
  const baseURL = serve.apiBaseURL;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: serve.origin });
  page.on('dialog', (dialog) => void dialog.accept());

  const client = new Anthropic({ baseURL, apiKey: TOKEN, maxRetries: 0 });
  const env = (await client.beta.environments.create({ name: 'my-laptop', config: { type: 'self_hosted' } })) as BetaEnvironment & {
    environment_key?: string;
  };
  const created = env.environment_key ?? '';
  const agent = await client.beta.agents.create({
    name: 'remote-hands',
    model: 'claude-sonnet-4-6',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });

  // Settings → Local API → Environment keys: the environment with its key's last 4, rotated.
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  const keys = page.getByTestId('environment-keys');
  const row = keys.getByRole('listitem', { name: 'Environment my-laptop' });
  await expect(row.getByTestId('environment-key-hint')).toContainText(`ends in …${created.slice(-4)}`);
  await row.getByRole('button', { name: 'Rotate key' }).click();
  const keyField = row.getByRole('textbox', { name: 'New key' });
  await expect(keyField).toBeFocused();
  await row.getByRole('button', { name: 'Copy' }).click();
  await expect(row.getByRole('button', { name: 'Copied' })).toBeVisible();
  const key = await page.evaluate(() => navigator.clipboard.readText());
  expect(key).toMatch(/^drover-env-/);
  expect(key).not.toBe(created);
  await expect(row.getByTestId('environment-key-hint')).toContainText(`ends in …${key.slice(-4)}`);
  await row.getByRole('button', { name: 'Done' }).click();
  await expect(keyField).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText(key);

  // The SDK's worker with the copied key; the session's Hands panel shows it.
  worker = startWorker(baseURL, env.id, key, workdir, 'worker-e2e');
  await page.keyboard.press('Escape');
  const sessions = page.getByRole('navigation', { name: 'Sessions' });
  await sessions.getByText('remote-hands').first().click();
  const rowOf = page.getByTestId('hands-panel').getByRole('listitem', { name: 'Worker worker-e2e' });
  await expect(rowOf.locator('.hand-state')).toHaveText('ready', { timeout: 60_000 });
  await expect(rowOf).toContainText('on this computer');
  await expect(rowOf.getByTestId('worker-heartbeat')).toContainText('heartbeat');

  // Killed: its lease runs out and the row says it is lost.
  worker.kill();
  await expect(page.getByTestId('hands-panel').locator('[data-testid="worker-rows"] .hand-state')).toHaveText('lost', { timeout: 30_000 });
  await expect(page.getByTestId('worker-rows')).toContainText('worker-e2e stopped heartbeating');

  // Revoked in Settings: the key is refused.
  await page.getByRole('button', { name: 'Settings' }).click();
  const again = page.getByTestId('environment-keys').getByRole('listitem', { name: 'Environment my-laptop' });
  await again.getByRole('button', { name: 'Revoke' }).click();
  await expect(again.getByTestId('environment-key-hint')).toContainText('No key');
  const refused = await fetch(`${baseURL}/v1/environments/${env.id}/work/poll`, { headers: { authorization: `Bearer ${key}` } });
  expect(refused.status).toBe(401);
});

// Settings → Local API in Chromium against the real serve mode: off by default; turned on at a
// port, its first token shown, copied from the page and used by the official SDK in this process;
// the image for cloud environments set (a bad one refused in words); a taken port refused in words
// while the API goes on; a new token refuses the old one; serve mode restarted applies the saved
// settings; turned off, the port refuses connections. A token crosses the WebSocket once: in the
// answer that made it.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { freePort } from '#test/support/mcp';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
const dockerReady = await requireDocker();

// A key in the environment, so no first-run prompt stands in front of Settings.
const ENV = { ANTHROPIC_API_KEY: 'sk-ant-e2e-unused' };
// Kept across a restart of serve mode (the saved settings must apply); removed at the end.
const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-local-api-'));
let serve: ServeHandle | undefined;
let blocker: Server | undefined;

test.beforeAll(async () => {
  serve = await startServeMode(ENV, { dataDir });
});

test.afterAll(async () => {
  await serve?.stop();
  await new Promise((resolve) => (blocker === undefined ? resolve(undefined) : blocker.close(resolve)));
  rmSync(dataDir, { recursive: true, force: true });
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
}

/** What the SDK gets from the agents list: the page's items, or its error. */
async function listAgents(baseURL: string, apiKey: string): Promise<unknown> {
  return new Anthropic({ baseURL, apiKey, maxRetries: 0 }).beta.agents.list().then(
    (page) => page.data,
    (error: unknown) => error,
  );
}

/** Reached with the right token: a real page of agents, empty (this test makes none). */
function expectReached(outcome: unknown): void {
  expect(outcome).toEqual([]);
}

const settingsFile = () => JSON.parse(readFileSync(path.join(dataDir, 'local-api.json'), 'utf8')) as Record<string, unknown>;
const IMAGE = 'drover-test/busybox:1';

test('Settings → Local API: on, a token copied and used by the SDK, a taken port refused, a new token, off', async ({
  page,
  context,
}, testInfo) => {
  if (serve === undefined) throw new Error('serve mode did not start');
  const frames: string[] = [];
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: serve.origin });

  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  const section = page.getByTestId('local-api-settings');
  const toggle = section.getByRole('switch', { name: 'Local API', exact: true });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(section.getByTestId('local-api-state')).toHaveText('Off: nothing listens.');
  await expect(section.getByTestId('local-api-token-hint')).toContainText('No token yet');

  // A port that is not a port is refused on the page, with the focus on the field.
  const portField = section.getByLabel('Port', { exact: true });
  await portField.fill('80a');
  await toggle.click();
  await expect(section.getByRole('alert')).toContainText('is not a port');
  await expect(portField).toBeFocused();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');

  // On, at a free port.
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  await portField.fill(String(port));
  await expect(section.getByTestId('local-api-base-url')).toHaveText(baseURL);
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(section.getByTestId('local-api-state')).toHaveText(`Listening at ${baseURL}`);
  await expect(section.getByRole('status').first()).toContainText(`reach Drover at ${baseURL}`);
  await expect(section.getByTestId('local-api-snippet')).toContainText(`new Anthropic({ baseURL: '${baseURL}'`);
  expect(statSync(path.join(dataDir, 'local-api.json')).mode & 0o777).toBe(0o600);

  // Turned on for the first time, it shows the token it made: once, with Copy.
  const tokenField = section.getByRole('textbox', { name: 'New token' });
  await expect(tokenField).toBeFocused();
  await expect(section).toContainText('it will not be shown again');
  await section.getByRole('button', { name: 'Copy' }).click();
  await expect(section.getByRole('button', { name: 'Copied' })).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(await tokenField.inputValue()).toBe(copied);
  await snap(page, testInfo, '50-local-api-token');

  // The SDK in this process reaches the API with it; a wrong token is refused.
  expectReached(await listAgents(baseURL, copied));
  expect(await listAgents(baseURL, 'not-the-token-0123456789abcdef')).toBeInstanceOf(Anthropic.AuthenticationError);

  // Done: the token leaves the page; only its last 4 characters are shown.
  await section.getByRole('button', { name: 'Done' }).click();
  await expect(tokenField).toHaveCount(0);
  await expect(section.getByRole('button', { name: 'Create new token' })).toBeFocused();
  await expect(section.getByTestId('local-api-token-hint')).toContainText(`ends in …${copied.slice(-4)}`);
  await expect(page.locator('body')).not.toContainText(copied);

  // The image cloud environments run when their metadata names none: the default, a bad one
  // refused in words (focus on the field, nothing saved), then one saved and shown in the status.
  const imageField = section.getByLabel('Image for cloud environments', { exact: true });
  const imageHint = section.getByTestId('local-api-image');
  await expect(imageField).toHaveValue('debian:bookworm-slim');
  await expect(imageHint).toContainText('Sessions run debian:bookworm-slim in a cloud environment whose metadata names no image');
  await imageField.fill('Bad Image!');
  await section.getByRole('button', { name: 'Save image' }).click();
  await expect(section.getByRole('alert')).toHaveText(
    '“Bad Image!” is not an image reference: an image reference is like "debian:bookworm" or "host:5000/team/image:tag".',
  );
  await expect(imageField).toBeFocused();
  await expect(imageField).toHaveAttribute('aria-invalid', 'true');
  expect(settingsFile()).toMatchObject({ environment_image: 'debian:bookworm-slim' });
  await imageField.fill(` ${IMAGE} `);
  await section.getByRole('button', { name: 'Save image' }).click();
  await expect(section.getByRole('status').first()).toHaveText(`Saved: sessions created from now on run ${IMAGE} in cloud environments.`);
  await expect(imageHint).toContainText(`Sessions run ${IMAGE} in a cloud environment`);
  await expect(imageField).toHaveValue(IMAGE);
  await expect(section.getByTestId('local-api-state')).toHaveText(`Listening at ${baseURL}`);
  expect(settingsFile()).toEqual({ version: 2, enabled: true, port, environment_image: IMAGE });
  expect(statSync(path.join(dataDir, 'local-api.json')).mode & 0o777).toBe(0o600);
  expectReached(await listAgents(baseURL, copied));
  await snap(page, testInfo, '50b-local-api-image');

  // A port in use is refused in words; the API goes on where it was.
  blocker = createServer();
  const taken = await freePort();
  await new Promise<void>((resolve) => blocker?.listen(taken, '127.0.0.1', resolve));
  await portField.fill(String(taken));
  await section.getByRole('button', { name: 'Move to this port' }).click();
  await expect(section.getByRole('alert')).toHaveText(
    `Port ${taken} is in use: pick another (another program, or another Drover, listens there).`,
  );
  await expect(section.getByTestId('local-api-state')).toHaveText(`Listening at ${baseURL}`);
  expectReached(await listAgents(baseURL, copied));
  await snap(page, testInfo, '51-local-api-port-in-use');

  // A new token: the old one is refused at once, the new one works.
  await section.getByRole('button', { name: 'Create new token' }).click();
  const second = await section.getByRole('textbox', { name: 'New token' }).inputValue();
  expect(second).not.toBe(copied);
  expect(await listAgents(baseURL, copied)).toBeInstanceOf(Anthropic.AuthenticationError);
  expectReached(await listAgents(baseURL, second));
  await section.getByRole('button', { name: 'Done' }).click();

  // Serve mode started again without --api-port: the saved settings apply, the token still works.
  await serve.stop();
  serve = await startServeMode(ENV, { dataDir });
  expectReached(await listAgents(baseURL, second));
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(section.getByTestId('local-api-state')).toHaveText(`Listening at ${baseURL}`);
  await expect(section.getByTestId('local-api-token-hint')).toContainText(`ends in …${second.slice(-4)}`);
  await expect(section.getByLabel('Image for cloud environments', { exact: true })).toHaveValue(IMAGE);
  await expect(section.getByTestId('local-api-image')).toContainText(`Sessions run ${IMAGE} in a cloud environment`);

  // Off: the port refuses connections.
  await portField.fill(String(port));
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await expect(section.getByTestId('local-api-state')).toHaveText('Off: nothing listens.');
  const refused = await fetch(`${baseURL}/v1/agents`).then(
    () => null,
    (error: unknown) => (error as { cause?: { code?: string } }).cause?.code,
  );
  expect(refused).toBe('ECONNREFUSED');
  await snap(page, testInfo, '52-local-api-off');

  // Each token crossed the WebSocket once: in the answer that made it (none after the restart).
  expect(frames.filter((frame) => frame.includes(copied))).toHaveLength(1);
  expect(frames.filter((frame) => frame.includes(second))).toHaveLength(1);
  expect(statSync(path.join(dataDir, 'api-token')).mode & 0o777).toBe(0o600);
});

test("serve's --api-image: an environment without metadata runs that image, for the run only", async ({ page }) => {
  test.skip(!dockerReady, 'the Docker engine is not available (the reason is printed above)');
  const token = 'e2e-api-image-token-0123456789';
  const run = await startServeMode(ENV, { args: ['--api-port', '0', '--api-token', token, '--api-image', BUSYBOX_IMAGE] });
  const sdk = new Anthropic({ baseURL: run.apiBaseURL ?? 'http://invalid', apiKey: token, maxRetries: 0 });
  let sessionId: string | null = null;
  try {
    // The README's example: no "drover.image" anywhere, so the session's Docker hand runs the run's image.
    const environment = await sdk.beta.environments.create({
      name: 'box',
      config: { type: 'cloud', networking: { type: 'unrestricted' } },
    });
    const agent = await sdk.beta.agents.create({ name: 'imaged', model: 'claude-sonnet-4-6', tools: [{ type: 'agent_toolset_20260401' }] });
    sessionId = (await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id })).id;

    await page.goto(run.url);
    await page.getByRole('button', { name: 'Settings' }).click();
    const section = page.getByTestId('local-api-settings');
    await expect(section.getByTestId('local-api-state')).toHaveText(`Listening at ${run.apiBaseURL ?? ''}`);
    await expect(section.getByLabel('Image for cloud environments', { exact: true })).toHaveValue(BUSYBOX_IMAGE);
    await expect(section.getByTestId('local-api-image')).toContainText(`Sessions run ${BUSYBOX_IMAGE} in a cloud environment`);
    expect(existsSync(path.join(run.dataDir, 'local-api.json'))).toBe(false);

    // The cockpit shows the session's hand with that image.
    await page
      .getByRole('navigation', { name: 'Sessions' })
      .getByRole('button', { name: /imaged/ })
      .click();
    await expect(page.getByTestId('hands-panel').getByRole('listitem', { name: 'Hand env' })).toContainText(`Docker ${BUSYBOX_IMAGE}`);
  } finally {
    if (sessionId !== null) await sdk.beta.sessions.delete(sessionId);
    await run.stop();
  }
});

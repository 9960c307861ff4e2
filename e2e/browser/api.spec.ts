// The README's Managed Agents API example, as written, against the real serve mode started with
// --api-port: the official SDK makes an environment, an agent and a session, sends a message and
// streams the answer — a bash call run in the environment's real Docker container, then the
// answer; the cockpit open in Chromium shows the session and its conversation. The local Messages
// API server stands in for the model; --api-image gives cloud environments the test image (this
// machine cannot pull the default one).
import Anthropic from '@anthropic-ai/sdk';
import { expect, test } from '@playwright/test';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { requireChromium } from '../support/browser.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
const docker = await requireDocker();

const TOKEN = 'readme-example-token-0123456789';
const ANSWER = 'The build is green: the missing semicolon in src/index.ts is back.';
let serve: ServeHandle;
let model: ModelServer;

test.beforeAll(async () => {
  model = await startModelServer({
    apiKey: 'sk-ant-e2e',
    models: ['claude-sonnet-5-5', 'claude-sonnet-4-6'],
    respond: (request) =>
      JSON.stringify(request.body.messages.at(-1)).includes('tool_result')
        ? { kind: 'message', message: { content: [{ type: 'text', text: ANSWER }], stop_reason: 'end_turn' }, frameDelayMs: 100 }
        : {
            kind: 'message',
            message: {
              content: [{ type: 'tool_use', name: 'bash', input: { command: 'echo build is $((40 + 2)) green' } }],
              stop_reason: 'tool_use',
            },
          },
  });
  serve = await startServeMode(
    { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-e2e' },
    { args: ['--api-port', '0', '--api-token', TOKEN, '--api-image', BUSYBOX_IMAGE] },
  );
});

test.afterAll(async () => {
  await serve?.stop();
  await model?.close();
});

test("the README's SDK example runs as written, and the cockpit shows its session live", async ({ page }) => {
  test.skip(!docker, 'needs a Docker engine (see the reason printed above)');
  expect(serve.apiBaseURL).not.toBeNull();
  await page.goto(serve.url);
  const sessions = page.getByRole('navigation', { name: 'Sessions' });

  // ---- the README example, verbatim but for the base URL and the token ----
  const client = new Anthropic({ baseURL: serve.apiBaseURL ?? '', apiKey: TOKEN });
  const env = await client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } } });
  const agent = await client.beta.agents.create({ name: 'fixer', model: 'claude-sonnet-5-5', tools: [{ type: 'agent_toolset_20260401' }] });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Make the build green' }] }],
  });
  const seen: string[] = [];
  let said = '';
  let ran = '';
  for await (const event of await client.beta.sessions.events.stream(session.id)) {
    seen.push(event.type);
    if (event.type === 'agent.message') said += event.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    if (event.type === 'agent.tool_result') ran = JSON.stringify(event.content);
    if (event.type === 'session.status_idle') break;
  }
  // ---- end of the example ----

  expect(seen).toEqual(expect.arrayContaining(['agent.tool_use', 'agent.tool_result', 'agent.message', 'session.status_idle']));
  expect(ran).toContain('build is 42 green');
  expect(said).toBe(ANSWER);
  expect(session.id).toMatch(/^sesn_/);
  expect(agent.id).toMatch(/^agent_/);
  expect(env.id).toMatch(/^env_/);

  // The same session in the cockpit: listed by the agent's name, its conversation there.
  await expect(sessions).toContainText('fixer');
  await sessions.getByText('fixer').first().click();
  await expect(page.getByTestId('transcript')).toContainText('Make the build green');
  await expect(page.getByTestId('transcript')).toContainText(ANSWER);
  await expect(page.getByTestId('transcript')).toContainText('build is $((40 + 2)) green');

  // And the API lists it with its status, as a program polling it would see.
  const listed = await client.beta.sessions.retrieve(session.id);
  expect(listed.status).toBe('idle');
  expect(listed.agent.name).toBe('fixer');
});

/**
 * The set-up most browser specs share: the local Messages API server scripted by the spec, serve
 * mode talking to it, and the Docker objects its data folder leaves behind removed on stop; plus
 * the replies those scripts are made of and a screenshot attached to the test's report.
 */
import { test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { instanceIdOf } from '#services/hands/docker/engine';
import { removeInstanceObjects, requireDocker } from '#test/support/docker';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply, type ScriptedBlock } from '#test/support/model-server';
import { startServeMode, type ServeHandle, type ServeOptions } from './serve.ts';

/** The key serve mode sends and the model server accepts. */
export const E2E_API_KEY = 'sk-ant-e2e';

export type Respond = (request: RecordedRequest) => Reply;

/** Whether the request's last message carries a tool's result (Claude is answering a tool call it made). */
export function answersTool(request: RecordedRequest): boolean {
  const last = request.body.messages.at(-1);
  return Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
}

/** A reply of one text block that ends the turn. */
export function textReply(text: string, frameDelayMs?: number): Reply {
  return {
    kind: 'message',
    message: { content: [{ type: 'text', text }], stop_reason: 'end_turn' },
    ...(frameDelayMs === undefined ? {} : { frameDelayMs }),
  };
}

/** A reply that calls one tool (`<hand>__<tool>`), after a text block when `text` is given. */
export function toolUseReply(name: string, input: Record<string, unknown>, text?: string): Reply {
  const call: ScriptedBlock = { type: 'tool_use', name, input };
  return {
    kind: 'message',
    message: { content: text === undefined ? [call] : [{ type: 'text', text }, call], stop_reason: 'tool_use' },
  };
}

/** A script that calls one tool and, given its result, answers `answer` (a text, or a whole reply). */
export function toolThenAnswer(call: Reply, answer: string | Reply): Respond {
  return (request) => {
    if (!answersTool(request)) return call;
    return typeof answer === 'string' ? textReply(answer) : answer;
  };
}

export interface Cockpit {
  serve: ServeHandle;
  model: ModelServer;
  /** Stops serve mode and the model server; with `docker`, removes the containers and images of serve's data folder. */
  stop(): Promise<void>;
}

export interface CockpitOptions extends ServeOptions {
  /** More variables for serve mode (e.g. a keyring's DBUS_SESSION_BUS_ADDRESS). */
  env?: Record<string, string>;
  /** The session runs Docker hands: what its data folder's instance leaves on the engine is removed on stop. */
  docker?: boolean;
}

/** The local Messages API server answering with `respond`, and serve mode sending it its requests. */
export async function startCockpit(respond: Respond, options: CockpitOptions = {}): Promise<Cockpit> {
  const { env = {}, docker = false, ...serveOptions } = options;
  const model = await startModelServer({ apiKey: E2E_API_KEY, respond });
  let serve: ServeHandle;
  try {
    serve = await startServeMode({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: E2E_API_KEY, ...env }, serveOptions);
  } catch (error) {
    await model.close();
    throw error;
  }
  // A spec may stop serve itself (to see what it leaves behind); stop() then does not stop it twice.
  let stopped: Promise<void> | undefined;
  const stopServe = (): Promise<void> => (stopped ??= serve.stop());
  return {
    serve: { ...serve, stop: stopServe },
    model,
    async stop() {
      await stopServe();
      await model.close();
      // Serve removes its containers when it stops; its snapshot images stay (forks need them).
      if (docker) removeInstanceObjects(instanceIdOf(serve.dataDir));
    },
  };
}

/**
 * Starts the cockpit (startCockpit) before the spec file's tests and stops it after them; the
 * function returned gives it to a test, and throws when the set-up did not finish.
 */
export function useCockpit(respond: Respond, options: CockpitOptions = {}): () => Cockpit {
  let cockpit: Cockpit | undefined;
  test.beforeAll(async () => {
    cockpit = await startCockpit(respond, options);
  });
  test.afterAll(async () => {
    await cockpit?.stop();
  });
  return () => {
    if (cockpit === undefined) throw new Error('serve mode did not start');
    return cockpit;
  };
}

/** Call at the top of a spec whose sessions run Docker hands: its tests skip (the reason printed) without a Docker engine. */
export async function requireDockerSpec(): Promise<void> {
  const dockerReady = await requireDocker();
  test.skip(!dockerReady, 'the Docker engine is not available (the reason is printed above)');
}

/** A screenshot of the page (its viewport, or all of it with `fullPage`) or of one part, attached to the test's report. */
export async function snap(target: Page | Locator, testInfo: TestInfo, name: string, fullPage = false): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  const body = 'goto' in target ? await target.screenshot({ path, fullPage }) : await target.screenshot({ path });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}

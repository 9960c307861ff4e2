/**
 * Drover's side of the fresh-engine test, run with `node --import tsx` inside the second engine's
 * network namespace (test/support/second-engine.ts), where it is "this computer" for that engine:
 *   fresh-engine-child.ts <socket> <image>
 * It runs a Docker hand with a git repository (a real git server on 127.0.0.1 behind Drover's git
 * proxy), asks for the bridge's gateway while the hand's container runs, and prints one JSON line:
 *   {"gateway": "…" | null, "gatewayError": "…" | null, "isError": bool, "text": "…", "containers": n}
 * and removes everything it made.
 */
import { rmSync } from 'node:fs';
import { GitProxy } from '#services/git/proxy';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { startGitServer } from './git-server.ts';
import { tempDir } from './system.ts';

const [socketPath, image] = process.argv.slice(2);
if (!socketPath || !image) throw new Error('usage: fresh-engine-child.ts <socket> <image>');

const TOKEN = 'fresh-engine-token';
const SECRET = 'sec_0123456789abcdef';
const REPO_PATH = '/workspace/app';

const server = await startGitServer({ token: TOKEN });
server.createBareRepo('app.git', { 'README.md': '# fresh\n' });
const proxy = new GitProxy({ log: () => undefined });
const dir = tempDir('drover-fresh-engine-');
const store = SessionStore.open({ dataDir: dir });
const instance = instanceIdOf(dir);
const engine = new DockerEngine({ socketPath, instance });
const registry = new HandRegistry({
  store,
  docker: engine,
  gitProxy: proxy,
  secrets: { reveal: (id) => (id === SECRET ? Promise.resolve(TOKEN) : Promise.reject(new Error(`no secret ${id}`))) },
  log: () => undefined,
});
const result: { gateway: string | null; gatewayError: string | null; isError: boolean; text: string; containers: number } = {
  gateway: null,
  gatewayError: null,
  isError: true,
  text: '',
  containers: -1,
};
try {
  const { id: sessionId } = store.createSession({ title: 'fresh engine' });
  registry.attach(sessionId, {
    name: 'box',
    config: { kind: 'docker', image, network: 'bridge', repos: [{ url: server.url('app.git'), token_secret_id: SECRET, path: REPO_PATH }] },
  });
  const hand = (await registry.handsFor(sessionId)).find((candidate) => candidate.id === 'box');
  if (!hand) throw new Error('the hand is missing');
  const outcome = await hand.execute(
    'box__bash',
    {
      command: `cat ${REPO_PATH}/README.md; git -C ${REPO_PATH} remote get-url origin; git -C ${REPO_PATH} fetch -q origin && echo fetched`,
      timeout_seconds: 60,
    },
    { signal: AbortSignal.timeout(120_000) },
  );
  result.isError = outcome.isError;
  result.text = outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
  // Asked as the hand asks it: with its container running on the bridge (an interface is listed
  // only while it is up and running, i.e. has a container attached).
  try {
    result.gateway = await engine.bridgeGateway();
  } catch (error) {
    result.gatewayError = error instanceof Error ? error.message : String(error);
  }
} finally {
  await registry.close();
  await new HandRegistry({ store, docker: engine, log: () => undefined }).cleanUp();
  result.containers = (await engine.docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instance}`] } })).length;
  store.close();
  await proxy.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result)}\n`);

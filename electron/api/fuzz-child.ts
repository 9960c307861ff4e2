// The real Managed Agents API (startApi over a real host, store, vault-less) in a process of its
// own, for tests that must prove the process did not die. Deliberately WITHOUT the process guard:
// any error that escapes the server ends this process, and the test sees the exit.
// Args: <dataDir>. Prints `ready <port> <token>` and then one line of JSON: the routes
// ([{method, path}]). On stdin `rss` prints `rss <bytes>` (after a full GC with --expose-gc).
import { createInterface } from 'node:readline';
import { createHost } from '#rpc/host';
import { ManagedDb } from '#services/managed/db';
import { SessionStore } from '#services/session/store';
import { newToken } from '#services/access-token';
import { DEFAULT_ENVIRONMENT_IMAGE } from '#services/managed/environment-hand';
import type { ApiContext } from './context.ts';
import { apiRoutes } from './routes.ts';
import { startApiServer } from './server.ts';

const [dataDir = ''] = process.argv.slice(2);
const store = SessionStore.open({ dataDir });
const token = newToken();
const host = createHost({
  store,
  info: { version: 'fuzz', dataDir, platform: process.platform },
  push: () => undefined,
  keyProvider: () => null,
  log: () => undefined,
});
const managed = ManagedDb.open(dataDir);
const context: ApiContext = {
  host,
  store,
  managed,
  vault: null,
  defaultImage: () => DEFAULT_ENVIRONMENT_IMAGE,
  log: () => undefined,
};
const routes = apiRoutes(context, () => token);
const api = await startApiServer({ host: '127.0.0.1', port: 0, token: () => token, routes, log: () => undefined });

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    console.log(`rss ${process.memoryUsage.rss()}`);
  } else if (line === 'quit') {
    void Promise.allSettled([host.close(), api.close()]).finally(() => {
      managed.close();
      store.close();
      process.exit(0);
    });
  }
});
console.log(`ready ${api.port} ${token}`);
console.log(JSON.stringify(routes.map((route) => ({ method: route.method, path: route.path }))));

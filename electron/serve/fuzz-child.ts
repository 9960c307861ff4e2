// The real serve server (startServe + a real host over a real store) in a process of its own, for
// tests that must prove the process did not die. Deliberately WITHOUT the process guard: any error
// that escapes the server ends this process, and the test sees the exit.
// Args: <dataDir> <staticDir>. Prints `ready <port> <token>`; on stdin `rss` prints `rss <bytes>`
// (after a full GC when run with --expose-gc) and `logs <count>`.
import { createInterface } from 'node:readline';
import { createHost } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import { startServe, type RunningServer } from './server.ts';
import { loadOrCreateToken } from './token.ts';

const [dataDir = '', staticDir = ''] = process.argv.slice(2);
const store = SessionStore.open({ dataDir });
const token = loadOrCreateToken(dataDir);
const live: { server?: RunningServer } = {};
let logs = 0;
const host = createHost({
  store,
  info: { version: 'fuzz', dataDir, platform: process.platform },
  push: (message) => live.server?.push(message),
  keyProvider: () => null,
  log: () => void logs++,
});
const running = await startServe({ host: '127.0.0.1', port: 0, token, staticDir, dispatch: host.dispatch, log: () => void logs++ });
live.server = running;
const port = new URL(running.origin).port;

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    console.log(`rss ${process.memoryUsage.rss()}`);
  } else if (line === 'logs') console.log(`logs ${logs}`);
  else if (line === 'quit') {
    void Promise.allSettled([host.close(), running.close()]).finally(() => {
      store.close();
      process.exit(0);
    });
  }
});
console.log(`ready ${port} ${token}`);

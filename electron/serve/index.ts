/**
 * `npm run serve -- [--host 127.0.0.1] [--port N] [--token T]`: Drover without Electron — the
 * same UI in a browser, the same RPC contract over a WebSocket. Honours DROVER_DATA_DIR.
 * Prints a ready-to-open URL with the access token, as Jupyter does.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createHost } from '#rpc/host';
import { resolveDataDir } from '#services/data-dir';
import { SessionStore } from '#services/session/store';
import { installProcessGuard } from '#services/process-guard';
import { createKeyringKeySource } from '#services/vault/keyring-key-source';
import { Vault } from '#services/vault/vault';
import { isAppError } from '#shared/errors';
import { EnvironmentImageSchema } from '#shared/local-api';
import type { PushMessage } from '#shared/rpc';
import { API_TOKEN_FILE } from '#api/start';
import { LocalApi } from '#api/local-api';
import { ManagedDb } from '#services/managed/db';
import { startServe } from './server.ts';
import { loadOrCreateToken, TOKEN_RULE, tokenIsValid } from './token.ts';

const USAGE = `Usage: npm run serve -- [--host 127.0.0.1] [--port 8484] [--token TOKEN] [--api-port N] [--api-token TOKEN]
                         [--api-image IMAGE]

  --host   address to listen on (default 127.0.0.1: this machine only)
  --port   port to listen on (default 8484; 0 picks a free one)
  --token  access token to require (default: a random one, kept in the data folder);
           16–256 characters of letters, digits, "-" or "_"
  --api-port   also serve the Managed Agents API (/v1/…) on this port, for programs
               using the official SDK (0 picks a free one); without it, as set in
               Settings → Local API (off by default)
  --api-token  the API's token (default: a random one, kept in the data folder as
               api-token); the same rule as --token
  --api-image  with --api-port: the image cloud environments run when their metadata
               names none ("drover.image"), for this run (default: as set in
               Settings → Local API, else debian:bookworm-slim)

Data folder: DROVER_DATA_DIR, or the OS default.`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8484' },
        token: { type: 'string' },
        'api-port': { type: 'string' },
        'api-token': { type: 'string' },
        'api-image': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.token !== undefined && !tokenIsValid(values.token)) {
    fail(`--token was refused: ${TOKEN_RULE} Leave --token out to get a random one.`);
  }
  if (values['api-token'] !== undefined && !tokenIsValid(values['api-token'])) {
    fail(`--api-token was refused: ${TOKEN_RULE} Leave --api-token out to get a random one.`);
  }
  if (values['api-token'] !== undefined && values['api-port'] === undefined) {
    fail('--api-token goes with --api-port (the API it is for). Without --api-port, Settings → Local API makes and shows the token.');
  }
  const apiImage = values['api-image'];
  if (apiImage !== undefined) {
    if (values['api-port'] === undefined) {
      fail('--api-image goes with --api-port (the API it is for). Without --api-port, set the image in Settings → Local API.');
    }
    const checked = EnvironmentImageSchema.safeParse(apiImage);
    if (!checked.success) {
      fail(`--api-image was refused: ${checked.error.issues[0]?.message ?? 'not an image reference'} (got ${JSON.stringify(apiImage)}).`);
    }
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a number from 0 to 65535 (got ${values.port}).`);
  const apiPort = values['api-port'] === undefined ? null : Number(values['api-port']);
  if (apiPort !== null && (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65535)) {
    fail(`--api-port must be a number from 0 to 65535 (got ${values['api-port']}).`);
  }

  const staticDir = path.resolve(import.meta.dirname, '..', '..', 'out', 'renderer');
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    fail(`The UI has not been built (${staticDir} is missing). Run \`npm run serve\`, which builds it first.`);
  }

  // From here on an error nobody caught is logged with a reference and serving goes on (see
  // process-guard.ts for what stays intact, and when the process exits instead).
  const guard = installProcessGuard({ log: (line) => console.error(line) });

  const dataDir = resolveDataDir();
  let store: SessionStore;
  try {
    store = SessionStore.open({ dataDir, appVersion: process.env['npm_package_version'] ?? '0.0.0' });
  } catch (error) {
    fail(isAppError(error) ? `Drover cannot start: ${error.message}` : `Drover cannot start: ${String(error)}`);
  }
  const token = loadOrCreateToken(dataDir, values.token);

  // Without Electron's safeStorage, the OS keyring (Secret Service, Keychain, Credential Manager)
  // holds the key that encrypts the vault. Where there is none, secrets cannot be stored: the UI
  // says why, and ANTHROPIC_API_KEY still works.
  const vault = Vault.open({ dataDir, keySource: createKeyringKeySource(dataDir), log: (message, error) => console.error(message, error) });
  // Not awaited: a keyring may wait for the user to unlock it, and serving must not.
  void vault.status().then((status) => {
    if (!status.available) console.warn(`Secrets cannot be stored: ${status.reason ?? 'the vault is unavailable.'}`);
  });

  let push: (message: PushMessage) => void = () => undefined;
  // The Managed Agents API (Settings → Local API): its database opens with its first start.
  let managed: ManagedDb | null = null;
  const closeManaged = () => managed?.close();
  const apiLog = (line: string, error?: unknown) => console.error(line, error ?? '');
  const localApi = new LocalApi({
    dataDir,
    listenHost: values.host,
    context: () => ({ host, store, managed: (managed ??= ManagedDb.open(dataDir)), vault, log: apiLog }),
    log: apiLog,
  });
  const host = createHost({
    store,
    vault,
    info: { version: process.env['npm_package_version'] ?? '0.0.0', dataDir, platform: process.platform },
    push: (message) => push(message),
    baseURL: process.env['ANTHROPIC_BASE_URL'],
    localApi,
    log: (message, error) => console.error(message, error),
  });
  const dispatch = host.dispatch;
  guard.useRedactor((text) => host.redactor.redact(text));

  let server;
  try {
    server = await startServe({ host: values.host, port, token, staticDir, dispatch, log: (line) => console.warn(line) });
  } catch (error) {
    store.close();
    const code = (error as { code?: string }).code;
    fail(
      code === 'EADDRINUSE'
        ? `Port ${port} on ${values.host} is already in use. Pick another with --port, or --port 0 for any free port.`
        : `Could not listen on ${values.host}:${port}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const running = server;
  push = running.push;

  // --api-port: on, on that port, for this run; otherwise as saved in Settings → Local API.
  const api = await localApi.start(
    apiPort === null
      ? undefined
      : {
          port: apiPort,
          ...(values['api-token'] === undefined ? {} : { token: values['api-token'] }),
          ...(apiImage === undefined ? {} : { image: apiImage }),
        },
  );
  if (apiPort !== null && !api.running) {
    await Promise.allSettled([host.close(), running.close(), vault.close(), localApi.close()]);
    closeManaged();
    store.close();
    fail(
      `The Managed Agents API could not start: ${api.error ?? 'unknown reason'} Use --api-port with another port, or --api-port 0 for any free one.`,
    );
  }
  if (api.running) {
    console.log(`The Managed Agents API is at ${api.baseURL} (official SDK: new Anthropic({ baseURL, apiKey })).`);
    console.log(`Cloud environments run ${api.environment_image} unless their metadata names another image ("drover.image").`);
    console.log(`Its token is in ${path.join(dataDir, API_TOKEN_FILE)} (keep it private).\n`);
  } else if (api.error !== null) {
    console.warn(`The Managed Agents API (Settings → Local API) is not running: ${api.error}`);
  }

  console.log(`Drover is serving ${dataDir}`);
  console.log(`Open this URL in your browser (it contains the access token — keep it private):\n\n    ${running.url}\n`);

  const shutdown = () => {
    void Promise.allSettled([localApi.close(), host.close(), running.close(), vault.close()]).finally(() => {
      closeManaged();
      store.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  fail(
    isAppError(error)
      ? `Drover cannot start: ${error.message}`
      : `Drover could not start: ${error instanceof Error ? error.message : String(error)}. Try again; if it keeps happening, report it with this message.`,
  );
});

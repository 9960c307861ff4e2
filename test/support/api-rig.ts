/**
 * The Managed Agents API tests' rig: a real host (dispatcher, harness, hand registry, vault) over
 * a real store in a temp dir, the API served on a free port, and the official SDK pointed at it —
 * the client every API test uses. The local Messages API server stands in for the model (the one
 * sanctioned stand-in). `close()` removes everything it made.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { createHost, type Host } from '#rpc/host';
import { ManagedDb } from '#services/managed/db';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { startApi } from '#api/start';
import { internalId } from '#api/ids';
import { LocalApi } from '#api/local-api';
import { DEFAULT_ENVIRONMENT_IMAGE } from '#services/managed/environment-hand';
import type { RunningApi } from '#api/server';
import type { ApiContext } from '#api/context';
import { FileKeySource } from '#test/support/file-key-source';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';

export const MODEL_KEY = 'sk-ant-test-api-rig';
export const API_TOKEN = 'drover-api-test-token-0123456789';

export interface ApiRig {
  /** The official SDK, pointed at Drover's API with its token. */
  client: Anthropic;
  api: RunningApi;
  host: Host;
  store: SessionStore;
  managed: ManagedDb;
  vault: Vault;
  model: ModelServer;
  dir: string;
  /** Replies the model server gives, in order (then `fallback`). */
  script: Array<(request: RecordedRequest) => Reply>;
  close(): Promise<void>;
}

export const endTurn = (text: string): Reply => ({
  kind: 'message',
  message: { content: [{ type: 'text', text }], stop_reason: 'end_turn' },
});

/** The store's uuid behind an SDK session (`sesn_…`); throws when the id is not a session's. */
export function uuidOf(session: { id: string }): string {
  const uuid = internalId('session', session.id);
  if (uuid === null) throw new Error(`not a session id: ${session.id}`);
  return uuid;
}

export interface ApiRigOptions {
  fallback?: (request: RecordedRequest) => Reply;
  models?: string[];
  /** The image `cloud` environments run when their metadata names none (Settings → Local API's); default DEFAULT_ENVIRONMENT_IMAGE. */
  defaultImage?: string;
  /** Give the host a Settings → Local API control (never started) over this rig's API context, for the RPC methods it serves. */
  localApi?: boolean;
}

/** The host's and the API's log: silent, or on stderr with DROVER_TEST_LOG=1 (to see why a request failed with a 500). */
const rigLog =
  process.env['DROVER_TEST_LOG'] === '1' ? (message: string, error?: unknown) => console.error(message, error ?? '') : () => undefined;

export async function apiRig(options: ApiRigOptions = {}): Promise<ApiRig> {
  const dir = tempDir('drover-api-');
  const script: Array<(request: RecordedRequest) => Reply> = [];
  const fallback = options.fallback ?? (() => endTurn('Done.'));
  const model = await startModelServer({
    apiKey: MODEL_KEY,
    models: options.models ?? ['claude-sonnet-4-6', 'claude-opus-4-5', 'claude-haiku-4-5'],
    respond: (request) => (script.shift() ?? fallback)(request),
  });
  const store = SessionStore.open({ dataDir: dir });
  const vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(dir, 'vault.key')), log: () => undefined });
  let apiContext: ApiContext | null = null;
  const localApi = options.localApi
    ? new LocalApi({
        dataDir: dir,
        context: () => {
          if (apiContext === null) throw new Error('the rig is still starting');
          return apiContext;
        },
        log: () => undefined,
      })
    : undefined;
  const host = createHost({
    store,
    vault,
    ...(localApi === undefined ? {} : { localApi }),
    info: { version: 'test', dataDir: dir, platform: process.platform },
    baseURL: model.url,
    keyProvider: () => MODEL_KEY,
    push: () => undefined,
    log: rigLog,
  });
  const managed = ManagedDb.open(dir);
  const defaultImage = options.defaultImage ?? DEFAULT_ENVIRONMENT_IMAGE;
  const context: ApiContext = { host, store, managed, vault, defaultImage: () => defaultImage, log: rigLog };
  apiContext = context;
  const api = await startApi({ context, host: '127.0.0.1', port: 0, token: () => API_TOKEN });
  const client = new Anthropic({ baseURL: api.baseURL, apiKey: API_TOKEN, maxRetries: 0 });
  return {
    client,
    api,
    host,
    store,
    managed,
    vault,
    model,
    dir,
    script,
    async close() {
      await localApi?.close();
      await api.close();
      // No turn may end (and snapshot) after its session's images are removed: stop the brain first.
      await host.harness.close();
      for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
      await host.close();
      managed.close();
      await vault.close();
      store.close();
      await model.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the API answered a raw request (the service's error shape, for bad input). */
export interface RawAnswer {
  status: number;
  body: { type?: string; error?: { type: string; message: string }; request_id?: string };
}

/** A request to the rig's API by raw HTTP (its token as Bearer, a JSON content type): for what the SDK would not send. */
export async function rawRequest(rig: ApiRig, path: string, init: RequestInit = {}): Promise<RawAnswer> {
  const response = await fetch(`${rig.api.baseURL}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  return { status: response.status, body: (await response.json()) as RawAnswer['body'] };
}

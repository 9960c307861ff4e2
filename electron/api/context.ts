/**
 * What every API route works with: the same host (dispatcher, harness, hands, credentials) the UI
 * transports use — the API is a transport, not a second implementation of sessions — plus the
 * API's own stored configurations.
 */
import type { Host } from '#rpc/host';
import type { ManagedDb } from '#services/managed/db';
import type { SessionStore } from '#services/session/store';
import type { VaultLike } from '#services/vault/credentials';
import { fromAppError } from './errors.ts';
import type { RpcArg, RpcMethod, RpcResult } from '#shared/rpc';

export interface ApiContext {
  host: Host;
  store: SessionStore;
  managed: ManagedDb;
  /** Drover's vault, where credentials' values go (null: none here; creating one says why). */
  vault: VaultLike | null;
  /**
   * The image a `cloud` environment's Docker hand runs when neither the session's nor the
   * environment's metadata names one (`drover.image`): Settings → Local API's, asked at each session.
   */
  defaultImage: () => string;
  log: (line: string, error?: unknown) => void;
}

/**
 * Calls an RPC method through the host's dispatcher (validation, redaction, error wording all as
 * for the UI) and returns its result, or throws its error in the API's shape.
 */
export async function call<K extends RpcMethod>(context: ApiContext, name: K, arg: RpcArg<K>): Promise<RpcResult<K>> {
  const outcome = await context.host.dispatch(name, arg);
  if (!outcome.ok) throw fromAppError(outcome.error.code, outcome.error.message);
  return outcome.result as RpcResult<K>;
}

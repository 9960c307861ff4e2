/**
 * Settings → Local API's RPC methods over a `LocalApiControl`: the API server's switch, port and
 * token. The control is implemented by `electron/api/local-api.ts` (`LocalApi`) and handed in by
 * the hosts (electron/main, electron/serve), since the rpc layer never imports electron/api.
 *
 * `local-api-rotate-token` is the one method whose answer carries a token to a UI — deliberately,
 * as a token page on GitHub shows a new token once: it is how the user learns it. `local-api-status`
 * only ever shows its last 4 characters. Likewise `environment-key-make` carries a self-hosted
 * environment's new key once; `environment-keys-list` only its last 4 characters.
 */
import { AppError } from '#shared/errors';
import type { LocalApiNewToken, LocalApiSettings, LocalApiStatus } from '#shared/local-api';
import type { HandlerImpl } from '#shared/rpc';
import type { EnvironmentKeyInfo, NewEnvironmentKey, WorkerStatus } from '#shared/workers';

export type LocalApiMethod =
  | 'local-api-status'
  | 'local-api-configure'
  | 'local-api-rotate-token'
  | 'workers-list'
  | 'environment-keys-list'
  | 'environment-key-make'
  | 'environment-key-revoke';

/** What the hosts give the handlers to run the Local API (implemented by `LocalApi`). */
export interface LocalApiControl {
  status(): LocalApiStatus;
  /** Saves and applies; a port it cannot listen on throws an AppError in words, nothing saved. */
  configure(settings: LocalApiSettings): Promise<LocalApiStatus>;
  /** A new token, in force at once (the old one refused, open connections closed). */
  rotateToken(): Promise<LocalApiNewToken>;
  /** The session's self-hosted worker (none: not self-hosted, or no work queued in this run). */
  workers(sessionId: string): WorkerStatus[];
  environmentKeys(): EnvironmentKeyInfo[];
  /** A new key for a self_hosted environment (the old one refused at once); shown once. */
  makeEnvironmentKey(environmentId: string): NewEnvironmentKey;
  revokeEnvironmentKey(environmentId: string): EnvironmentKeyInfo;
}

export function createLocalApiHandlers(control: LocalApiControl | undefined): Pick<HandlerImpl, LocalApiMethod> {
  const local = (): LocalApiControl => {
    if (control === undefined) {
      throw new AppError('conflict', 'This Drover was started without the Local API, so it cannot be turned on here.');
    }
    return control;
  };
  return {
    'local-api-status': () => local().status(),
    'local-api-configure': (settings) => local().configure(settings),
    'local-api-rotate-token': () => local().rotateToken(),
    'workers-list': ({ sessionId }) => control?.workers(sessionId) ?? [],
    'environment-keys-list': () => local().environmentKeys(),
    'environment-key-make': ({ environmentId }) => local().makeEnvironmentKey(environmentId),
    'environment-key-revoke': ({ environmentId }) => local().revokeEnvironmentKey(environmentId),
  };
}

/**
 * Starts the Managed Agents API over a running host: the routes on their own port and token.
 */
import type { ApiContext } from './context.ts';
import { apiRoutes } from './routes.ts';
import { startApiServer, type RunningApi } from './server.ts';
import { scopedAccess } from './work.ts';

export const API_TOKEN_FILE = 'api-token';

export interface StartApiOptions {
  context: ApiContext;
  host: string;
  port: number;
  /** Read at each request, so a rotated token applies at once. */
  token: () => string;
}

export function startApi(options: StartApiOptions): Promise<RunningApi> {
  return startApiServer({
    host: options.host,
    port: options.port,
    token: options.token,
    routes: apiRoutes(options.context, options.token),
    scopedAccess: (credential, method, pathname) => scopedAccess(options.context, credential, method, pathname),
    log: options.context.log,
  });
}

/**
 * Every route of the Managed Agents API, by resource. Each resource's module owns its paths.
 */
import { agentRoutes } from './agents.ts';
import type { ApiContext } from './context.ts';
import { environmentRoutes } from './environments.ts';
import { eventRoutes } from './events.ts';
import type { Route } from './router.ts';
import { sessionRoutes } from './sessions.ts';
import { streamRoutes } from './stream.ts';
import { threadRoutes } from './threads.ts';
import { vaultRoutes } from './vaults.ts';
import { workRoutes } from './work.ts';

export function apiRoutes(context: ApiContext, apiToken: () => string): Route[] {
  return [
    ...agentRoutes(context),
    // Before the environments' own routes: /work/poll is not a work item's id.
    ...workRoutes(context, apiToken),
    ...environmentRoutes(context),
    ...vaultRoutes(context),
    ...sessionRoutes(context),
    ...eventRoutes(context),
    ...streamRoutes(context),
    ...threadRoutes(context),
  ];
}

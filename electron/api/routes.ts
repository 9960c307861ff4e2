/**
 * Every route of the Managed Agents API, by resource. Each resource's module owns its paths.
 */
import type { ApiContext } from './context.ts';
import { eventRoutes } from './events.ts';
import type { Route } from './router.ts';
import { streamRoutes } from './stream.ts';

export function apiRoutes(context: ApiContext): Route[] {
  return [...eventRoutes(context), ...streamRoutes(context)];
}

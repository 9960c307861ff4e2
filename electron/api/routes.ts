/**
 * Every route of the Managed Agents API, by resource. Each resource's module owns its paths.
 */
import type { ApiContext } from './context.ts';
import type { Route } from './router.ts';

export function apiRoutes(context: ApiContext): Route[] {
  void context;
  return [];
}

/**
 * `/v1/environments…` as the official SDK calls it: create, retrieve, update (POST
 * /v1/environments/:id), list (PageCursor, `include_archived`), delete (DELETE; refused while
 * sessions name the environment) and archive (POST …/archive). EnvironmentStore validates and
 * stores; this is the HTTP shape only. Creating a `self_hosted` one answers its environment key
 * once (`environment_key`, beside the SDK's fields; work.ts).
 */
import type { BetaEnvironment, BetaEnvironmentDeleteResponse } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { EnvironmentStore } from '#services/managed/environments';
import type { ApiContext } from './context.ts';
import { checkNoBody, checkQuery, listQuery, timePage, type Page } from './resource-pages.ts';
import type { Route } from './router.ts';
import { pruneSessionRecords } from './session-view.ts';
import { workQueueFor } from './work.ts';

export function environmentRoutes(context: ApiContext): Route[] {
  const environments = new EnvironmentStore(context.managed);
  const param = (params: Readonly<Record<string, string>>): string => params['environment_id'] ?? '';
  return [
    {
      method: 'POST',
      path: '/v1/environments',
      handler: (request) => {
        checkQuery(request.query, []);
        const environment: BetaEnvironment = environments.create(request.body);
        // A self-hosted environment's workers need its key: shown here once (work.ts keeps its hash).
        const body: BetaEnvironment & { environment_key?: string } =
          environment.config.type === 'self_hosted'
            ? { ...environment, environment_key: workQueueFor(context).mintKey(environment.id) }
            : environment;
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/environments',
      handler: (request) => {
        const query = listQuery(request.query, { createdAt: false });
        const body: Page<BetaEnvironment> = timePage(
          request.query,
          environments.list({ includeArchived: query.includeArchived }),
          query.limit,
        );
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/environments/:environment_id',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaEnvironment = environments.get(param(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/environments/:environment_id',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaEnvironment = environments.update(param(request.params), request.body);
        return { body };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/environments/:environment_id',
      handler: (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        pruneSessionRecords(context); // sessions deleted in the cockpit no longer hold the environment
        const body: BetaEnvironmentDeleteResponse = environments.delete(param(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/environments/:environment_id/archive',
      handler: (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        const body: BetaEnvironment = environments.archive(param(request.params));
        return { body };
      },
    },
  ];
}

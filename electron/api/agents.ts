/**
 * `/v1/agents…` as the official SDK calls it: create (POST /v1/agents), retrieve (GET
 * /v1/agents/:id, `?version=`), update (POST /v1/agents/:id, a new version), list (GET
 * /v1/agents, PageCursor), archive (POST /v1/agents/:id/archive) and the versions list (GET
 * /v1/agents/:id/versions). The AgentStore validates and stores; this is the HTTP shape only.
 */
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { AgentStore } from '#services/managed/agents';
import type { ApiContext } from './context.ts';
import { invalid } from './errors.ts';
import { checkNoBody, checkQuery, limitOnly, listQuery, timePage, versionPage, type Page } from './resource-pages.ts';
import type { Route } from './router.ts';

export function agentRoutes(context: ApiContext): Route[] {
  const agents = new AgentStore(context.managed);
  const param = (params: Readonly<Record<string, string>>): string => params['agent_id'] ?? '';
  return [
    {
      method: 'POST',
      path: '/v1/agents',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsAgent = agents.create(request.body);
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/agents',
      handler: (request) => {
        const query = listQuery(request.query, { createdAt: true });
        const body: Page<BetaManagedAgentsAgent> = timePage(
          request.query,
          agents.list({ includeArchived: query.includeArchived, createdAt: query.createdAt }),
          query.limit,
        );
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/agents/:agent_id',
      handler: (request) => {
        checkQuery(request.query, ['version']);
        const body: BetaManagedAgentsAgent = agents.get(param(request.params), versionParam(request.query));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/agents/:agent_id',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsAgent = agents.update(param(request.params), request.body);
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/agents/:agent_id/archive',
      handler: (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        const body: BetaManagedAgentsAgent = agents.archive(param(request.params));
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/agents/:agent_id/versions',
      handler: (request) => {
        const limit = limitOnly(request.query);
        const body: Page<BetaManagedAgentsAgent> = versionPage(request.query, agents.versions(param(request.params)), limit);
        return { body };
      },
    },
  ];
}

/** `?version=`: a whole number from 1, or absent for the latest. */
function versionParam(query: URLSearchParams): number | undefined {
  const raw = query.get('version');
  if (raw === null || raw === '') return undefined;
  const version = Number(raw);
  if (!Number.isInteger(version) || version < 1)
    throw invalid(`version must be a whole number from 1 (got ${JSON.stringify(raw.slice(0, 32))}); leave it out for the latest version.`);
  return version;
}

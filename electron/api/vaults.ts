/**
 * `/v1/vaults…` and `/v1/vaults/:vault_id/credentials…` as the official SDK calls them: create,
 * retrieve, update (POST on the item), list (PageCursor, `include_archived`), delete, archive.
 * Credential values go into Drover's vault through the host's Credentials (so the redactor knows
 * them at once) and never come back: no answer here carries one. `mcp_oauth_validate` is refused
 * in words (Drover has no OAuth credentials).
 */
import type { BetaManagedAgentsCredential, BetaManagedAgentsDeletedCredential } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import type { BetaManagedAgentsDeletedVault, BetaManagedAgentsVault } from '@anthropic-ai/sdk/resources/beta/vaults/vaults';
import { VaultStore } from '#services/managed/vaults';
import type { ApiContext } from './context.ts';
import { invalid } from './errors.ts';
import { checkNoBody, checkQuery, listQuery, timePage, type Page } from './resource-pages.ts';
import type { Route } from './router.ts';

export function vaultRoutes(context: ApiContext): Route[] {
  const vaults = new VaultStore(context.managed, context.vault === null ? null : context.host.credentials);
  const vaultId = (params: Readonly<Record<string, string>>): string => params['vault_id'] ?? '';
  const credentialId = (params: Readonly<Record<string, string>>): string => params['credential_id'] ?? '';
  return [
    {
      method: 'POST',
      path: '/v1/vaults',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsVault = vaults.createVault(request.body);
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/vaults',
      handler: (request) => {
        const query = listQuery(request.query, { createdAt: false });
        const body: Page<BetaManagedAgentsVault> = timePage(
          request.query,
          vaults.listVaults({ includeArchived: query.includeArchived }),
          query.limit,
        );
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/vaults/:vault_id',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsVault = vaults.get(vaultId(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/vaults/:vault_id',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsVault = vaults.updateVault(vaultId(request.params), request.body);
        return { body };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/vaults/:vault_id',
      handler: async (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        const body: BetaManagedAgentsDeletedVault = await vaults.deleteVault(vaultId(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/vaults/:vault_id/archive',
      handler: async (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        const body: BetaManagedAgentsVault = await vaults.archiveVault(vaultId(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/vaults/:vault_id/credentials',
      handler: async (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsCredential = await vaults.createCredential(vaultId(request.params), request.body);
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/vaults/:vault_id/credentials',
      handler: (request) => {
        const query = listQuery(request.query, { createdAt: false });
        const body: Page<BetaManagedAgentsCredential> = timePage(
          request.query,
          vaults.listCredentials(vaultId(request.params), { includeArchived: query.includeArchived }),
          query.limit,
        );
        return { body };
      },
    },
    {
      method: 'GET',
      path: '/v1/vaults/:vault_id/credentials/:credential_id',
      handler: (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsCredential = vaults.getCredential(vaultId(request.params), credentialId(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/vaults/:vault_id/credentials/:credential_id',
      handler: async (request) => {
        checkQuery(request.query, []);
        const body: BetaManagedAgentsCredential = await vaults.updateCredential(
          vaultId(request.params),
          credentialId(request.params),
          request.body,
        );
        return { body };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/vaults/:vault_id/credentials/:credential_id',
      handler: async (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        const body: BetaManagedAgentsDeletedCredential = await vaults.deleteCredential(
          vaultId(request.params),
          credentialId(request.params),
        );
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/vaults/:vault_id/credentials/:credential_id/archive',
      handler: async (request) => {
        checkQuery(request.query, []);
        checkNoBody(request.body);
        const body: BetaManagedAgentsCredential = await vaults.archiveCredential(vaultId(request.params), credentialId(request.params));
        return { body };
      },
    },
    {
      method: 'POST',
      path: '/v1/vaults/:vault_id/credentials/:credential_id/mcp_oauth_validate',
      handler: (request) => {
        vaults.getCredential(vaultId(request.params), credentialId(request.params));
        throw invalid(
          'Drover has no mcp_oauth credentials to validate: it supports "static_bearer" and "environment_variable" credentials.',
        );
      },
    },
  ];
}

/**
 * Vaults and their credentials as the Managed Agents API keeps them.
 *
 * Values are write-only: a credential's token or secret value goes straight into Drover's own
 * vault (encrypted; through `Credentials` so the redactor learns it) and `managed.sqlite` keeps
 * only its secret id. No answer from here ever carries a value. Archiving a credential purges its
 * value from the vault (the record stays, unusable); archiving a vault archives its credentials;
 * deleting either removes the values too.
 *
 * Auth types: `static_bearer` (an MCP server's bearer, matched by `mcp_server_url`) and
 * `environment_variable`; `mcp_oauth` is refused in words. Within one vault, one active
 * credential per MCP server URL and per variable name ('conflict' otherwise).
 */
import type {
  BetaManagedAgentsCredential,
  BetaManagedAgentsEnvironmentVariableAuthResponse,
} from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import type { BetaManagedAgentsVault } from '@anthropic-ai/sdk/resources/beta/vaults/vaults';
import { AppError } from '#shared/errors';
import type { SecretId, SecretKind, SecretMeta } from '#shared/vault';
import type { ManagedDb, ResourceRow } from './db.ts';
import { CredentialCreateSchema, CredentialUpdateSchema, VaultCreateSchema, VaultUpdateSchema } from './vault-schema.ts';
import {
  invalidArgument,
  newResourceId,
  notFoundError,
  nowIso,
  parseInput,
  patchMetadata,
  listLatest,
  type ListFilter,
} from './resource-common.ts';

/** What the store needs of Drover's vault: `Credentials` (keeps the redactor current) or a VaultLike. */
export interface SecretsPort {
  create(secret: { name: string; kind: SecretKind; value: string }): Promise<SecretMeta>;
  replace(id: SecretId, value: string): Promise<SecretMeta>;
  remove(id: SecretId): Promise<void>;
}

/** A usable credential of the given vaults, for a session's hands (never a value: its secret's id). */
export interface ResolvedCredential {
  id: string;
  vault_id: string;
  auth: { type: 'static_bearer'; mcp_server_url: string } | { type: 'environment_variable'; name: string };
  secret_id: string;
}

export type { ListFilter };

/** A credential as stored: what the API shows, and where its value is (null once purged). */
interface StoredCredential {
  credential: BetaManagedAgentsCredential;
  secret_id: SecretId | null;
}

const SECRET_KIND: SecretKind = 'token';

export class VaultStore {
  constructor(
    private readonly db: ManagedDb,
    private readonly secrets: SecretsPort | null,
  ) {}

  // ---- vaults

  createVault(params: unknown): BetaManagedAgentsVault {
    const input = parseInput(VaultCreateSchema, params, 'The vault is not valid');
    const now = nowIso();
    const vault: BetaManagedAgentsVault = {
      type: 'vault',
      id: newResourceId('vault'),
      display_name: input.display_name,
      metadata: input.metadata ?? {},
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    this.db.insert(vaultRow(vault));
    return vault;
  }

  /** The vault; 'not-found' in words otherwise. */
  get(id: string): BetaManagedAgentsVault {
    const row = this.db.get('vault', id);
    if (row === null) throw notFoundError('vault', id, 'List vaults to see the ids there are.');
    return { ...(row.body as BetaManagedAgentsVault), archived_at: row.archived_at };
  }

  updateVault(id: string, params: unknown): BetaManagedAgentsVault {
    const input = parseInput(VaultUpdateSchema, params, 'The vault update is not valid');
    return this.db.transaction(() => {
      const current = this.get(id);
      if (current.archived_at !== null) throw invalidArgument(`The vault ${id} is archived and can no longer be changed.`);
      const updated: BetaManagedAgentsVault = {
        ...current,
        display_name: input.display_name ?? current.display_name,
        metadata: patchMetadata(current.metadata, input.metadata),
        updated_at: nowIso(),
      };
      this.db.replace(vaultRow(updated));
      return updated;
    });
  }

  listVaults(filter: ListFilter = {}): BetaManagedAgentsVault[] {
    return listLatest(this.db, 'vault', (row) => ({ ...(row.body as BetaManagedAgentsVault), archived_at: row.archived_at }), filter);
  }

  /** Archives the vault and its credentials (their values are purged). Idempotent. */
  async archiveVault(id: string): Promise<BetaManagedAgentsVault> {
    const current = this.get(id);
    if (current.archived_at !== null) return current;
    for (const row of this.db.list('credential', id)) {
      if (row.archived_at === null) await this.archiveCredential(id, row.id);
    }
    const archived: BetaManagedAgentsVault = { ...current, archived_at: nowIso() };
    this.db.replace(vaultRow(archived));
    return archived;
  }

  /** Deletes the vault, its credentials and their values. */
  async deleteVault(id: string): Promise<{ id: string; type: 'vault_deleted' }> {
    this.get(id);
    for (const row of this.db.list('credential', id)) await this.deleteCredential(id, row.id);
    this.db.remove('vault', id);
    return { id, type: 'vault_deleted' };
  }

  // ---- credentials

  async createCredential(vaultId: string, params: unknown): Promise<BetaManagedAgentsCredential> {
    const input = parseInput(CredentialCreateSchema, params, 'The credential is not valid');
    const vault = this.get(vaultId);
    if (vault.archived_at !== null)
      throw invalidArgument(`The vault ${vaultId} is archived: it takes no new credentials. Use another vault.`);
    const now = nowIso();
    const id = newResourceId('credential');
    const auth: BetaManagedAgentsCredential['auth'] =
      input.auth.type === 'static_bearer'
        ? { type: 'static_bearer', mcp_server_url: input.auth.mcp_server_url }
        : {
            type: 'environment_variable',
            secret_name: input.auth.secret_name,
            networking: input.auth.networking,
            injection_location: {
              body: input.auth.injection_location?.body ?? true,
              header: input.auth.injection_location?.header ?? true,
            },
          };
    if (auth.type === 'environment_variable' && !auth.injection_location.body && !auth.injection_location.header)
      throw invalidArgument('auth.injection_location: enable at least one of body and header.');
    const credential: BetaManagedAgentsCredential = {
      type: 'vault_credential',
      id,
      vault_id: vaultId,
      display_name: input.display_name ?? null,
      auth,
      metadata: input.metadata ?? {},
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    this.refuseDuplicate(credential);
    const value = input.auth.type === 'static_bearer' ? input.auth.token : input.auth.secret_value;
    const secret = await this.port().create({ name: secretName(id), kind: SECRET_KIND, value });
    try {
      this.db.transaction(() => {
        this.refuseDuplicate(credential);
        this.db.insert(credentialRow({ credential, secret_id: secret.id }));
      });
    } catch (error) {
      await this.port()
        .remove(secret.id)
        .catch(() => undefined);
      throw error;
    }
    return credential;
  }

  getCredential(vaultId: string, id: string): BetaManagedAgentsCredential {
    return this.stored(vaultId, id).credential;
  }

  async updateCredential(vaultId: string, id: string, params: unknown): Promise<BetaManagedAgentsCredential> {
    const input = parseInput(CredentialUpdateSchema, params, 'The credential update is not valid');
    const current = this.stored(vaultId, id);
    if (current.credential.archived_at !== null)
      throw invalidArgument(`The credential ${id} is archived (its value is gone) and can no longer be changed. Create a new one.`);
    let auth = current.credential.auth;
    let value: string | null = null;
    if (input.auth !== undefined) {
      if (input.auth.type !== auth.type)
        throw invalidArgument(
          `The credential ${id} is a "${auth.type}" credential; its type cannot change to "${input.auth.type}". Create a new credential instead.`,
        );
      if (input.auth.type === 'static_bearer') value = input.auth.token ?? null;
      else if (auth.type === 'environment_variable') {
        value = input.auth.secret_value ?? null;
        const location = {
          body: input.auth.injection_location?.body ?? auth.injection_location.body,
          header: input.auth.injection_location?.header ?? auth.injection_location.header,
        };
        if (!location.body && !location.header) throw invalidArgument('auth.injection_location: enable at least one of body and header.');
        const next: BetaManagedAgentsEnvironmentVariableAuthResponse = {
          ...auth,
          injection_location: location,
          networking: input.auth.networking ?? auth.networking,
        };
        auth = next;
      }
    }
    const credential: BetaManagedAgentsCredential = {
      ...current.credential,
      auth,
      display_name: input.display_name === undefined ? (current.credential.display_name ?? null) : input.display_name,
      metadata: patchMetadata(current.credential.metadata, input.metadata),
      updated_at: nowIso(),
    };
    if (value !== null && current.secret_id !== null) await this.port().replace(current.secret_id, value);
    this.db.replace(credentialRow({ credential, secret_id: current.secret_id }));
    return credential;
  }

  listCredentials(vaultId: string, filter: ListFilter = {}): BetaManagedAgentsCredential[] {
    this.get(vaultId);
    return listLatest(this.db, 'credential', (row) => storedOf(row).credential, filter, vaultId);
  }

  /** Archives the credential and purges its value from the vault. Idempotent. */
  async archiveCredential(vaultId: string, id: string): Promise<BetaManagedAgentsCredential> {
    const current = this.stored(vaultId, id);
    if (current.credential.archived_at !== null) return current.credential;
    if (current.secret_id !== null) await this.removeSecret(current.secret_id);
    const credential: BetaManagedAgentsCredential = { ...current.credential, archived_at: nowIso() };
    this.db.replace(credentialRow({ credential, secret_id: null }));
    return credential;
  }

  async deleteCredential(vaultId: string, id: string): Promise<{ id: string; type: 'vault_credential_deleted' }> {
    const current = this.stored(vaultId, id);
    if (current.secret_id !== null) await this.removeSecret(current.secret_id);
    this.db.remove('credential', id);
    return { id, type: 'vault_credential_deleted' };
  }

  /**
   * The usable credentials of `vaultIds`, in that order: each vault must exist and not be archived;
   * archived credentials are left out.
   */
  credentialsFor(vaultIds: readonly string[]): ResolvedCredential[] {
    const resolved: ResolvedCredential[] = [];
    for (const vaultId of vaultIds) {
      const vault = this.get(vaultId);
      if (vault.archived_at !== null)
        throw invalidArgument(`The vault ${vaultId} is archived: its credentials cannot be used. Use another vault.`);
      const rows = this.db.list('credential', vaultId).map(storedOf);
      for (const { credential, secret_id } of rows) {
        if (credential.archived_at !== null || secret_id === null) continue;
        const auth = credential.auth;
        if (auth.type === 'static_bearer')
          resolved.push({
            id: credential.id,
            vault_id: vaultId,
            auth: { type: 'static_bearer', mcp_server_url: auth.mcp_server_url },
            secret_id,
          });
        else if (auth.type === 'environment_variable')
          resolved.push({
            id: credential.id,
            vault_id: vaultId,
            auth: { type: 'environment_variable', name: auth.secret_name },
            secret_id,
          });
      }
    }
    return resolved;
  }

  private stored(vaultId: string, id: string): StoredCredential {
    this.get(vaultId);
    const row = this.db.get('credential', id);
    if (row === null || row.parent !== vaultId)
      throw notFoundError('credential', id, `List the credentials of ${vaultId} to see the ids there are.`);
    return storedOf(row);
  }

  private refuseDuplicate(credential: BetaManagedAgentsCredential): void {
    const key = uniqueKey(credential);
    const clash = this.db
      .list('credential', credential.vault_id)
      .map((row) => storedOf(row).credential)
      .find((other) => other.archived_at === null && other.id !== credential.id && uniqueKey(other) === key);
    if (clash === undefined) return;
    throw new AppError(
      'conflict',
      credential.auth.type === 'static_bearer'
        ? `The vault ${credential.vault_id} already has the credential ${clash.id} for ${credential.auth.mcp_server_url}. Update that one (a new token), or archive it first.`
        : `The vault ${credential.vault_id} already has the credential ${clash.id} for the variable ${key.slice(4)}. Update that one, or archive it first.`,
    );
  }

  private port(): SecretsPort {
    if (this.secrets === null)
      throw new AppError(
        'vault-unavailable',
        "Drover's vault is not available here, so credentials cannot be stored. Set up the vault (Settings → Credentials says why it is unavailable) and try again.",
      );
    return this.secrets;
  }

  private async removeSecret(id: SecretId): Promise<void> {
    try {
      await this.port().remove(id);
    } catch (error) {
      // Already gone is what we wanted; anything else is reported.
      if (!(error instanceof AppError && error.code === 'not-found')) throw error;
    }
  }
}

function uniqueKey(credential: BetaManagedAgentsCredential): string {
  const auth = credential.auth;
  return auth.type === 'environment_variable' ? `env:${auth.secret_name}` : `url:${auth.mcp_server_url}`;
}

function secretName(credentialId: string): string {
  return `Managed Agents credential ${credentialId}`;
}

function vaultRow(vault: BetaManagedAgentsVault): ResourceRow {
  return {
    kind: 'vault',
    id: vault.id,
    version: 1,
    body: vault,
    parent: null,
    created_at: vault.created_at,
    updated_at: vault.updated_at,
    archived_at: vault.archived_at,
  };
}

function credentialRow(stored: StoredCredential): ResourceRow {
  const { credential } = stored;
  return {
    kind: 'credential',
    id: credential.id,
    version: 1,
    body: stored,
    parent: credential.vault_id,
    created_at: credential.created_at,
    updated_at: credential.updated_at,
    archived_at: credential.archived_at,
  };
}

function storedOf(row: ResourceRow): StoredCredential {
  const stored = row.body as StoredCredential;
  return { credential: { ...stored.credential, archived_at: row.archived_at }, secret_id: stored.secret_id };
}

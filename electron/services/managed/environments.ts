/**
 * Environments as the Managed Agents API keeps them (`BetaEnvironment`), in `managed.sqlite`.
 *
 * Drover runs a `cloud` environment as a Docker hand (see environment-hand.ts); a `self_hosted`
 * one's sessions run their tools on the SDK workers that poll its work queue (work-queue.ts). A config left out is `cloud` with no packages and
 * unrestricted networking. Updates merge as the service documents: omitted fields keep their
 * value, the config's type cannot change, an archived environment cannot change. Package names
 * are checked to be plain package specs (no spaces, quotes or shell characters, no leading "-"),
 * since they end up on a package manager's command line.
 *
 * Deleting an environment that sessions still name is refused ('conflict', naming them): archive
 * it instead, or delete those sessions first.
 */
import type { BetaCloudConfig, BetaEnvironment, BetaPackages } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import type { ManagedDb, ResourceRow } from './db.ts';
import {
  invalidArgument,
  MetadataPatchSchema,
  MetadataSchema,
  newResourceId,
  notFoundError,
  nowIso,
  parseInput,
  patchMetadata,
  listLatest,
  type ListFilter,
} from './resource-common.ts';

export const PACKAGE_MANAGERS = ['apt', 'cargo', 'gem', 'go', 'npm', 'pip'] as const;

const PackageSpec = z
  .string()
  .min(1, 'a package name is not empty')
  .max(214, 'a package spec is at most 214 characters')
  .regex(
    /^[A-Za-z0-9@_.+:/=<>~^*[\],!-]+$/,
    'a package spec is a name with an optional version (letters, digits and @ _ . + : / = < > ~ ^ * [ ] , ! -), no spaces or quotes',
  )
  .refine((spec) => !spec.startsWith('-'), 'a package spec cannot start with "-"');

const packageList = z.array(PackageSpec).max(256, 'at most 256 packages per package manager').nullish();
const PackagesSchema = z.strictObject({
  type: z.literal('packages').optional(),
  apt: packageList,
  cargo: packageList,
  gem: packageList,
  go: packageList,
  npm: packageList,
  pip: packageList,
});

const HostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an allowed host is a bare host name like "pypi.org" or "*.example.com"');

const NetworkingSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('unrestricted') }),
  z.strictObject({
    type: z.literal('limited'),
    allowed_hosts: z.array(HostSchema).max(256).nullish(),
    allow_mcp_servers: z.boolean().nullish(),
    allow_package_managers: z.boolean().nullish(),
  }),
]);

const ConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cloud'), networking: NetworkingSchema.nullish(), packages: PackagesSchema.nullish() }),
  z.strictObject({ type: z.literal('self_hosted') }),
]);

const NameSchema = z.string().min(1, 'the name is empty').max(256, 'a name is at most 256 characters');
const DescriptionSchema = z.string().max(4096, 'a description is at most 4,096 characters');

const EnvironmentCreateSchema = z.strictObject({
  name: NameSchema,
  config: ConfigSchema.nullish(),
  description: DescriptionSchema.nullish(),
  metadata: MetadataSchema.optional(),
  scope: z.enum(['organization', 'account']).nullish(),
});

const EnvironmentUpdateSchema = z.strictObject({
  name: NameSchema.nullish(),
  config: ConfigSchema.nullish(),
  description: DescriptionSchema.nullish(),
  metadata: MetadataPatchSchema.optional(),
  scope: z.enum(['organization', 'account']).nullish(),
});

type ConfigInput = z.output<typeof ConfigSchema>;

export type EnvironmentListFilter = ListFilter;

export class EnvironmentStore {
  constructor(private readonly db: ManagedDb) {}

  create(params: unknown): BetaEnvironment {
    const input = parseInput(EnvironmentCreateSchema, params, 'The environment is not valid');
    const now = nowIso();
    const environment: BetaEnvironment = {
      type: 'environment',
      id: newResourceId('environment'),
      name: input.name,
      description: input.description ?? null,
      config: resolveConfig(input.config ?? { type: 'cloud' }, null),
      metadata: input.metadata ?? {},
      scope: input.scope ?? 'organization',
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    this.db.insert(rowOf(environment));
    return environment;
  }

  get(id: string): BetaEnvironment {
    const row = this.db.get('environment', id);
    if (row === null) throw notFoundError('environment', id, 'List environments to see the ids there are.');
    return environmentOf(row);
  }

  update(id: string, params: unknown): BetaEnvironment {
    const input = parseInput(EnvironmentUpdateSchema, params, 'The environment update is not valid');
    return this.db.transaction(() => {
      const current = this.get(id);
      if (current.archived_at !== null)
        throw invalidArgument(`The environment ${id} is archived and can no longer be changed. Create a new environment instead.`);
      let config = current.config;
      if (input.config !== undefined && input.config !== null) {
        if (input.config.type !== current.config.type)
          throw invalidArgument(
            `The environment ${id} is a "${current.config.type}" environment; its config type cannot change to "${input.config.type}". Create a new environment instead.`,
          );
        config = resolveConfig(input.config, current.config.type === 'cloud' ? current.config : null);
      }
      const updated: BetaEnvironment = {
        ...current,
        name: input.name ?? current.name,
        description: input.description === undefined ? current.description : input.description,
        scope: input.scope ?? current.scope ?? 'organization',
        config,
        metadata: patchMetadata(current.metadata, input.metadata, { emptyDeletes: true }),
        updated_at: nowIso(),
      };
      this.db.replace(rowOf(updated));
      return updated;
    });
  }

  /** The environments, newest first (archived ones only when asked). */
  list(filter: EnvironmentListFilter = {}): BetaEnvironment[] {
    return listLatest(this.db, 'environment', environmentOf, filter);
  }

  /** Archives it: no new sessions may use it; the ones that do keep running. Idempotent. */
  archive(id: string): BetaEnvironment {
    return this.db.transaction(() => {
      const current = this.get(id);
      if (current.archived_at !== null) return current;
      const archived: BetaEnvironment = { ...current, archived_at: nowIso() };
      this.db.replace(rowOf(archived));
      return archived;
    });
  }

  /** Deletes it, unless API sessions still name it ('conflict', naming them). */
  delete(id: string): { id: string; type: 'environment_deleted' } {
    return this.db.transaction(() => {
      this.get(id);
      const users = this.db.list('session', id).map((row) => sessionExternalId(row.id));
      if (users.length > 0) {
        const shown = users.slice(0, 5).join(', ') + (users.length > 5 ? ` and ${users.length - 5} more` : '');
        throw new AppError(
          'conflict',
          `The environment ${id} is used by ${users.length === 1 ? 'the session' : `${users.length} sessions`} ${shown}. Delete ${users.length === 1 ? 'that session' : 'those sessions'} first, or archive the environment instead (no new session can use it then).`,
        );
      }
      this.db.remove('environment', id);
      return { id, type: 'environment_deleted' as const };
    });
  }
}

/** A session record's key is its Drover uuid; the API names it `sesn_` + the uuid's hex digits. */
function sessionExternalId(uuid: string): string {
  return uuid.startsWith('sesn_') ? uuid : `sesn_${uuid.replaceAll('-', '').toLowerCase()}`;
}

function resolveConfig(config: ConfigInput, previous: BetaCloudConfig | null): BetaEnvironment['config'] {
  // A self-hosted environment's sessions run their tools on the workers that poll it (work-queue.ts).
  if (config.type === 'self_hosted') return { type: 'self_hosted' };
  const networkingInput = config.networking;
  let networking: BetaCloudConfig['networking'];
  if (networkingInput === undefined || networkingInput === null) networking = previous?.networking ?? { type: 'unrestricted' };
  else if (networkingInput.type === 'unrestricted') networking = { type: 'unrestricted' };
  else {
    const before = previous?.networking.type === 'limited' ? previous.networking : null;
    networking = {
      type: 'limited',
      allowed_hosts: networkingInput.allowed_hosts ?? before?.allowed_hosts ?? [],
      allow_mcp_servers: networkingInput.allow_mcp_servers ?? before?.allow_mcp_servers ?? false,
      allow_package_managers: networkingInput.allow_package_managers ?? before?.allow_package_managers ?? false,
    };
  }
  const packages: BetaPackages = { type: 'packages', apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };
  for (const manager of PACKAGE_MANAGERS) {
    const given = config.packages?.[manager];
    packages[manager] = given === undefined ? [...(previous?.packages[manager] ?? [])] : [...(given ?? [])];
  }
  const anyPackages = PACKAGE_MANAGERS.some((manager) => packages[manager].length > 0);
  if (anyPackages && networking.type === 'limited' && !networking.allow_package_managers)
    throw invalidArgument(
      'config: packages need the package registries, but networking is "limited" without allow_package_managers. Set networking.allow_package_managers to true, or remove the packages.',
    );
  return { type: 'cloud', networking, packages };
}

function rowOf(environment: BetaEnvironment): ResourceRow {
  return {
    kind: 'environment',
    id: environment.id,
    version: 1,
    body: environment,
    parent: null,
    created_at: environment.created_at,
    updated_at: environment.updated_at,
    archived_at: environment.archived_at,
  };
}

function environmentOf(row: ResourceRow): BetaEnvironment {
  return { ...(row.body as BetaEnvironment), archived_at: row.archived_at };
}

/**
 * Vaults' and credentials' parameters as the official SDK sends them (`VaultCreateParams`,
 * `CredentialCreateParams`, …), validated strictly. Only `static_bearer` and
 * `environment_variable` credentials are accepted; any other auth type gets a 400 that says which
 * ones are.
 */
import { z } from 'zod';
import { SecretValueSchema } from '#shared/vault';
import { MetadataPatchSchema, MetadataSchema } from './resource-common.ts';

export const SUPPORTED_AUTH_TYPES = ['static_bearer', 'environment_variable'] as const;

const DisplayNameSchema = z.string().min(1, 'the display name is empty').max(255, 'a display name is at most 255 characters');

export const VaultCreateSchema = z.strictObject({
  display_name: DisplayNameSchema,
  metadata: MetadataSchema.optional(),
});

export const VaultUpdateSchema = z.strictObject({
  display_name: DisplayNameSchema.nullish(),
  metadata: MetadataPatchSchema.nullish(),
});

const McpServerUrlSchema = z
  .string()
  .max(2048)
  .refine((url) => {
    try {
      return /^https?:$/.test(new URL(url).protocol);
    } catch {
      return false;
    }
  }, 'mcp_server_url must be an http:// or https:// URL');

const CredentialHostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/,
    'an allowed host is a bare host name ("api.example.com"), an IPv4 address or "*.example.com"',
  );

const NetworkingSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('unrestricted') }),
  z.strictObject({
    type: z.literal('limited'),
    allowed_hosts: z.array(CredentialHostSchema).min(1, 'list at least one host').max(16, 'at most 16 hosts'),
  }),
]);

const InjectionLocationSchema = z.strictObject({ body: z.boolean().optional(), header: z.boolean().optional() });

const VariableNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, 'secret_name is an environment variable name: letters, digits and _, not starting with a digit');

function immutable(field: string, what: string) {
  return z
    .unknown()
    .optional()
    .refine((value) => value === undefined, `${field} cannot change after create (${what}); create a new credential instead`);
}

const unsupportedAuth = (type: unknown): string =>
  `${JSON.stringify(type)} is not supported here; Drover supports ${SUPPORTED_AUTH_TYPES.map((t) => `"${t}"`).join(' and ')}`;

const StaticBearerCreateSchema = z.strictObject({
  type: z.literal('static_bearer'),
  token: SecretValueSchema,
  mcp_server_url: McpServerUrlSchema,
});
const EnvironmentVariableCreateSchema = z.strictObject({
  type: z.literal('environment_variable'),
  secret_name: VariableNameSchema,
  secret_value: SecretValueSchema,
  networking: NetworkingSchema,
  injection_location: InjectionLocationSchema.optional(),
});

const AuthCreateSchema = z.discriminatedUnion('type', [StaticBearerCreateSchema, EnvironmentVariableCreateSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? unsupportedAuth((issue.input as { type?: unknown } | undefined)?.type) : undefined),
});

export const CredentialCreateSchema = z.strictObject({
  auth: AuthCreateSchema,
  display_name: z.string().max(255, 'a display name is at most 255 characters').nullish(),
  metadata: MetadataSchema.optional(),
});

const AuthUpdateSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('static_bearer'),
      token: SecretValueSchema.nullish(),
      mcp_server_url: immutable('mcp_server_url', 'it names the MCP server'),
    }),
    z.strictObject({
      type: z.literal('environment_variable'),
      secret_value: SecretValueSchema.nullish(),
      networking: NetworkingSchema.nullish(),
      injection_location: InjectionLocationSchema.optional(),
      secret_name: immutable('secret_name', 'it names the variable'),
    }),
  ],
  {
    error: (issue) => (issue.code === 'invalid_union' ? unsupportedAuth((issue.input as { type?: unknown } | undefined)?.type) : undefined),
  },
);

export const CredentialUpdateSchema = z.strictObject({
  auth: AuthUpdateSchema.optional(),
  display_name: DisplayNameSchema.nullish(),
  metadata: MetadataPatchSchema.nullish(),
});

/**
 * Hands as the session log and the UI see them: what a hand is configured with (recorded in the
 * log as `hand.attached`, so forks inherit it), and its live status. Pure data + zod; must never
 * import node, electron or DOM code.
 */
import { z } from 'zod';
import { EngineIdSchema, EngineRequirementsSchema } from './engine-requirements.ts';
import { SecretIdSchema } from './vault.ts';

/**
 * A hand's name within its session. The model addresses the hand's tools as `<name>__<tool>`, so
 * names are short, lowercase and free of underscores: two hands can never produce the same tool name.
 */
export const HandNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a hand name is 1–32 lowercase letters, digits or dashes, starting with a letter');

/** Separates a hand's name from its tool's name in the tool names the model sees. */
export const TOOL_NAME_SEPARATOR = '__';

const absolutePosixPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path (starting with /)')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

/** A host folder shown inside the container. Files there are the user's own: never snapshotted. */
export const DockerMountSchema = z.strictObject({
  /** Absolute path on this computer (checked to exist when the container is created). */
  host_path: z.string().min(1).max(4096),
  container_path: absolutePosixPath,
  read_only: z.boolean().default(true),
});
export type DockerMount = z.output<typeof DockerMountSchema>;

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name is letters, digits and _, not starting with a digit');

/** An http(s) URL with no user name or password in it (credentials come from the vault). */
function httpUrlWithoutCredentials(message: string) {
  return z
    .string()
    .trim()
    .max(2048)
    .refine((value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
      } catch {
        return false;
      }
    }, message);
}

/**
 * A git repository a session brings into a hand. The main process clones it; inside the hand,
 * fetch and push go through Drover's git proxy, which adds the token: the hand never holds it.
 */
export const GitRepoSchema = z.strictObject({
  /** The repository's http(s) URL, without credentials in it (the token comes from the vault). */
  url: httpUrlWithoutCredentials('must be an http(s) URL like https://github.com/team/repo.git, with no user name or password in it'),
  /** The vault secret (a git token) the proxy sends on the hand's behalf; null: a public repository. */
  token_secret_id: SecretIdSchema.nullable().default(null),
  /** Where the working tree goes inside the hand. */
  path: absolutePosixPath,
  /** The branch to check out; null: the repository's default branch. */
  branch: z
    .string()
    .max(255)
    .regex(/^[A-Za-z0-9._/-]+$/, 'a branch name is letters, digits, ".", "_", "/" and "-"')
    .nullable()
    .default(null),
});
export type GitRepo = z.output<typeof GitRepoSchema>;

/**
 * The tools of Claude Managed Agents' `agent_toolset_20260401` that Drover offers on a Docker hand,
 * under these very names (not `<hand>__<tool>`): at most one such hand per session.
 */
export const AGENT_TOOLSET_TYPE = 'agent_toolset_20260401';
export const AGENT_TOOLSET_TOOLS = ['bash', 'read', 'write', 'edit', 'glob', 'grep'] as const;
export const AgentToolNameSchema = z.enum(AGENT_TOOLSET_TOOLS);
export type AgentToolName = z.infer<typeof AgentToolNameSchema>;

export const DockerToolsetSchema = z.strictObject({
  type: z.literal(AGENT_TOOLSET_TYPE),
  /** The toolset's tools that are on (the others are not offered). */
  tools: z
    .array(AgentToolNameSchema)
    .min(1, 'turn on at least one tool of the toolset, or leave the toolset out')
    .refine((tools) => new Set(tools).size === tools.length, 'a tool is listed twice')
    .default([...AGENT_TOOLSET_TOOLS]),
});
export type DockerToolset = z.output<typeof DockerToolsetSchema>;

/** A package to install: a name with an optional version (`ripgrep`, `numpy==2.1.0`, `typescript@5`), nothing a shell would read. */
const packageSpec = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .regex(
    /^[A-Za-z0-9@][A-Za-z0-9._+\-=<>!~@/:^*]*$/,
    'a package is a name with an optional version, like "ripgrep", "numpy==2.1.0" or "typescript@5"',
  );

/** A host a limited network lets through: a domain name or address, or `*.` and a domain for its subdomains; `:port`: that port only. */
const allowedHost = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/,
    'an allowed host is a domain name like "api.example.com" (or "*.example.com" for its subdomains), with an optional ":port", without scheme or path',
  );

/** Packages built into a derived image (once, cached by content) before the hand's container starts. */
export const DockerPackagesSchema = z.strictObject({
  apt: z.array(packageSpec).max(256).default([]),
  pip: z.array(packageSpec).max(256).default([]),
  npm: z.array(packageSpec).max(256).default([]),
});
export type DockerPackages = z.output<typeof DockerPackagesSchema>;

export const DockerHandConfigSchema = z.strictObject({
  kind: z.literal('docker'),
  /** An image reference, e.g. `debian:bookworm` or `registry.example.com/team/tools:1.2`. */
  image: z
    .string()
    .trim()
    .min(1, 'choose an image')
    .max(512)
    .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, 'an image reference is like "debian:bookworm" or "host:5000/team/image:tag"'),
  /** CPUs the container may use (e.g. 1.5); null: no limit. */
  cpus: z.number().min(0.05).max(256).nullable().default(2),
  /** Memory limit in MiB; null: no limit. */
  memory_mb: z.number().int().min(16).max(1_048_576).nullable().default(4096),
  /** Process limit (guards the machine against fork bombs); null: no limit. */
  pids_limit: z.number().int().min(16).max(1_000_000).nullable().default(1024),
  /** `none`: no network at all; `bridge`: Docker's default network (internet through the host). */
  network: z.enum(['none', 'bridge']).default('bridge'),
  mounts: z.array(DockerMountSchema).max(32).default([]),
  /** Where commands start; created if missing. */
  working_dir: absolutePosixPath.default('/workspace'),
  /** Environment for commands. Stored in the session log: never put a secret here. */
  env: z.record(envName, z.string().max(32_768)).default({}),
  /** Git repositories cloned into the container when it first starts (not when restored from a snapshot). */
  repos: z.array(GitRepoSchema).max(8).default([]),
  /**
   * Offer Managed Agents' toolset (`bash`, `read`, `write`, `edit`, `glob`, `grep`, unprefixed)
   * instead of `<hand>__bash` and `<hand>__editor`. Optional rather than defaulted, so
   * configurations stored before it read back (and hash) exactly as they were.
   */
  toolset: DockerToolsetSchema.optional(),
  /** Packages installed into a derived image built from `image` (see derived-image.ts); optional like `toolset`. */
  packages: DockerPackagesSchema.optional(),
  /**
   * Limits network `bridge` to these hosts (`*.example.com`: its subdomains): the container joins an
   * internal Docker network with no route out and reaches only these, through Drover's egress proxy
   * (HTTP_PROXY / HTTPS_PROXY). Optional like `toolset`; absent: the bridge, unlimited.
   */
  allowed_hosts: z.array(allowedHost).max(256).optional(),
  /** The Docker engine it runs on (Settings → Engines); absent: this computer's, unless `requirements` pick one. Optional like `toolset`. */
  engine: EngineIdSchema.optional(),
  /** What the engine must have (architecture, CPUs, memory, a GPU, labels): Drover picks an engine that has it. */
  requirements: EngineRequirementsSchema.optional(),
});
export type DockerHandConfig = z.output<typeof DockerHandConfigSchema>;

const sshHost = z
  .string()
  .trim()
  .min(1, 'give the machine a host name or address')
  .max(255)
  .regex(/^[A-Za-z0-9._:[\]-]+$/, 'a host is a name like build.example.com or an address like 192.168.1.20');
const sshUser = z
  .string()
  .trim()
  .min(1, 'give the user to log in as')
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/, 'a user name is letters, digits, "_", "." and "-"');

/** How Drover logs in: a private key (and its passphrase) or a password from the vault, or ssh-agent. */
export const SshAuthSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('key'),
    key_secret_id: SecretIdSchema,
    passphrase_secret_id: SecretIdSchema.nullable().default(null),
  }),
  z.strictObject({ method: z.literal('password'), password_secret_id: SecretIdSchema }),
  /** The agent at SSH_AUTH_SOCK of the Drover process. */
  z.strictObject({ method: z.literal('agent') }),
]);
export type SshAuth = z.output<typeof SshAuthSchema>;

/** One machine to log in to (the target, or a jump host in front of it). */
export const SshEndpointSchema = z.strictObject({
  host: sshHost,
  port: z.number().int().min(1).max(65_535).default(22),
  user: sshUser,
  auth: SshAuthSchema,
});
export type SshEndpoint = z.output<typeof SshEndpointSchema>;

/** A personal machine reached over SSH. Secrets are referenced by vault id; none is ever stored here. */
export const SshHandConfigSchema = z.strictObject({
  kind: z.literal('ssh'),
  ...SshEndpointSchema.shape,
  /** A jump host the connection goes through (ProxyJump), or null. */
  jump: SshEndpointSchema.nullable().default(null),
  /** Where commands start (created if missing); null: the user's home folder. */
  working_dir: absolutePosixPath.nullable().default(null),
  /**
   * Keep the working folder's files at each turn end in a shadow git store (outside any .git of
   * the user's), so forks and rewinds can restore them.
   */
  snapshots: z.boolean().default(true),
});
export type SshHandConfig = z.output<typeof SshHandConfigSchema>;

/** A value given as is, or a vault secret resolved by the main process when the server starts. */
const McpValueSchema = z.union([z.strictObject({ value: z.string().max(32_768) }), z.strictObject({ secret_id: SecretIdSchema })]);
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'a header name is letters, digits and -');

/** How Drover reaches an MCP server: a local command (stdio) or a URL (Streamable HTTP). */
export const McpTransportSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('stdio'),
    command: z.string().trim().min(1, 'give the command that starts the server').max(4096),
    args: z.array(z.string().max(4096)).max(64).default([]),
    /** The folder it starts in; null: Drover's own. */
    cwd: z.string().max(4096).nullable().default(null),
    /** Environment for the server; secrets by vault id, resolved only in the server's own environment. */
    env: z.record(envName, McpValueSchema).default({}),
  }),
  z.strictObject({
    type: z.literal('http'),
    url: httpUrlWithoutCredentials('must be an http(s) URL like https://example.com/mcp, with no credentials in it'),
    headers: z.record(headerName, McpValueSchema).default({}),
    /** A vault secret sent as `Authorization: Bearer …`, or null. */
    bearer_secret_id: SecretIdSchema.nullable().default(null),
  }),
]);
export type McpTransport = z.output<typeof McpTransportSchema>;

/** An MCP server as a hand: its tools are offered to the model as `<hand>__<tool>`. */
export const McpHandConfigSchema = z.strictObject({
  kind: z.literal('mcp'),
  transport: McpTransportSchema,
  /** Off: the server is not started and none of its tools is offered (the hand stays attached). */
  enabled: z.boolean().default(true),
  /** Tools of the server the user turned off for this session. */
  disabled_tools: z.array(z.string().max(256)).max(512).default([]),
  /** Per-call timeout. */
  timeout_seconds: z.number().int().min(1).max(3600).default(120),
  /**
   * Trusted by the user: its tools run without asking (an MCP server's default policy is to ask).
   * Absent means false — optional rather than defaulted, so configurations stored before it read
   * back (and compare) exactly as they were.
   */
  trusted: z.boolean().optional(),
  /**
   * Tools of the server (its own names) the user marked as changing files: after a call to one is
   * answered, Drover checkpoints the files of the session's Docker and SSH hands. Names the server
   * does not list are kept (shown as not offered). Absent means none — optional, as `trusted`.
   */
  writing_tools: z.array(z.string().min(1).max(256)).max(512).optional(),
});
export type McpHandConfig = z.output<typeof McpHandConfigSchema>;

export const HandConfigSchema = z.discriminatedUnion('kind', [DockerHandConfigSchema, SshHandConfigSchema, McpHandConfigSchema]);
export type HandConfig = z.output<typeof HandConfigSchema>;

/** A hand to attach to a session: its name and configuration. */
export const HandSpecSchema = z.strictObject({
  name: HandNameSchema,
  config: HandConfigSchema,
});
export type HandSpec = z.output<typeof HandSpecSchema>;
export type HandSpecInput = z.input<typeof HandSpecSchema>;

/**
 * Where a hand is in its life: `idle` (nothing started yet: hands start on their first tool
 * call), `provisioning`, `ready`, `lost` (its container died; the next call starts a fresh one),
 * `failed` (the last start failed; the next call tries again).
 */
export const HandStateSchema = z.enum(['idle', 'provisioning', 'ready', 'lost', 'failed']);
export type HandState = z.infer<typeof HandStateSchema>;

/** A thread holding a hand (shared/hand-holders.ts folds them from the log), as the hands panel shows it. */
export const HandHolderSchema = z.strictObject({
  session_thread_id: z.string(),
  agent_name: z.string().nullable(),
  /** The same hand, the same one with writes refused, or a copy of its own (see shared/threads.ts). */
  mode: z.enum(['shared', 'read_only', 'fresh']),
  /** The thread's own copy (a fresh one, or a Docker read-only container); null: it holds the hand itself. */
  copy: z.strictObject({ name: z.string(), state: HandStateSchema, detail: z.string(), container: z.string().nullable() }).nullable(),
});
export type HandHolder = z.infer<typeof HandHolderSchema>;

export const HandStatusSchema = z.strictObject({
  name: HandNameSchema,
  kind: z.enum(['docker', 'ssh', 'mcp']),
  config: HandConfigSchema,
  state: HandStateSchema,
  /** A sentence on the state: what is happening, what failed and what to do. */
  detail: z.string(),
  /** The running container (short id), when there is one. */
  container: z.string().nullable(),
  /** The tool names the model sees for this hand. */
  tools: z.array(z.string()),
  /**
   * `pending`: the hand came from an imported file and stays off (nothing runs, no tools) until
   * the user has reviewed what it would run and approved it (`hands-approve`). Absent otherwise.
   */
  review: z.literal('pending').optional(),
  /** The event that attached it (what an approval names, so it approves exactly what was shown). */
  attachedSeq: z.number().int().positive().optional(),
  /** Threads holding it (issue 21): how, and a thread's own copy (`box~a1b2`) with its state; absent: none. */
  threads: z.array(HandHolderSchema).optional(),
});
export type HandStatus = z.infer<typeof HandStatusSchema>;

/**
 * A machine's host key as SSH presents it. The first connection shows its fingerprint and asks
 * the user to trust it; after that a different key is refused (a possible man-in-the-middle).
 */
export const HostKeySchema = z.strictObject({
  host: z.string(),
  port: z.number().int(),
  /** e.g. ssh-ed25519 */
  algorithm: z.string(),
  /** `SHA256:` and the unpadded base64 of the key's SHA-256, as OpenSSH prints it. */
  fingerprint: z.string(),
});
export type HostKey = z.infer<typeof HostKeySchema>;

/** What "Test connection" found. */
export const SshTestResultSchema = z.strictObject({
  ok: z.boolean(),
  /** What happened, in words (and what to do when it failed). */
  message: z.string(),
  /** The target's host key, and whether it is trusted ('unknown': first time; 'changed': refused). */
  hostKey: HostKeySchema.nullable(),
  trust: z.enum(['trusted', 'unknown', 'changed']).nullable(),
  /** The jump host's key and trust, when there is one. */
  jumpHostKey: HostKeySchema.nullable(),
  jumpTrust: z.enum(['trusted', 'unknown', 'changed']).nullable(),
  /** Round trip of a trivial command on the open connection, and `uname -srm` (or the OS's answer). */
  latencyMs: z.number().nonnegative().nullable(),
  os: z.string().nullable(),
});
export type SshTestResult = z.infer<typeof SshTestResultSchema>;

/** Live provisioning progress (pushed, not stored): per-layer bytes while an image is pulled. */
export const HandProgressSchema = z.strictObject({
  hand_id: HandNameSchema,
  phase: z.enum(['pulling', 'building', 'creating', 'starting', 'connecting', 'restoring', 'cloning']),
  message: z.string(),
  /** Bytes done and total over the layers whose size is known; absent when unknown. */
  current: z.number().nonnegative().optional(),
  total: z.number().nonnegative().optional(),
  layers: z
    .array(
      z.strictObject({
        id: z.string(),
        status: z.string(),
        current: z.number().nonnegative().optional(),
        total: z.number().nonnegative().optional(),
      }),
    )
    .optional(),
});
export type HandProgress = z.infer<typeof HandProgressSchema>;

/** The tool name the model sees for `tool` of the hand `hand`. */
export function qualifiedToolName(hand: string, tool: string): string {
  return `${hand}${TOOL_NAME_SEPARATOR}${tool}`;
}

/** One tool of an MCP server, as the UI lists it. */
export const McpToolInfoSchema = z.strictObject({
  /** The server's own name for it. */
  name: z.string(),
  /** The name the model sees (`<hand>__<tool>`, made API-safe). */
  exposedName: z.string(),
  title: z.string().nullable(),
  description: z.string(),
  /** Off when the user disabled it for this session (`disabled_tools`). */
  enabled: z.boolean(),
});
export type McpToolInfo = z.infer<typeof McpToolInfoSchema>;

/** What starting (or testing) an MCP server found: its tools, or why it could not start. */
export const McpServerInfoSchema = z.strictObject({
  ok: z.boolean(),
  /** What happened, in words (and what to do when it failed). */
  message: z.string(),
  /** The server's name and version as it introduced itself. */
  server: z.strictObject({ name: z.string(), version: z.string() }).nullable(),
  tools: z.array(McpToolInfoSchema),
  /** The last part of what the server wrote to stderr (secrets masked). */
  stderr: z.string(),
});
export type McpServerInfo = z.infer<typeof McpServerInfoSchema>;

/** Servers found in a Claude Desktop style `{"mcpServers": {...}}` file, ready to attach. */
export const McpImportSchema = z.strictObject({
  servers: z.array(
    z.strictObject({
      /** A hand name made from the server's key in the file. */
      name: HandNameSchema,
      config: McpHandConfigSchema,
      /** What the import did that the user should know (e.g. a token moved into the vault). */
      notes: z.array(z.string()),
    }),
  ),
  /** Entries that could not be imported, and why. */
  skipped: z.array(z.strictObject({ key: z.string(), reason: z.string() })),
});
export type McpImport = z.infer<typeof McpImportSchema>;

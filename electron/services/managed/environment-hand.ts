/**
 * A Managed Agents `cloud` environment as a Drover hand: a Docker container on this machine.
 *
 * - Image: `metadata["drover.image"]` when the environment sets it, else the caller's default image
 *   (`DEFAULT_ENVIRONMENT_IMAGE` unless the user chose another).
 * - `packages` (apt, pip, npm): carried on the hand's config; at its first start the hand builds a
 *   derived image from the base once, cached by content (hands/docker/derived-image.ts). cargo, gem
 *   and go packages are refused with a sentence saying what to do.
 * - `networking: unrestricted`: Docker's default bridge. `limited` with no allowed host and no
 *   package managers: no network at all (`none`). `limited` with `allowed_hosts` (and, with
 *   `allow_package_managers`, the public package registries): `allowed_hosts` on the hand, enforced
 *   by an internal Docker network and Drover's egress proxy (hands/docker/egress-proxy.ts).
 *   `allow_mcp_servers` changes nothing: MCP servers are reached by Drover itself, not the container.
 * - `toolset`: the agent's `agent_toolset_20260401` tools on this hand, unprefixed (`bash`, `read`, …).
 *
 * No I/O. Throws an `invalid-argument` AppError (which the API shows as a 400) for what it refuses.
 */
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { AppError } from '#shared/errors';
import { PACKAGE_MANAGER_HOSTS } from '#services/hands/docker/egress-proxy';
import {
  AGENT_TOOLSET_TOOLS,
  AGENT_TOOLSET_TYPE,
  HandSpecSchema,
  type AgentToolName,
  type DockerHandConfig,
  type HandSpecInput,
} from '#shared/hands';

/** The image a cloud environment runs when neither the user nor `metadata["drover.image"]` chose one. */
export const DEFAULT_ENVIRONMENT_IMAGE = 'debian:bookworm-slim';
/** The metadata key that picks an environment's image. */
export const IMAGE_METADATA_KEY = 'drover.image';
/** The hand's name when the caller gives none. */
export const DEFAULT_ENVIRONMENT_HAND = 'env';

export interface EnvironmentHandOptions {
  /** The image when the environment's metadata names none. */
  defaultImage: string;
  /** The agent's toolset tools on this hand: true for all six, a list for some (see agentToolsetTools), false for none. */
  toolset: boolean | readonly AgentToolName[];
  /** The hand's name in the session (default `env`). */
  name?: string;
}

/** The Docker hand a `cloud` environment runs as. */
export function environmentHandSpec(environment: BetaEnvironment, options: EnvironmentHandOptions): HandSpecInput {
  const where = `The environment "${environment.name}" (${environment.id})`;
  const config = environment.config;
  if (config.type !== 'cloud') {
    throw new AppError(
      'invalid-argument',
      `${where} is self_hosted, and Drover runs environments itself, on this machine's Docker. Use an environment with config {"type": "cloud"}.`,
    );
  }
  const packages = config.packages;
  const unsupported = (['cargo', 'gem', 'go'] as const).filter((manager) => packages[manager].length > 0);
  if (unsupported.length > 0) {
    throw new AppError(
      'invalid-argument',
      `${where} asks for ${unsupported.join(', ')} packages, which Drover cannot install yet (it installs apt, pip and npm packages). Remove them from config.packages and use an image that has them: set metadata["${IMAGE_METADATA_KEY}"] to it.`,
    );
  }
  const networking = config.networking;
  let network: DockerHandConfig['network'] = 'bridge';
  let allowedHosts: string[] | undefined;
  if (networking.type === 'limited') {
    const hosts = [...networking.allowed_hosts, ...(networking.allow_package_managers ? PACKAGE_MANAGER_HOSTS : [])];
    if (hosts.length === 0) network = 'none';
    else allowedHosts = [...new Set(hosts.map((host) => host.trim().toLowerCase()))];
  }
  const image = environment.metadata[IMAGE_METADATA_KEY] ?? options.defaultImage;
  const tools = options.toolset === true ? [...AGENT_TOOLSET_TOOLS] : options.toolset === false ? [] : [...options.toolset];
  const wanted = { apt: [...packages.apt], pip: [...packages.pip], npm: [...packages.npm] };
  const hasPackages = wanted.apt.length + wanted.pip.length + wanted.npm.length > 0;
  const spec: HandSpecInput = {
    name: options.name ?? DEFAULT_ENVIRONMENT_HAND,
    config: {
      kind: 'docker',
      image,
      network,
      ...(allowedHosts ? { allowed_hosts: allowedHosts } : {}),
      ...(tools.length > 0 ? { toolset: { type: AGENT_TOOLSET_TYPE, tools } } : {}),
      ...(hasPackages ? { packages: wanted } : {}),
    },
  };
  const parsed = HandSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const at = issue.path.join('.');
      const field = at === 'config.image' ? `the image "${image}" (metadata["${IMAGE_METADATA_KEY}"])` : at.replace(/^config\./, 'config.');
      return `${field}: ${issue.message}`;
    });
    throw new AppError('invalid-argument', `${where} cannot run as a Docker hand: ${problems.join('; ')}.`);
  }
  return spec;
}

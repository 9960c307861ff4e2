import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { HandSpecSchema } from '#shared/hands';
import { agentToolsetTools } from '#services/hands/toolset/config';
import { DEFAULT_ENVIRONMENT_IMAGE, environmentHandSpec } from './environment-hand.ts';

function environment(
  overrides: { config?: Partial<Extract<BetaEnvironment['config'], { type: 'cloud' }>>; metadata?: Record<string, string> } = {},
): BetaEnvironment {
  return {
    id: 'env_01',
    type: 'environment',
    name: 'box',
    description: null,
    archived_at: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    metadata: overrides.metadata ?? {},
    config: {
      type: 'cloud',
      networking: { type: 'unrestricted' },
      packages: { apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] },
      ...overrides.config,
    },
  };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid-argument');
    return (error as AppError).message;
  }
  throw new Error('expected a refusal');
}

describe('environmentHandSpec', () => {
  it('an unrestricted cloud environment is a Docker hand on the bridge with the default image and the whole toolset', () => {
    const spec = HandSpecSchema.parse(environmentHandSpec(environment(), { defaultImage: DEFAULT_ENVIRONMENT_IMAGE, toolset: true }));
    expect(spec.name).toBe('env');
    expect(spec.config).toMatchObject({
      kind: 'docker',
      image: DEFAULT_ENVIRONMENT_IMAGE,
      network: 'bridge',
      toolset: { type: 'agent_toolset_20260401', tools: ['bash', 'read', 'write', 'edit', 'glob', 'grep'] },
    });
    expect(spec.config.kind === 'docker' && spec.config.packages).toBeUndefined();
  });

  it('takes the image from metadata["drover.image"], packages onto the config, the name and a partial toolset', () => {
    const spec = environmentHandSpec(
      environment({
        metadata: { 'drover.image': 'drover-test/bash:1' },
        config: { packages: { apt: ['ripgrep'], cargo: [], gem: [], go: [], npm: ['typescript@5'], pip: ['numpy==2.1.0'] } },
      }),
      { defaultImage: 'debian:bookworm', toolset: ['read', 'grep'], name: 'box' },
    );
    expect(spec).toEqual({
      name: 'box',
      config: {
        kind: 'docker',
        image: 'drover-test/bash:1',
        network: 'bridge',
        toolset: { type: 'agent_toolset_20260401', tools: ['read', 'grep'] },
        packages: { apt: ['ripgrep'], pip: ['numpy==2.1.0'], npm: ['typescript@5'] },
      },
    });
    const plain = environmentHandSpec(environment(), { defaultImage: 'debian:bookworm', toolset: false });
    expect(plain.config).toEqual({ kind: 'docker', image: 'debian:bookworm', network: 'bridge' });
  });

  it('limited networking: nothing allowed is no network; allowed hosts (and package registries) are the hand’s allowed_hosts', () => {
    const closed = environment({
      config: { networking: { type: 'limited', allowed_hosts: [], allow_mcp_servers: true, allow_package_managers: false } },
    });
    expect(environmentHandSpec(closed, { defaultImage: 'debian:bookworm', toolset: true }).config).toMatchObject({ network: 'none' });
    const hosts = environment({
      config: {
        networking: {
          type: 'limited',
          allowed_hosts: ['api.example.com', '*.Example.org'],
          allow_mcp_servers: false,
          allow_package_managers: false,
        },
      },
    });
    const limited = HandSpecSchema.parse(environmentHandSpec(hosts, { defaultImage: 'debian:bookworm', toolset: true }));
    expect(limited.config).toMatchObject({ network: 'bridge', allowed_hosts: ['api.example.com', '*.example.org'] });
    const managers = environment({
      config: {
        networking: { type: 'limited', allowed_hosts: ['api.example.com'], allow_mcp_servers: false, allow_package_managers: true },
        packages: { apt: [], cargo: [], gem: [], go: [], npm: ['typescript'], pip: [] },
      },
    });
    const withRegistries = HandSpecSchema.parse(environmentHandSpec(managers, { defaultImage: 'debian:bookworm', toolset: true }));
    expect(withRegistries.config.kind === 'docker' && withRegistries.config.allowed_hosts).toEqual(
      expect.arrayContaining(['api.example.com', 'registry.npmjs.org', 'pypi.org', 'deb.debian.org']),
    );
    const bad = environment({
      config: {
        networking: {
          type: 'limited',
          allowed_hosts: ['https://api.example.com/v1'],
          allow_mcp_servers: false,
          allow_package_managers: false,
        },
      },
    });
    expect(refusal(() => environmentHandSpec(bad, { defaultImage: 'debian:bookworm', toolset: true }))).toMatch(
      /config\.allowed_hosts\.0: an allowed host is a domain name/,
    );
  });

  it('refuses cargo/gem/go packages, a self_hosted environment and a bad image, saying what to do', () => {
    const cargo = environment({ config: { packages: { apt: [], cargo: ['ripgrep'], gem: [], go: [], npm: [], pip: [] } } });
    expect(refusal(() => environmentHandSpec(cargo, { defaultImage: 'debian:bookworm', toolset: true }))).toContain(
      'cargo packages, which Drover cannot install yet',
    );
    const selfHosted: BetaEnvironment = { ...environment(), config: { type: 'self_hosted' } };
    expect(refusal(() => environmentHandSpec(selfHosted, { defaultImage: 'debian:bookworm', toolset: true }))).toContain('self_hosted');
    const badImage = environment({ metadata: { 'drover.image': 'not an image; rm -rf /' } });
    expect(refusal(() => environmentHandSpec(badImage, { defaultImage: 'debian:bookworm', toolset: true }))).toContain(
      'metadata["drover.image"]',
    );
    const badPackage = environment({ config: { packages: { apt: ['x; curl evil'], cargo: [], gem: [], go: [], npm: [], pip: [] } } });
    expect(refusal(() => environmentHandSpec(badPackage, { defaultImage: 'debian:bookworm', toolset: true }))).toContain(
      'config.packages.apt',
    );
  });
});

describe('agentToolsetTools', () => {
  it('all six by default; enabled false turns one off; default_config off with one on', () => {
    expect(agentToolsetTools({ type: 'agent_toolset_20260401' })).toEqual(['bash', 'read', 'write', 'edit', 'glob', 'grep']);
    expect(agentToolsetTools({ type: 'agent_toolset_20260401', configs: [{ name: 'bash', enabled: false }] })).toEqual([
      'read',
      'write',
      'edit',
      'glob',
      'grep',
    ]);
    expect(
      agentToolsetTools({ type: 'agent_toolset_20260401', default_config: { enabled: false }, configs: [{ name: 'read', enabled: true }] }),
    ).toEqual(['read']);
  });

  it('refuses web tools turned on, clearly; a web tool turned off is fine', () => {
    const message = refusal(() => agentToolsetTools({ type: 'agent_toolset_20260401', configs: [{ name: 'web_fetch' }] }));
    expect(message).toContain('Drover does not offer web tools yet');
    expect(message).toContain('web_fetch');
    expect(agentToolsetTools({ type: 'agent_toolset_20260401', configs: [{ name: 'web_search', enabled: false }] })).toHaveLength(6);
    expect(refusal(() => agentToolsetTools({ type: 'agent_toolset_20260401', default_config: { enabled: false } }))).toContain(
      'every tool off',
    );
  });
});

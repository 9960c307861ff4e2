/**
 * The live Docker engines: one DockerEngine per configured engine (made on first use, remade when
 * its configuration changes), what each has (`docker info`: version, OS/arch, CPUs, memory,
 * images, a GPU runtime), "Test" for Settings, and the choice of an engine for a hand's
 * requirements — with the reason, in words, for the hand's log.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import {
  type EngineConfig,
  type EngineConfigInput,
  type EngineRequirements,
  type EngineTestResult,
  type SshEngineConfig,
  type TcpEngineConfig,
} from '#shared/engines';
import type { HostKey } from '#shared/hands';
import type { DockerEngine } from '#services/hands/docker/engine';
import { remoteDockerEngine, sshConfigOf } from '#services/hands/docker/engine-remote';
import { testConnection } from '#services/hands/ssh/connection';
import type { KnownHosts } from '#services/hands/ssh/known-hosts';
import type { SecretResolver } from '#services/vault/resolver';
import type { EngineStore } from './engine-store.ts';

export interface EnginePoolOptions {
  store: EngineStore;
  /** This computer's engine (the registry's). */
  local: DockerEngine;
  knownHosts: KnownHosts;
  secrets?: SecretResolver;
  /** Milliseconds a remote engine has to connect (default 10 s). */
  connectTimeoutMs?: number;
}

/** What an engine has, from `docker info`. */
export interface EngineFacts {
  version: string;
  os: string;
  arch: string;
  cpus: number;
  memoryBytes: number;
  images: number;
  gpu: boolean;
}

const InfoSchema = z.object({
  ServerVersion: z.string().optional(),
  OperatingSystem: z.string().optional(),
  OSType: z.string().optional(),
  Architecture: z.string().optional(),
  NCPU: z.number().optional(),
  MemTotal: z.number().optional(),
  Images: z.number().optional(),
  Runtimes: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Docker's architecture names for what `docker info` (uname -m) reports. */
export function dockerArch(machine: string): string {
  const names: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', armv6l: 'arm', i686: '386', i386: '386' };
  return names[machine] ?? machine;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** The engine's facts; rejects with the engine's explained error. */
export async function engineFacts(engine: DockerEngine, timeoutMs = 15_000): Promise<EngineFacts> {
  let info: z.infer<typeof InfoSchema>;
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })),
        timeoutMs,
      );
    });
    const answer: unknown = await Promise.race([engine.docker.info() as Promise<unknown>, timeout]).finally(() => clearTimeout(timer));
    info = InfoSchema.parse(answer);
  } catch (error) {
    throw engine.explain(error, 'tell what it has (docker info)');
  }
  return {
    version: info.ServerVersion ?? 'unknown',
    os: `${info.OperatingSystem ?? info.OSType ?? 'unknown'}`,
    arch: dockerArch(info.Architecture ?? 'unknown'),
    cpus: info.NCPU ?? 0,
    memoryBytes: info.MemTotal ?? 0,
    images: info.Images ?? 0,
    gpu: Object.keys(info.Runtimes ?? {}).some((runtime) => /nvidia/i.test(runtime)),
  };
}

/** Which requirements `facts` and `labels` miss, in words (empty: it has them all). */
export function missing(requirements: EngineRequirements, facts: EngineFacts, labels: readonly string[]): string[] {
  const misses: string[] = [];
  if (requirements.arch !== undefined && facts.arch !== requirements.arch)
    misses.push(`its architecture is ${facts.arch}, not ${requirements.arch}`);
  if (requirements.min_cpus !== undefined && facts.cpus < requirements.min_cpus)
    misses.push(`it has ${facts.cpus} CPUs, fewer than ${requirements.min_cpus}`);
  if (requirements.min_memory_mb !== undefined && facts.memoryBytes < requirements.min_memory_mb * MIB)
    misses.push(
      `it has ${(facts.memoryBytes / GIB).toFixed(1)} GiB of memory, less than ${(requirements.min_memory_mb / 1024).toFixed(1)} GiB`,
    );
  if (requirements.gpu === true && !facts.gpu) misses.push('it has no GPU runtime (nvidia)');
  for (const label of requirements.labels ?? []) if (!labels.includes(label)) misses.push(`it has no label "${label}"`);
  return misses;
}

/** What an engine has that the requirements asked for, in words. */
function matched(requirements: EngineRequirements, facts: EngineFacts): string {
  const parts: string[] = [];
  if (requirements.arch !== undefined) parts.push(`architecture ${facts.arch}`);
  if (requirements.min_cpus !== undefined) parts.push(`${facts.cpus} CPUs (at least ${requirements.min_cpus} asked)`);
  if (requirements.min_memory_mb !== undefined) parts.push(`${(facts.memoryBytes / GIB).toFixed(1)} GiB of memory`);
  if (requirements.gpu === true) parts.push('a GPU runtime');
  if ((requirements.labels ?? []).length > 0)
    parts.push(`the label${(requirements.labels ?? []).length > 1 ? 's' : ''} ${(requirements.labels ?? []).join(', ')}`);
  return parts.join(', ');
}

/** The engine picked for a hand, and why (for the hand's log). */
export interface EnginePick {
  id: string;
  engine: DockerEngine;
  config: EngineConfig;
  why: string;
}

export class EnginePool {
  private readonly engines = new Map<string, { key: string; engine: DockerEngine }>();

  constructor(private readonly options: EnginePoolOptions) {}

  list(): EngineConfig[] {
    return this.options.store.list();
  }

  /** Adds or replaces an engine (Settings → Engines); the list after. Its live engine is remade on next use. */
  put(config: EngineConfigInput): EngineConfig[] {
    return this.options.store.put(config);
  }

  remove(id: string): EngineConfig[] {
    const list = this.options.store.remove(id);
    this.engines.get(id)?.engine.remote?.close();
    this.engines.delete(id);
    return list;
  }

  /** The live engine with this id; a not-found AppError when there is none. */
  engine(id: string): DockerEngine {
    const config = this.options.store.get(id);
    if (!config)
      throw new AppError(
        'not-found',
        `There is no Docker engine "${id}". Add it in Settings → Engines, or pick another engine for the hand.`,
      );
    return this.engineOf(config);
  }

  /** The live engines on other machines (for clean-up by label). */
  remotes(): DockerEngine[] {
    return this.list()
      .filter((config) => config.kind !== 'local')
      .map((config) => this.engineOf(config));
  }

  /**
   * An engine that has what the hand asks for: the first in the list (this computer's first) that
   * answers and has it. Rejects, naming each engine and what it lacks, when none does.
   */
  async pick(requirements: EngineRequirements, named?: string): Promise<EnginePick> {
    const configs = named === undefined ? this.list() : [this.configOf(named)];
    const verdicts = await Promise.all(
      configs.map(async (config) => {
        const labels = config.labels;
        const early = (requirements.labels ?? []).filter((label) => !labels.includes(label));
        if (early.length > 0) return { config, misses: early.map((label) => `it has no label "${label}"`), facts: null };
        try {
          const facts = await engineFacts(this.engineOf(config), this.options.connectTimeoutMs ?? 10_000);
          return { config, misses: missing(requirements, facts, labels), facts };
        } catch (error) {
          // A hand that names its engine gets the engine's own words for why it cannot start there.
          if (named !== undefined) throw error;
          return { config, misses: [`it cannot be reached (${error instanceof Error ? error.message : String(error)})`], facts: null };
        }
      }),
    );
    const chosen = verdicts.find((verdict) => verdict.misses.length === 0 && verdict.facts !== null);
    const passed = verdicts
      .filter((verdict) => verdict !== chosen)
      .map((verdict) => `"${verdict.config.name}": ${verdict.misses.join('; ') || 'also fits, but comes later in the list'}`);
    if (!chosen?.facts) {
      throw new AppError(
        'invalid-argument',
        `No Docker engine has what this hand asks for. ${passed.join('. ')}. Add an engine that has it (Settings → Engines), give an engine the label, or change the hand's requirements.`,
      );
    }
    const where = chosen.config.kind === 'local' ? 'this computer' : chosen.config.url;
    const has = matched(requirements, chosen.facts);
    const why = `Runs on the Docker engine "${chosen.config.name}" (${where})${named === undefined ? ", picked by the hand's requirements" : ', named by the hand'}${has ? `: it has ${has}` : ''}.${passed.length > 0 ? ` Not picked: ${passed.join('; ')}.` : ''}`;
    return { id: chosen.config.id, engine: this.engineOf(chosen.config), config: chosen.config, why };
  }

  /** "Test": the engine's facts, or why it cannot be reached (an ssh:// engine's host key and trust first). */
  async test(config: EngineConfig): Promise<EngineTestResult> {
    const result = (ok: boolean, message: string, extra: Partial<EngineTestResult> = {}): EngineTestResult => ({
      ok,
      message,
      version: null,
      os: null,
      arch: null,
      cpus: null,
      memory_bytes: null,
      images: null,
      gpu: null,
      host_key: null,
      trust: null,
      latency_ms: null,
      ...extra,
    });
    let hostKey: { host_key: HostKey | null; trust: EngineTestResult['trust'] } = { host_key: null, trust: null };
    if (config.kind === 'ssh') {
      const ssh = await testConnection(sshConfigOf(config), {
        knownHosts: this.options.knownHosts,
        readyTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
        ...(this.options.secrets ? { secrets: this.options.secrets } : {}),
      });
      hostKey = { host_key: ssh.hostKey, trust: ssh.trust };
      if (!ssh.ok) return result(false, ssh.message, hostKey);
    }
    const engine = config.kind === 'local' ? this.options.local : this.fresh(config);
    const started = performance.now();
    try {
      const facts = await engineFacts(engine, this.options.connectTimeoutMs ?? 10_000);
      const latency = Math.round((performance.now() - started) * 10) / 10;
      return result(
        true,
        `Docker ${facts.version} on ${facts.os} (${facts.arch}), ${facts.cpus} CPUs, ${(facts.memoryBytes / GIB).toFixed(1)} GiB of memory, ${facts.images} images${facts.gpu ? ', a GPU runtime' : ''}.`,
        {
          ...hostKey,
          version: facts.version,
          os: facts.os,
          arch: facts.arch,
          cpus: facts.cpus,
          memory_bytes: facts.memoryBytes,
          images: facts.images,
          gpu: facts.gpu,
          latency_ms: latency,
        },
      );
    } catch (error) {
      return result(false, error instanceof Error ? error.message : String(error), hostKey);
    } finally {
      if (config.kind !== 'local') engine.remote?.close();
    }
  }

  /** Closes the remote engines' connections. */
  close(): void {
    for (const { engine } of this.engines.values()) engine.remote?.close();
    this.engines.clear();
  }

  private configOf(id: string): EngineConfig {
    const config = this.options.store.get(id);
    if (!config)
      throw new AppError(
        'not-found',
        `There is no Docker engine "${id}". Add it in Settings → Engines, or pick another engine for the hand.`,
      );
    return config;
  }

  private engineOf(config: EngineConfig): DockerEngine {
    if (config.kind === 'local') return this.options.local;
    const key = JSON.stringify(config);
    const existing = this.engines.get(config.id);
    if (existing && existing.key === key) return existing.engine;
    existing?.engine.remote?.close();
    const engine = this.fresh(config);
    this.engines.set(config.id, { key, engine });
    return engine;
  }

  private fresh(config: SshEngineConfig | TcpEngineConfig): DockerEngine {
    return remoteDockerEngine(config, {
      knownHosts: this.options.knownHosts,
      instance: this.options.local.instance,
      ...(this.options.secrets ? { secrets: this.options.secrets } : {}),
      ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
    });
  }
}

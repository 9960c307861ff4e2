/**
 * The Docker engine as Drover's hands use it (dockerode): reachability with a message a person
 * can act on, image pulls with per-layer progress, one-shot execs with their output and exit
 * code, and the labels that tie containers and snapshot images to a session and a hand.
 * A one-shot exec must never buffer output without bound (`maxBytes` per stream rejects), and an
 * engine failure must never reach the user as dockerode's raw error (`explain` words it).
 */
import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import Docker from 'dockerode';
import { z } from 'zod';
import type { HandProgress } from '#shared/hands';

/** Labels on every container and snapshot image Drover makes. */
export const LABELS = {
  /** Which Drover data folder made it: another Drover (another user, a test) never touches it. */
  instance: 'app.drover.instance',
  session: 'app.drover.session',
  hand: 'app.drover.hand',
  /** A hash of the hand's configuration: a kept container is reused only when it still matches. */
  config: 'app.drover.config',
} as const;

/** An id for a data folder, safe in image repository names. */
export function instanceIdOf(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
}

/** The engine could not be reached, or refused Drover; the message says what to do. */
export class DockerUnavailableError extends Error {
  override readonly name = 'DockerUnavailableError';
}

/** A Docker API failure with its HTTP status, when the engine answered. */
function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** The engine's own message (`json.message`) or the error's. */
export function dockerMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'json' in error) {
    const parsed = z.object({ message: z.string() }).safeParse(error.json);
    if (parsed.success) return parsed.data.message.trim();
  }
  if (error instanceof Error) return error.message.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
  return String(error);
}

/** A remote engine's connection could not be made (SSH login, host key, TLS): its message says why in words. */
export class RemoteConnectError extends Error {
  override readonly name = 'RemoteConnectError';
}

/** Whether the error means "cannot talk to the engine at all" (not running, no permission). */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof RemoteConnectError) return true;
  return ['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(codeOf(error) ?? '');
}

export interface DockerEngineOptions {
  /** The engine's socket; DOCKER_HOST or the platform default when unset. */
  socketPath?: string;
  /** instanceIdOf(the data folder). */
  instance: string;
  /** A client made elsewhere (a remote engine's, over SSH or TLS: engine-remote.ts); `where` names it in messages. */
  client?: { docker: Docker; where: string; remote: RemoteEngine };
}

/** An engine on another machine (Settings → Engines), as messages and refusals name it. */
export interface RemoteEngine {
  id: string;
  name: string;
  url: string;
  /** Closes its connection (an SSH link), if any; the next call opens it again. */
  close(): void;
}

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number | null;
}

export class DockerEngine {
  readonly instance: string;
  private client: Docker;
  private where: string;
  /** Null: this computer's engine. */
  private remoteEngine: RemoteEngine | null;

  constructor(options: DockerEngineOptions) {
    this.instance = options.instance;
    if (options.client) {
      this.client = options.client.docker;
      this.where = options.client.where;
      this.remoteEngine = options.client.remote;
      return;
    }
    this.client = options.socketPath ? new Docker({ socketPath: options.socketPath }) : new Docker();
    this.remoteEngine = null;
    this.where =
      options.socketPath ??
      process.env['DOCKER_HOST'] ??
      (process.platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock');
  }

  /** The engine's API (dockerode). */
  get docker(): Docker {
    return this.client;
  }

  /** The engine on another machine this is, or null for this computer's. */
  get remote(): RemoteEngine | null {
    return this.remoteEngine;
  }

  /**
   * Called before a hand starts anything on the engine: an engine picked by a hand's requirements
   * (engine-routing.ts) picks here. A fixed engine has nothing to do.
   */
  ready(_signal: AbortSignal): Promise<void> {
    return Promise.resolve();
  }

  /** Makes this object talk to `engine` from now on (an engine picked for a hand). */
  protected become(engine: DockerEngine): void {
    this.client = engine.client;
    this.where = engine.where;
    this.remoteEngine = engine.remoteEngine;
  }

  /** The repository Drover's snapshot images of this data folder go to. */
  get snapshotRepository(): string {
    return `drover-snapshot-${this.instance}`;
  }

  /** Null when the engine answers; otherwise why not and what to do. */
  async unavailableReason(): Promise<string | null> {
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('no answer within 5 s'), { code: 'ETIMEDOUT' })), 5_000);
      });
      await Promise.race([this.docker.ping(), timeout]).finally(() => clearTimeout(timer));
      return null;
    } catch (error) {
      return this.explain(error).message;
    }
  }

  /**
   * A user-facing error for a failed engine call: connection problems become a
   * DockerUnavailableError saying how to start Docker; others keep the engine's message.
   */
  explain(error: unknown, doing?: string): Error {
    const code = codeOf(error);
    if (
      this.remoteEngine &&
      (isConnectionError(error) || error instanceof RemoteConnectError || /socket hang up|connect E/i.test(String(error)))
    ) {
      const { name, url } = this.remoteEngine;
      const why = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
      return new DockerUnavailableError(
        `The Docker engine "${name}" (${url}) cannot be reached: ${why}. Check the machine and its engine (Settings → Engines → Test), then try again.`,
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new DockerUnavailableError(
        `Drover may not use the Docker engine at ${this.where} (permission denied). Add your user to the "docker" group (then log in again), or start Drover as a user who can run \`docker ps\`.`,
      );
    }
    if (isConnectionError(error) || (error instanceof Error && /socket hang up|connect E/i.test(error.message))) {
      return new DockerUnavailableError(
        `The Docker engine is not reachable at ${this.where} (${code ?? dockerMessage(error)}): it is not running or not installed. ` +
          'Start Docker (Docker Desktop, or `sudo systemctl start docker`), then try again; ' +
          'to install it, see https://docs.docker.com/get-started/get-docker/.',
      );
    }
    const message = dockerMessage(error);
    return new Error(doing ? `Docker could not ${doing}: ${message}` : message);
  }

  /**
   * The default bridge network's gateway: the address containers on it reach this computer at
   * (where Drover's git proxy listens for them). Rejects with what to do when there is none.
   *
   * Found, in order: the gateway in the network's IPAM configuration (an engine that has been
   * restarted, or configured with `--bip`); else the IPv4 address of the bridge's interface on this
   * computer (`com.docker.network.bridge.name`, e.g. docker0), when it lies in the network's subnet
   * — a never-restarted engine stores no gateway, but its bridge has the address all the same
   * (Node lists an interface only while it is up and running: a bridge with a container on it,
   * as when a hand's container has started).
   * Docker's `host-gateway` (`host.docker.internal`) is not used: on Linux it names that same
   * bridge address, and the proxy must listen on an address of this computer anyway.
   */
  async bridgeGateway(): Promise<string> {
    if (this.remoteEngine) {
      const { name, url } = this.remoteEngine;
      throw new Error(
        `This hand runs on the Docker engine "${name}" (${url}), on another machine, and its containers cannot reach this computer: Drover's git proxy (for the hand's repositories; Drover never sends their tokens to other machines) and its egress proxy (for allowed_hosts) run here. ` +
          "Run hands with git repositories or a limited network on this computer's engine, or remove them from the hand.",
      );
    }
    let info: unknown;
    try {
      info = await this.docker.getNetwork('bridge').inspect();
    } catch (error) {
      throw this.explain(error, "inspect Docker's bridge network");
    }
    const parsed = BridgeNetworkSchema.safeParse(info);
    const configs = parsed.success ? (parsed.data.IPAM?.Config ?? []) : [];
    const gateways = configs.map((config) => config.Gateway ?? '').filter((gateway) => gateway !== '');
    const gateway = gateways.find(isIPv4) ?? gateways[0] ?? this.bridgeInterfaceAddress(parsed.success ? parsed.data : {}, configs);
    if (!gateway) {
      throw new Error(
        "Docker's bridge network has no gateway address, and its bridge interface has no IPv4 address on this computer, so containers cannot reach this computer (Drover's git proxy). " +
          'Check `docker network inspect bridge`; restarting Docker (`sudo systemctl restart docker`) records the gateway.',
      );
    }
    return gateway;
  }

  /** The bridge interface's IPv4 address on this computer, when it lies in one of the network's subnets (else it is not this engine's bridge). */
  private bridgeInterfaceAddress(
    network: z.infer<typeof BridgeNetworkSchema>,
    configs: ReadonlyArray<{ Subnet?: string | undefined }>,
  ): string | undefined {
    const name = network.Options?.['com.docker.network.bridge.name'] ?? 'docker0';
    const subnets = configs.map((config) => config.Subnet ?? '').filter((subnet) => subnet !== '');
    const addresses = (networkInterfaces()[name] ?? [])
      .filter((entry) => entry.family === 'IPv4' && !entry.internal)
      .map((entry) => entry.address);
    return addresses.find((address) => subnets.length === 0 || subnets.some((subnet) => inSubnet(address, subnet)));
  }

  /**
   * Null when a container can be made from the image: it is on this machine (one inspect), or its
   * registry has it (the engine asks the registry for its manifest; nothing is pulled). Otherwise
   * what is wrong and what to do. An engine that cannot be reached is not the image's fault: null
   * (the hand says so when it starts).
   */
  async imageUnavailableReason(reference: string, timeoutMs = 15_000): Promise<string | null> {
    try {
      await this.docker.getImage(reference).inspect();
      return null;
    } catch (error) {
      if (!isNotFound(error)) return null;
    }
    let why: string;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new RegistryTimeout()), timeoutMs);
      });
      await Promise.race([this.docker.getImage(reference).distribution(), timeout]);
      return null;
    } catch (error) {
      if (isConnectionError(error)) return null;
      why =
        error instanceof RegistryTimeout
          ? `${registryOf(reference)} did not answer within ${Math.round(timeoutMs / 1000)} s`
          : pullRefusal(reference, dockerMessage(error));
    } finally {
      clearTimeout(timer);
    }
    return `The image ${reference} is not on this machine and cannot be pulled (${why}). Build or load it, or pick another image.`;
  }

  async imageExists(reference: string): Promise<boolean> {
    try {
      await this.docker.getImage(reference).inspect();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.explain(error, `inspect the image ${reference}`);
    }
  }

  /**
   * Pulls an image, reporting per-layer progress (throttled to ~10 updates a second). Rejects with
   * the registry's message when the image cannot be pulled, or when `signal` aborts.
   */
  async pull(
    reference: string,
    options: { signal: AbortSignal; onProgress: (progress: Omit<HandProgress, 'hand_id'>) => void },
  ): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(reference, { abortSignal: options.signal });
    } catch (error) {
      if (options.signal.aborted) throw new Error('The image pull was stopped.', { cause: error });
      if (isNotFound(error)) {
        throw new Error(
          `The image ${reference} was not found (${dockerMessage(error)}). Check its name and tag, or build it on this machine (\`docker build\` / \`docker import\`).`,
          {
            cause: error,
          },
        );
      }
      throw this.explain(error, `pull ${reference}`);
    }
    const layers = new Map<string, { status: string; current?: number; total?: number }>();
    let last = 0;
    const report = (force: boolean): void => {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      let current = 0;
      let total = 0;
      for (const layer of layers.values()) {
        if (layer.total === undefined) continue;
        total += layer.total;
        current += layer.status === 'Downloading' ? (layer.current ?? 0) : DOWNLOADED.has(layer.status) ? layer.total : 0;
      }
      options.onProgress({
        phase: 'pulling',
        message: `Pulling ${reference}: ${[...layers.values()].filter((l) => DOWNLOADED.has(l.status)).length}/${layers.size} layers`,
        ...(total > 0 ? { current, total } : {}),
        layers: [...layers].map(([id, layer]) => ({ id, ...layer })),
      });
    };
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        reject(new Error('The image pull was stopped.'));
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => {
          options.signal.removeEventListener('abort', onAbort);
          if (error) reject(new Error(`Pulling ${reference} failed: ${error.message}`));
          else {
            report(true);
            resolve();
          }
        },
        (frame: unknown) => {
          const parsed = PullFrameSchema.safeParse(frame);
          if (!parsed.success || !parsed.data.id) return;
          const { id, status, progressDetail } = parsed.data;
          // Layer lines carry a layer id; "Pulling from …" (id: the tag), "Digest:", "Status:" lines are not layers.
          if (!/^[0-9a-f]{12,}$/.test(id) || /^(Pulling from|Digest:|Status:)/.test(status)) return;
          const layer = layers.get(id) ?? { status };
          layer.status = status;
          if (progressDetail?.total !== undefined && status === 'Downloading') layer.total = progressDetail.total;
          if (progressDetail?.current !== undefined && status === 'Downloading') layer.current = progressDetail.current;
          layers.set(id, layer);
          report(false);
        },
      );
    });
  }

  /**
   * Runs a command in a running container and collects its output (stdout and stderr apart),
   * feeding `stdin` first when given. Output beyond `maxBytes` per stream rejects.
   */
  async exec(
    container: Docker.Container,
    cmd: string[],
    options: { stdin?: Buffer; signal?: AbortSignal; maxBytes?: number; workingDir?: string } = {},
  ): Promise<ExecResult> {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    let exec: Docker.Exec;
    let stream: NodeJS.ReadWriteStream;
    try {
      exec = await container.exec({
        Cmd: cmd,
        AttachStdin: options.stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
      });
      stream = (await exec.start({ hijack: true, stdin: options.stdin !== undefined })) as NodeJS.ReadWriteStream;
    } catch (error) {
      throw this.explain(error, 'run a command in the container');
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = { stdout: 0, stderr: 0 };
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        (stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
        reject(error);
      };
      const onAbort = (): void => fail(new Error('stopped'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const demux = new Demuxer((kind, payload) => {
        sizes[kind] += payload.length;
        if (sizes[kind] > maxBytes) return fail(new Error(`the command printed more than ${maxBytes} bytes`));
        (kind === 'stderr' ? stderr : stdout).push(payload);
      });
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      stream.on('error', (error: Error) => fail(error));
      stream.on('end', () => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      stream.on('close', () => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      if (options.stdin !== undefined) stream.end(options.stdin);
    });
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: await exitCodeOf(exec) };
  }
}

const BridgeNetworkSchema = z.object({
  IPAM: z
    .object({
      Config: z
        .array(z.object({ Gateway: z.string().optional(), Subnet: z.string().optional() }))
        .nullable()
        .optional(),
    })
    .optional(),
  Options: z.record(z.string(), z.string()).nullable().optional(),
});

class RegistryTimeout extends Error {}

/** The registry an image reference names: its first part when that is a host (has `.` or `:`, or is localhost), else Docker Hub. */
export function registryOf(reference: string): string {
  const [first = '', ...rest] = reference.split('/');
  return rest.length > 0 && (/[.:]/.test(first) || first === 'localhost') ? first : 'Docker Hub (registry-1.docker.io)';
}

/** Why the registry would not give an image, in a few words, from the engine's message. */
export function pullRefusal(reference: string, message: string): string {
  const registry = registryOf(reference);
  const line = message.split('\n')[0] ?? message;
  if (
    /no such host|dial tcp|connection refused|i\/o timeout|network is unreachable|TLS handshake timeout|server gave HTTP response to HTTPS client|certificate/i.test(
      line,
    )
  ) {
    const detail =
      /no such host|connection refused|i\/o timeout|network is unreachable|TLS handshake timeout|server gave HTTP response to HTTPS client|certificate[^:]*/i.exec(
        line,
      )?.[0];
    return `${registry} cannot be reached${detail ? `: ${detail.toLowerCase()}` : ''}`;
  }
  if (/manifest unknown|not found|name unknown/i.test(line)) return `${registry} has no such image or tag`;
  if (/unauthorized|denied|authentication required/i.test(line))
    return `${registry} refused it: it does not exist there, or it needs a login`;
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

function isIPv4(address: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address);
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

/** Whether an IPv4 address lies in a CIDR subnet (`172.17.0.0/16`); false for anything else. */
export function inSubnet(address: string, subnet: string): boolean {
  const [base = '', bitsText = ''] = subnet.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(address) || !isIPv4(base) || !/^\d{1,2}$/.test(bitsText) || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4Number(address) / size) === Math.floor(ipv4Number(base) / size);
}

const DOWNLOADED = new Set(['Download complete', 'Verifying Checksum', 'Extracting', 'Pull complete', 'Already exists']);

const PullFrameSchema = z.object({
  id: z.string().optional(),
  status: z.string(),
  progressDetail: z.object({ current: z.number().optional(), total: z.number().optional() }).optional(),
});

/** The exit code of a finished exec (the engine may need a moment to record it). */
export async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode ?? null;
    await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
  }
  return null;
}

/**
 * Splits Docker's multiplexed attach stream (no TTY): frames of an 8-byte header — stream type
 * (1 stdout, 2 stderr), three zero bytes, a big-endian length — and that many bytes.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (kind: 'stdout' | 'stderr', payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (buffer.length >= 8) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < 8 + size) break;
      this.onFrame(buffer[0] === 2 ? 'stderr' : 'stdout', buffer.subarray(8, 8 + size));
      buffer = buffer.subarray(8 + size);
    }
    this.pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
  }
}

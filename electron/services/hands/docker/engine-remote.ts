/**
 * Docker engines on other machines, reached as Docker itself reaches them (issue 22):
 *
 * - `ssh://user@host[:port]`: one SSH connection per engine (ssh2, Drover's known-hosts trust and a
 *   login from the vault, exactly as SSH hands connect: ssh/connection.ts), and each HTTP
 *   connection of the Docker API a stream-local channel to the engine's socket on that machine
 *   (`direct-streamlocal@openssh.com`, what `ssh -L local:/var/run/docker.sock` uses). Nothing runs
 *   on the machine but sshd and dockerd (no docker CLI needed there). A dropped connection is
 *   opened again by the next call (one attempt per call: the hand says the engine is unreachable
 *   rather than waiting). A changed host key is refused, in words.
 * - `tcp://host:port` with TLS: the engine's `--tlsverify` checks Drover's client certificate,
 *   Drover checks the engine's against the CA; the three PEMs come from the vault when a
 *   connection is made (never stored elsewhere, never logged).
 *
 * Both give dockerode an http.Agent whose connections are those streams, so every call of
 * DockerEngine (pull, create, exec with hijacked streams, archive, commit) works unchanged.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import Docker from 'dockerode';
import { parseEngineUrl, type SshEngineConfig, type TcpEngineConfig } from '#shared/engines';
import type { SshHandConfig } from '#shared/hands';
import type { SecretResolver } from '#services/vault/resolver';
import { SshConnection } from '../ssh/connection.ts';
import type { KnownHosts } from '../ssh/known-hosts.ts';
import { DockerEngine, RemoteConnectError } from './engine.ts';

export interface RemoteEngineDeps {
  secrets?: SecretResolver;
  knownHosts: KnownHosts;
  /** instanceIdOf(the data folder): the labels of what Drover makes there. */
  instance: string;
  /** Milliseconds for the SSH handshake or TLS connection (default 10 s). */
  connectTimeoutMs?: number;
}

/** The SSH login an ssh:// engine's URL and auth describe, as SSH hands' connections take it. */
export function sshConfigOf(config: SshEngineConfig): SshHandConfig {
  const target = parseEngineUrl(config.url);
  if (target?.kind !== 'ssh') throw new Error(`The engine "${config.name}" has no valid ssh:// URL (${config.url}).`);
  return {
    kind: 'ssh',
    host: target.host,
    port: target.port,
    user: target.user,
    auth: config.auth,
    jump: null,
    working_dir: null,
    snapshots: false,
  };
}

/** A stream made to stand in for a socket: Node's HTTP client and agent call these on sockets. */
function socketLike(stream: Duplex): Duplex {
  const target = stream as Duplex & Record<string, unknown>;
  for (const method of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) {
    if (typeof target[method] !== 'function') target[method] = () => stream;
  }
  return stream;
}

/** An http.Agent whose every connection is what `open` makes (Node waits for the callback). */
function agentOf(open: () => Promise<Duplex>): http.Agent {
  const agent = new http.Agent({ keepAlive: false });
  const create = (_options: unknown, callback: (error: Error | null, socket?: Duplex) => void): undefined => {
    open().then(
      (stream) => callback(null, socketLike(stream)),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
    return undefined;
  };
  Object.assign(agent, { createConnection: create });
  return agent;
}

/** One SSH connection to an ssh:// engine's machine, remade on the next use after it drops. */
class SshEngineLink {
  private connection: SshConnection | null = null;
  private connecting: Promise<SshConnection> | null = null;

  constructor(
    private readonly config: SshEngineConfig,
    private readonly deps: RemoteEngineDeps,
  ) {}

  async openSocket(): Promise<Duplex> {
    const connection = await this.get();
    try {
      return await connection.openSocket(this.config.socket_path);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new RemoteConnectError(
        `${message}: check that Docker runs there with its socket at ${this.config.socket_path}, that the user may use it (the docker group), and that sshd allows stream-local forwarding (AllowStreamLocalForwarding)`,
        { cause: error },
      );
    }
  }

  close(): void {
    this.connection?.close();
    this.connection = null;
  }

  private get(): Promise<SshConnection> {
    if (this.connection && !this.connection.isClosed) return Promise.resolve(this.connection);
    this.connecting ??= SshConnection.open(sshConfigOf(this.config), {
      knownHosts: this.deps.knownHosts,
      readyTimeoutMs: this.deps.connectTimeoutMs ?? 10_000,
      ...(this.deps.secrets ? { secrets: this.deps.secrets } : {}),
    })
      .then((connection) => {
        this.connection = connection;
        return connection;
      })
      .catch((error: unknown) => {
        throw new RemoteConnectError(error instanceof Error ? error.message : String(error), { cause: error });
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }
}

/** A TLS connection to a tcp:// engine, with the CA, certificate and key read from the vault each time. */
async function openTls(config: TcpEngineConfig, deps: RemoteEngineDeps): Promise<Duplex> {
  const target = parseEngineUrl(config.url);
  if (target?.kind !== 'tcp') throw new RemoteConnectError(`the engine has no valid tcp:// URL (${config.url})`);
  const secrets = deps.secrets;
  if (!secrets) throw new RemoteConnectError('its TLS certificates are in the vault, and this Drover has no vault');
  const purpose = `TLS connection to the Docker engine ${config.name}`;
  const [ca, cert, key] = await Promise.all([
    secrets.reveal(config.ca_secret_id, purpose),
    secrets.reveal(config.cert_secret_id, purpose),
    secrets.reveal(config.key_secret_id, purpose),
  ]);
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ ca, cert, key });
  } catch (error) {
    throw new RemoteConnectError(
      `its TLS certificates from the vault cannot be used (${error instanceof Error ? error.message : String(error)}): store the CA certificate, the client certificate and its private key, each as PEM text`,
      { cause: error },
    );
  }
  return new Promise<Duplex>((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      secureContext: context,
      ...(/^[\d.]+$|:/.test(target.host) ? {} : { servername: target.host }),
    });
    const timer = setTimeout(
      () => fail(new Error(`no TLS handshake within ${Math.round((deps.connectTimeoutMs ?? 10_000) / 1000)} s`)),
      deps.connectTimeoutMs ?? 10_000,
    );
    function fail(error: Error & { code?: string }): void {
      clearTimeout(timer);
      socket.destroy();
      const code = error.code ?? '';
      const why =
        code === 'ECONNREFUSED'
          ? `nothing listens at ${target?.host ?? ''}:${target?.port ?? ''} (connection refused)`
          : /certificate|CERT|self.signed|unable to verify|SSL|TLS|alert/i.test(`${code} ${error.message}`)
            ? `the TLS handshake failed (${error.message}): check that the CA is the one that signed the engine's certificate, that the certificate names ${target?.host ?? ''}, and that the engine accepts Drover's client certificate`
            : error.message;
      reject(new RemoteConnectError(why, { cause: error }));
    }
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', fail);
  });
}

/** A dockerode client whose HTTP connections are the streams `open` makes (docker-modem passes `agent` on to Node's HTTP client). */
function clientOver(open: () => Promise<Duplex>): Docker {
  const options: Docker.DockerOptions & { agent: http.Agent } = { protocol: 'http', host: 'docker', port: 80, agent: agentOf(open) };
  return new Docker(options);
}

/** A DockerEngine for an engine on another machine (`ssh://` or `tcp://` with TLS). Nothing connects until its first call. */
export function remoteDockerEngine(config: SshEngineConfig | TcpEngineConfig, deps: RemoteEngineDeps): DockerEngine {
  if (config.kind === 'ssh') {
    const link = new SshEngineLink(config, deps);
    const docker = clientOver(() => link.openSocket());
    return new DockerEngine({
      instance: deps.instance,
      client: { docker, where: config.url, remote: { id: config.id, name: config.name, url: config.url, close: () => link.close() } },
    });
  }
  const docker = clientOver(() => openTls(config, deps));
  return new DockerEngine({
    instance: deps.instance,
    client: { docker, where: config.url, remote: { id: config.id, name: config.name, url: config.url, close: () => undefined } },
  });
}

/**
 * Limited networking for a Docker hand: the container sits on an internal Docker network (no route
 * out: Docker drops everything it would forward), and the only way to the internet is this HTTP
 * proxy on the host, given to the container as HTTP_PROXY / HTTPS_PROXY, which lets through only
 * the hand's allowed hosts — `CONNECT host:port` for https and absolute-URL requests for http.
 * Anything else is answered 403 with a sentence naming the host and the allowed ones.
 *
 * Host names are matched case-insensitively and exactly; `*.example.com` allows the subdomains of
 * example.com (not example.com itself); `name:8443` allows that port only (else any port). What a container can reach on this computer itself (a
 * service listening on all addresses) is not limited by this: only traffic leaving the computer is.
 */
import { connect } from 'node:net';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { isNotFound, LABELS, type DockerEngine } from './engine.ts';

/** The internal Docker network limited hands' containers join (made on first use, shared). */
export const LIMITED_NETWORK = 'drover-limited';

/** Public package registries, for `allow_package_managers` (apt: Debian and Ubuntu; pip; npm). */
export const PACKAGE_MANAGER_HOSTS = [
  'deb.debian.org',
  'security.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
  'ports.ubuntu.com',
  'pypi.org',
  'files.pythonhosted.org',
  'registry.npmjs.org',
  'registry.yarnpkg.com',
];

/** Whether `host`:`port` is one of `allowed` (`*.example.com`: a subdomain of example.com; `name:443`: that port only). */
export function hostAllowed(host: string, port: number, allowed: readonly string[]): boolean {
  const name = host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  return allowed.some((entry) => {
    const [pattern = '', only] = entry.toLowerCase().split(':');
    if (only !== undefined && Number(only) !== port) return false;
    return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1 : name === pattern;
  });
}

/** The internal network for limited hands: inspected, or created when missing (another start may create it at the same time). */
export async function ensureLimitedNetwork(engine: DockerEngine): Promise<string> {
  const network = engine.docker.getNetwork(LIMITED_NETWORK);
  try {
    await network.inspect();
    return LIMITED_NETWORK;
  } catch (error) {
    if (!isNotFound(error)) throw engine.explain(error, `inspect the Docker network ${LIMITED_NETWORK}`);
  }
  try {
    await engine.docker.createNetwork({
      Name: LIMITED_NETWORK,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Labels: { [LABELS.instance]: 'shared' },
    } as Docker.NetworkCreateOptions);
  } catch (error) {
    // Made by someone else meanwhile: fine.
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== 409) throw engine.explain(error, `create the Docker network ${LIMITED_NETWORK}`);
  }
  return LIMITED_NETWORK;
}

export interface EgressProxy {
  /** `http://<host>:<port>`: what HTTP_PROXY and HTTPS_PROXY are set to. */
  readonly url: string;
  /** Hosts refused so far (for tests and the log). */
  readonly refused: string[];
  close(): Promise<void>;
}

/** Starts a proxy on `host` (an address containers reach: Docker's bridge gateway) that lets through only `allowed`. */
export async function startEgressProxy(options: {
  host: string;
  allowed: readonly string[];
  /** The port to listen on (a kept container's proxy, restarted where its environment points); default: any free one. */
  port?: number;
  log?: (line: string) => void;
}): Promise<EgressProxy> {
  const refused: string[] = [];
  const sockets = new Set<Duplex>();
  const shown = options.allowed.length === 0 ? 'none' : options.allowed.join(', ');
  const refusal = (host: string): string =>
    `Drover's egress proxy refused ${host}: this environment's networking is limited to its allowed_hosts (${shown}). Add the host to allowed_hosts to reach it.\n`;

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let target: URL;
    try {
      target = new URL(request.url ?? '');
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('This is a proxy: send absolute URLs (http://host/path).\n');
      return;
    }
    if (target.protocol !== 'http:' || !hostAllowed(target.hostname, Number(target.port || 80), options.allowed)) {
      refused.push(target.hostname);
      options.log?.(`egress refused: ${target.hostname}`);
      response.writeHead(403, { 'content-type': 'text/plain' }).end(refusal(target.hostname));
      return;
    }
    const headers = { ...request.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port || 80, path: `${target.pathname}${target.search}`, method: request.method, headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`Drover's egress proxy could not reach ${target.host}: ${error.message}\n`);
    });
    request.pipe(upstream);
  });

  server.on('connect', (request: IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(request.url ?? '');
    const host = match?.[1] ?? '';
    const port = Number(match?.[2] ?? 0);
    if (!match || port < 1 || port > 65_535) {
      client.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nCONNECT needs host:port.\n');
      return;
    }
    if (!hostAllowed(host, port, options.allowed)) {
      refused.push(host);
      options.log?.(`egress refused: ${host}`);
      client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${refusal(host)}`);
      return;
    }
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', (error) => {
      if (client.writable)
        client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\nCould not reach ${host}:${port}: ${error.message}\n`);
    });
    client.on('close', () => upstream.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the egress proxy has no address');
  return {
    url: `http://${options.host}:${address.port}`,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A limited hand's network: the internal network to join, the proxy, and the environment that points the container at it. */
export async function limitedEgress(
  engine: DockerEngine,
  allowed: readonly string[],
  log?: (line: string) => void,
): Promise<{ network: string; proxy: EgressProxy; env: string[] }> {
  const network = await ensureLimitedNetwork(engine);
  const gateway = await engine.bridgeGateway();
  const proxy = await startEgressProxy({ host: gateway, allowed, ...(log ? { log } : {}) });
  // Drover's own services on the gateway (the git proxy) are reached directly, not through the egress proxy.
  const direct = [gateway, 'localhost', '127.0.0.1'].join(',');
  const env = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']
    .map((name) => `${name}=${proxy.url}`)
    .concat([`NO_PROXY=${direct}`, `no_proxy=${direct}`]);
  return { network, proxy, env };
}

/**
 * The proxy of a container kept alive across a restart, started again where the container's
 * HTTP_PROXY points; null when it cannot be (the port is taken, or the container has none): the
 * caller then replaces the container.
 */
export async function reviveEgress(
  container: Docker.Container,
  allowed: readonly string[],
  log?: (line: string) => void,
): Promise<EgressProxy | null> {
  const info = await container.inspect();
  const entry = (info.Config.Env ?? []).find((line) => line.startsWith('HTTP_PROXY='));
  const match = /^HTTP_PROXY=http:\/\/([\d.]+):(\d+)$/.exec(entry ?? '');
  if (!match?.[1] || !match[2]) return null;
  try {
    return await startEgressProxy({ host: match[1], port: Number(match[2]), allowed, ...(log ? { log } : {}) });
  } catch {
    return null;
  }
}

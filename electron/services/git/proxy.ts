/**
 * Drover's git proxy: a reverse proxy for git's smart HTTP protocol that adds a repository's
 * token on the hands' behalf, so a hand can fetch and push while holding no credential at all.
 *
 * Each registered repository gets a capability URL `http://<host>:<port>/<32 hex>/`: whoever
 * knows it may use git on that one repository (nothing else of the forge: only git's own paths are
 * forwarded), for as long as it stays registered. The proxy listens on 127.0.0.1 (the host-side
 * clone) and on the Docker bridge's gateway (what containers reach the host at).
 *
 * Upstream requests carry `Authorization: Basic base64("x-access-token:<token>")`: GitHub (personal
 * and app tokens), GitLab (personal, project and group tokens) and Gitea/Forgejo take a token as
 * the password with any user name; pass `username` where a server wants a particular one
 * (Bitbucket's access tokens: `x-token-auth`).
 *
 * It must never: log, echo or store a token or an Authorization header (log lines name the
 * repository, the git path and the status); forward the client's own Authorization or Cookie;
 * follow a redirect to another origin (the token would go there); forward anything but GET and
 * POST on git's paths.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

export interface GitProxyOptions {
  /** One line per request ("git proxy: github.com/team/app.git GET info/refs → 200"); never a token, header or capability. */
  log?: (line: string) => void;
  /** How long an upstream connection may stay silent before it is dropped (default 5 minutes). */
  idleTimeoutMs?: number;
}

export interface GitProxyRegistration {
  /** The repository's http(s) URL, without credentials, e.g. https://github.com/team/app.git. */
  upstream: string;
  /** The token to send, asked for on every request (so a replaced secret takes effect at once); null: none (a public repository). */
  token: () => Promise<string | null>;
  /** How log lines and messages name the repository; default: the upstream URL without query. */
  label?: string;
  /** The Basic user name that goes with the token (default `x-access-token`). */
  username?: string;
}

/** A registered repository: its capability URL on each address the proxy listens on. */
export interface GitProxyRoute {
  readonly label: string;
  /** `http://<host>:<port>/<capability>/`; throws when the proxy does not listen on `host`. */
  urlFor(host: string): string;
}

interface Route extends GitProxyRoute {
  readonly id: string;
  /** Where the repository is; a same-origin redirect of a moved repository updates it. */
  base: URL;
  readonly token: () => Promise<string | null>;
  readonly username: string;
}

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Client headers never forwarded: its own credentials, and what this proxy answers for itself. */
const REQUEST_DROP = new Set([
  'authorization',
  'cookie',
  'host',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);
/** Upstream headers never passed back: cookies, and challenges that would make git prompt for a password. */
const RESPONSE_DROP = new Set(['set-cookie', 'www-authenticate']);
/** git's smart-HTTP endpoints, plus the dumb protocol's and git-lfs's paths: all a capability grants. */
const GIT_PATH = /^(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/[^/].*|info\/[^/].*)$/;
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export class GitProxy {
  private readonly listeners = new Map<string, { server: http.Server; port: number }>();
  private readonly routes = new Map<string, Route>();
  private readonly inflight = new Set<http.ClientRequest>();
  private starting: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: GitProxyOptions = {}) {}

  /**
   * Listens on each address not listened on yet (calling it again adds addresses), on the same
   * port as the others where that port is free there. Rejects with a message naming the address
   * when it cannot listen there.
   */
  start({ hosts }: { hosts: string[] }): Promise<void> {
    const next = this.starting.then(async () => {
      if (this.closed) throw new Error("Drover's git proxy was closed.");
      for (const host of hosts) {
        if (this.listeners.has(host)) continue;
        const preferred = this.listeners.values().next().value?.port ?? 0;
        let listener: { server: http.Server; port: number };
        try {
          listener = await this.listen(host, preferred);
        } catch (error) {
          if (preferred === 0 || codeOf(error) !== 'EADDRINUSE') throw listenError(host, error);
          try {
            listener = await this.listen(host, 0);
          } catch (retry) {
            throw listenError(host, retry);
          }
        }
        this.listeners.set(host, listener);
      }
    });
    this.starting = next.catch(() => undefined);
    return next;
  }

  /** The addresses the proxy listens on. */
  hosts(): string[] {
    return [...this.listeners.keys()];
  }

  /** Registers a repository under a fresh capability. */
  register(registration: GitProxyRegistration): GitProxyRoute {
    const base = new URL(registration.upstream);
    if ((base.protocol !== 'https:' && base.protocol !== 'http:') || base.username !== '' || base.password !== '') {
      throw new Error('A repository for the git proxy needs an http(s) URL without a user name or password in it.');
    }
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const id = randomBytes(16).toString('hex');
    const label = registration.label ?? `${base.host}${base.pathname.replace(/\/$/, '')}`;
    const route: Route = {
      id,
      label,
      base,
      token: registration.token,
      username: registration.username ?? 'x-access-token',
      urlFor: (host) => {
        const listener = this.listeners.get(host);
        if (!listener) throw new Error(`Drover's git proxy does not listen on ${host}.`);
        return `http://${host.includes(':') ? `[${host}]` : host}:${listener.port}/${id}/`;
      },
    };
    this.routes.set(id, route);
    return route;
  }

  /** Forgets a repository: its capability URL answers 404 from now on (requests under way finish). */
  unregister(route: GitProxyRoute): void {
    for (const [id, known] of this.routes) if (known === route) this.routes.delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting;
    this.routes.clear();
    for (const request of this.inflight) request.destroy();
    await Promise.all(
      [...this.listeners.values()].map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.listeners.clear();
  }

  // ------------------------------------------------------------------------------- internals

  private listen(host: string, port: number): Promise<{ server: http.Server; port: number }> {
    // No request timeout: a big push may take longer than Node's default 5 minutes to upload.
    const server = http.createServer({ requestTimeout: 0 }, (request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.log(`git proxy: a request failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) answer(response, 500, "Drover's git proxy failed on this request; see Drover's log.");
        else response.destroy();
      });
    });
    // Requests that do not parse as HTTP get Node's own 'clientError' answer (400, 431) and that
    // one connection is closed. An upgrade or CONNECT is no git request: refused, never forwarded.
    server.on('upgrade', (_request, socket) => refuseRaw(socket, '400 Bad Request', "Drover's git proxy forwards git's requests only."));
    server.on('connect', (_request, socket) => refuseRaw(socket, '405 Method Not Allowed', "Drover's git proxy is not a forward proxy."));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.log(`git proxy: the server on ${host} reported an error: ${error.message}`));
        const address = server.address();
        resolve({ server, port: typeof address === 'object' && address ? address.port : port });
      });
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Parsing resolves "." and ".." (also percent-encoded): nothing can climb out of a repository.
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://git-proxy.invalid');
    } catch {
      answer(response, 400, "Drover's git proxy: the request's path is not a valid URL path.");
      this.log(`git proxy: unreadable path ${request.method ?? '?'} → 400`);
      return;
    }
    const [, capability = '', ...rest] = url.pathname.split('/');
    const route = /^[0-9a-f]{32}$/.test(capability) ? this.routes.get(capability) : undefined;
    if (!route) {
      answer(
        response,
        404,
        "Drover's git proxy: this repository link is unknown or expired (Drover restarted, or the hand's container was replaced). Drover sets the current link as the remote when the hand starts.",
      );
      this.log(`git proxy: unknown repository link ${request.method ?? '?'} → 404`);
      return;
    }
    const gitPath = rest.join('/');
    const method = request.method ?? '';
    if (method !== 'GET' && method !== 'POST') {
      response.setHeader('Allow', 'GET, POST');
      answer(response, 405, `Drover's git proxy only forwards git's GET and POST requests, not ${method}.`);
      this.log(`git proxy: ${route.label} ${method} ${gitPath} → 405`);
      return;
    }
    if (!GIT_PATH.test(gitPath)) {
      answer(response, 404, `Drover's git proxy only forwards git's own requests for ${route.label}, not /${gitPath}.`);
      this.log(`git proxy: ${route.label} ${method} ${gitPath} → 404 (not a git path)`);
      return;
    }
    let target: URL;
    try {
      target = new URL(gitPath + url.search, route.base);
    } catch {
      answer(response, 400, `Drover's git proxy: the request's path is not a valid URL path.`);
      return;
    }
    if (target.origin !== route.base.origin || !target.pathname.startsWith(route.base.pathname)) {
      answer(response, 404, `Drover's git proxy only forwards requests under ${route.label}.`);
      return;
    }
    let token: string | null;
    try {
      token = await route.token();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      answer(response, 503, `Drover's git proxy could not get the token for ${route.label}: ${reason}`);
      this.log(`git proxy: ${route.label} ${method} ${gitPath} → 503 (no token: ${reason})`);
      return;
    }
    const headers: OutgoingHttpHeaders = forwardable(request.headers, REQUEST_DROP);
    if (token !== null) headers['authorization'] = `Basic ${Buffer.from(`${route.username}:${token}`).toString('base64')}`;
    this.forward({ route, request, response, target, headers, gitPath, hasToken: token !== null, redirects: 0 });
  }

  private forward(call: {
    route: Route;
    request: IncomingMessage;
    response: ServerResponse;
    target: URL;
    headers: OutgoingHttpHeaders;
    gitPath: string;
    hasToken: boolean;
    redirects: number;
  }): void {
    const { route, request, response, target, gitPath } = call;
    const method = request.method ?? 'GET';
    const where = `${route.label} ${method} ${gitPath}`;
    const fail = (status: number, message: string, note: string): void => {
      if (response.headersSent) response.destroy();
      else answer(response, status, message);
      this.log(`git proxy: ${where} → ${status} (${note})`);
    };
    const upstream = (target.protocol === 'https:' ? https : http).request(target, {
      method,
      headers: call.headers,
      timeout: this.options.idleTimeoutMs ?? 5 * 60_000,
    });
    this.inflight.add(upstream);
    upstream.on('close', () => this.inflight.delete(upstream));
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.on('timeout', () => upstream.destroy(new Error('no answer for too long')));
    // A forge switching protocols is not answering git: refused (without a listener the exchange would hang).
    upstream.on('upgrade', (_answer, socket) => {
      socket.destroy();
      fail(502, `Drover's git proxy: ${target.host} answered with a protocol switch, not a git response.`, 'unexpected protocol switch');
    });
    upstream.on('error', (error) => {
      fail(
        502,
        `Drover's git proxy could not reach ${target.host}: ${describeNetworkError(error)}`,
        `could not reach ${target.host}: ${codeOf(error) ?? error.message}`,
      );
    });
    upstream.on('response', (answerIn) => {
      const status = answerIn.statusCode ?? 502;
      const location = answerIn.headers.location;
      if (REDIRECT.has(status) && location !== undefined) {
        answerIn.resume();
        let next: URL;
        try {
          next = new URL(location, target);
        } catch {
          fail(502, `Drover's git proxy: ${target.host} answered with a redirect it could not read.`, `bad redirect`);
          return;
        }
        if (next.origin !== route.base.origin) {
          fail(
            502,
            `Drover's git proxy: ${target.host} redirected ${route.label} to ${next.host}; Drover does not send the token to another host. Update the repository's URL if it moved.`,
            `redirect to another origin refused`,
          );
          return;
        }
        if (method !== 'GET' || call.redirects >= MAX_REDIRECTS) {
          fail(
            502,
            `Drover's git proxy: ${target.host} redirected ${route.label} again and again (or redirected a push). Update the repository's URL if it moved.`,
            `redirect not followed`,
          );
          return;
        }
        // A moved repository (renamed, transferred): later requests go to its new place, as git itself does.
        const suffix = target.pathname.slice(route.base.pathname.length);
        if (next.pathname.endsWith(`/${suffix}`)) route.base = new URL(next.pathname.slice(0, next.pathname.length - suffix.length), next);
        this.log(`git proxy: ${where} → ${status}, following to the same host`);
        this.forward({ ...call, target: next, redirects: call.redirects + 1 });
        return;
      }
      if (status === 401 || status === 407) {
        // Passed on as is, git would prompt for a user name (and fail with a puzzling message in a container).
        answerIn.resume();
        fail(
          403,
          call.hasToken
            ? `Drover's git proxy: ${target.host} refused the token for ${route.label} (HTTP ${status}). Check that the token in Drover's vault is valid, has not expired and has access to this repository.`
            : `Drover's git proxy: ${target.host} asks for credentials for ${route.label}, and this repository has no token in Drover. Give the repository a token secret.`,
          call.hasToken ? 'token refused' : 'credentials needed, no token',
        );
        return;
      }
      try {
        response.writeHead(status, forwardable(answerIn.headers, RESPONSE_DROP));
      } catch (error) {
        // What the forge sent cannot be passed on (e.g. a status below 100): git gets a clear 502.
        answerIn.resume();
        fail(
          502,
          `Drover's git proxy: ${target.host} sent an answer that is not valid HTTP (${error instanceof Error ? error.message : String(error)}).`,
          'invalid answer from upstream',
        );
        return;
      }
      answerIn.pipe(response);
      answerIn.on('error', () => response.destroy());
      answerIn.on('end', () => this.log(`git proxy: ${where} → ${status}`));
    });
    if (method === 'POST' && call.redirects === 0) request.pipe(upstream);
    else upstream.end();
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}

/** The headers worth forwarding: without hop-by-hop ones (also those `Connection` names) and without `drop`. */
function forwardable(headers: IncomingHttpHeaders, drop: ReadonlySet<string>): OutgoingHttpHeaders {
  const named = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Refuses a connection the HTTP server handed over raw (upgrade, CONNECT), and closes it. */
function refuseRaw(socket: Duplex, status: string, message: string): void {
  socket.on('error', () => socket.destroy());
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A one-line plain-text answer: git shows text/plain bodies to the user as `remote: …`. */
function answer(response: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(body);
}

function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

function describeNetworkError(error: Error): string {
  switch (codeOf(error)) {
    case 'ECONNREFUSED':
      return 'the connection was refused (is the server running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its name does not resolve (check the URL and this computer’s network)';
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return `the connection failed (${codeOf(error)})`;
    default:
      return error.message;
  }
}

function listenError(host: string, error: unknown): Error {
  const code = codeOf(error) ?? (error instanceof Error ? error.message : String(error));
  const hint = code === 'EADDRNOTAVAIL' ? ' (this computer has no such address)' : '';
  return new Error(`Drover's git proxy could not listen on ${host}${hint}: ${code}.`, { cause: error });
}

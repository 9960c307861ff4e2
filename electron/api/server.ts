/**
 * The Managed Agents API over HTTP: `/v1/…` on its own port and token, loopback only, no CORS.
 *
 * Auth is `Authorization: Bearer <token>` (what the official SDK sends) or `x-api-key`; any
 * `anthropic-beta` / `anthropic-version` is accepted. Every answer is JSON in the service's shape,
 * errors included; a request that fails unexpectedly is a 500 with a reference (details in the
 * log), and nothing a client sends can stop the server: one bad connection is closed, the rest
 * go on.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tokenMatches } from '#services/access-token';
import { ApiError, asApiError, errorBody } from './errors.ts';
import { Router, type Route } from './router.ts';

/** The largest request body accepted (a session's `initial_events` with images fit). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ApiServerOptions {
  host: string;
  port: number;
  /** The token to require, read at each request (so a rotated one applies at once). */
  token: () => string;
  routes: readonly Route[];
  /** Whether a credential other than the token may reach `pathname` (self-hosted workers' keys: work.ts); the route checks the rest. */
  scopedAccess?: (credential: string | null, method: string, pathname: string) => boolean;
  log: (line: string, error?: unknown) => void;
}

export interface RunningApi {
  /** `http://127.0.0.1:PORT`: the SDK's baseURL. */
  baseURL: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export async function startApiServer(options: ApiServerOptions): Promise<RunningApi> {
  const router = new Router(options.routes);
  const sockets = new Set<Socket>();
  const server = createServer({ maxHeaderSize: 64 * 1024 }, (request, response) => {
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    handle(request, response, requestId).catch((error: unknown) => fail(response, requestId, error));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Requests that do not parse as HTTP get Node's own 400/431/408 and that connection closes.
  server.on('upgrade', (_request, socket) => {
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('connect', (_request, socket) => {
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  function fail(response: ServerResponse, requestId: string, error: unknown): void {
    const known = asApiError(error);
    if (known === null) {
      const reference = randomBytes(4).toString('hex');
      options.log(`An API request failed unexpectedly (reference ${reference})`, error);
      send(
        response,
        requestId,
        500,
        errorBody(
          new ApiError(
            'api_error',
            `Something went wrong inside Drover (reference ${reference}). Try again; if it keeps happening, report it with the log.`,
          ),
          requestId,
        ),
      );
      return;
    }
    send(response, requestId, known.status, errorBody(known, requestId));
  }

  async function handle(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    response.on('error', () => undefined);
    request.on('error', () => undefined);
    // Until the body is read, an error answer closes the connection (its body is never read).
    response.setHeader('Connection', 'close');
    // Served on another address (serve mode's --host), other machines reach self-hosted workers' routes only.
    const fromElsewhere = !LOOPBACK.has(request.socket.remoteAddress ?? '') && !loopbackListener(options.host);
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://drover.invalid');
    } catch {
      throw new ApiError('invalid_request_error', 'The request path is not a valid URL path.');
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      throw new ApiError('invalid_request_error', 'The request path is not valid percent-encoded UTF-8.');
    }
    if (fromElsewhere && !options.scopedAccess?.(credentialOf(request), request.method ?? 'GET', pathname)) {
      throw new ApiError(
        'permission_error',
        'The Drover API answers this machine only; other machines may only run self-hosted workers, with an environment key.',
      );
    }
    if (request.headers.origin !== undefined) {
      // Browsers send Origin on cross-site requests: a web page must never drive the API.
      throw new ApiError(
        'permission_error',
        'The Drover API does not answer web pages (a request with an Origin header). Call it from a program.',
      );
    }
    if (!authorized(request, options.token()) && !options.scopedAccess?.(credentialOf(request), request.method ?? 'GET', pathname)) {
      throw new ApiError(
        'authentication_error',
        'Missing or wrong API token: send the Drover API token as "Authorization: Bearer <token>" or "x-api-key" (Settings → Local API shows it).',
      );
    }
    const match = router.match(request.method ?? 'GET', pathname);
    if (match === null) {
      throw new ApiError('not_found_error', `Drover's API has nothing at ${pathname.slice(0, 200)}.`);
    }
    if ('allowed' in match) {
      throw new ApiError(
        'invalid_request_error',
        `${request.method ?? ''} is not allowed on ${pathname.slice(0, 200)} (use ${match.allowed.join(' or ')}).`,
        405,
      );
    }
    const body = await readJson(request);
    response.removeHeader('Connection');
    const abort = new AbortController();
    response.on('close', () => abort.abort());
    const reply = await match.route.handler({
      params: match.params,
      query: url.searchParams,
      body,
      headers: request.headers,
      requestId,
      ...(request.socket.remoteAddress === undefined ? {} : { remoteAddress: request.socket.remoteAddress }),
      signal: abort.signal,
    });
    if ('stream' in reply) {
      await reply.stream(response, abort.signal);
      return;
    }
    send(response, requestId, reply.status ?? 200, reply.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.log(`The API server reported an error: ${error.message}`));
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    baseURL: `http://${hostForUrl}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function loopbackListener(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : null;
  const key = request.headers['x-api-key'];
  return tokenMatches(bearer, token) || tokenMatches(typeof key === 'string' ? key.trim() : null, token);
}

/** The credential a request presents: the Bearer token, else `x-api-key`. */
function credentialOf(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  const key = request.headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : null;
}

function send(response: ServerResponse, requestId: string, status: number, body: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'request-id': requestId,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

/** The JSON body, or undefined when there is none; 413 past the limit, 400 when it is not JSON. */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    throw new ApiError('request_too_large', `The request body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB. Send less at once.`);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes > MAX_BODY_BYTES) {
      throw new ApiError('request_too_large', `The request body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB. Send less at once.`);
    }
    chunks.push(buffer);
  }
  if (bytes === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('invalid_request_error', 'The request body is not valid JSON.');
  }
}

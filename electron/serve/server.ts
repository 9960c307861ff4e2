/**
 * Serve mode: the same UI and the same RPC contract over HTTP + WebSocket, for a browser.
 *
 * Binds 127.0.0.1 unless told otherwise, and every WebSocket must present the token and come
 * from a page of this server's own origin (checked on the parsed Origin header) — so neither
 * another local user without the token nor a web page the user happens to visit can drive it.
 * Static files are served only from the built renderer folder.
 */
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Dispatch } from '#rpc/dispatch';
import { describeIssues, issuesText } from '#shared/events';
import { RpcRequestSchema, type PushMessage, type RpcCaller, type RpcReply } from '#shared/rpc';
import { HeldAnswers } from './held-answers.ts';
import { tokenMatches } from './token.ts';

export interface ServeOptions {
  host: string;
  port: number;
  token: string;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  dispatch: Dispatch;
  log: (line: string) => void;
}

export interface RunningServer {
  /** The ready-to-open URL, token included. */
  url: string;
  origin: string;
  push(message: PushMessage): void;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** A Host header naming the server itself; anything else may be DNS rebinding. */
function hostAllowed(hostHeader: string | undefined, host: string, port: number): boolean {
  if (hostHeader === undefined) return false;
  const names = new Set([host, 'localhost', '127.0.0.1', '[::1]']);
  const [name, headerPort] = splitHost(hostHeader);
  return names.has(name) && headerPort === String(port);
}

function splitHost(value: string): [string, string] {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  return match ? [match[1] ?? '', match[2] ?? ''] : ['', ''];
}

function originAllowed(originHeader: string | undefined, host: string, port: number): boolean {
  if (originHeader === undefined) return false;
  let origin: URL;
  try {
    origin = new URL(originHeader);
  } catch {
    return false;
  }
  return origin.protocol === 'http:' && hostAllowed(origin.host, host, port);
}

/** The request's URL, or null when it does not parse (`//[` is an invalid host). */
function parsedUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://drover.invalid');
  } catch {
    return null;
  }
}

/** The request's path, percent-decoded, or null when it is not a valid (UTF-8) URL path. */
function decodedPath(target: string | undefined): string | null {
  const url = parsedUrl(target);
  if (url === null) return null;
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
}

/** A close frame holds at most 123 bytes of reason (RFC 6455 §5.5): cut there, never inside a character. */
export function closeReason(text: string, maxBytes = 123): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes - 3) return `${cut}...`;
    cut += char;
    bytes += size;
  }
  return cut;
}

export async function startServe(options: ServeOptions): Promise<RunningServer> {
  const staticRoot = path.resolve(options.staticDir);
  const sockets = new Set<WebSocket>();
  let port = options.port;

  const server = createServer((request, response) => {
    serveStatic(request, response).catch((error: unknown) => {
      // A bug, not the client's fault: this one request fails, the server goes on.
      options.log(`A request for the UI failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent)
        response.writeHead(500, { 'Content-Type': 'text/plain' }).end('Drover failed on this request; see its log.\n');
      else response.destroy();
    });
  });
  // Requests that do not parse as HTTP (bad methods, huge headers, garbage) get Node's own
  // 'clientError' answer (400, 431, 408) and that one connection is closed.

  async function serveStatic(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hostAllowed(request.headers.host, options.host, port)) {
      response.writeHead(421, { 'Content-Type': 'text/plain' }).end('Unknown host.\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = decodedPath(request.url);
    if (pathname === null) {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad request: the path is not a valid URL path.\n');
      return;
    }
    const file = path.resolve(staticRoot, `.${pathname === '/' ? '/index.html' : pathname}`);
    if (file !== staticRoot && !file.startsWith(staticRoot + path.sep)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found.\n');
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    // The HTTP server stops watching a socket it hands over: a reset must not go unheard.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string) => {
      options.log(`Refused a connection: ${reason}.`);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = parsedUrl(request.url);
    if (url === null) return refuse(400, 'Bad Request');
    if (url.pathname !== '/rpc') return refuse(404, 'Not Found');
    if (!hostAllowed(request.headers.host, options.host, port)) return refuse(421, 'Misdirected Request');
    if (!originAllowed(request.headers.origin, options.host, port)) return refuse(403, 'Forbidden origin');
    if (!tokenMatches(url.searchParams.get('token'), options.token)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws, socket));
  });

  let connections = 0;
  function accept(ws: WebSocket, socket: Duplex): void {
    sockets.add(ws);
    const held = new HeldAnswers(socket, (text) => {
      if (ws.readyState === ws.OPEN) ws.send(text);
    });
    // The connection's own pushes (a terminal's output) and its end (its terminals close).
    const closeListeners = new Set<() => void>();
    let closed = false;
    const caller: RpcCaller = {
      id: `ws-${++connections}`,
      push: (message) => {
        held.push(JSON.stringify(message));
      },
      onClose: (listener) => {
        if (closed) listener();
        else closeListeners.add(listener);
        return () => closeListeners.delete(listener);
      },
    };
    ws.on('close', () => {
      sockets.delete(ws);
      held.stop();
      closed = true;
      for (const listener of closeListeners) listener();
      closeListeners.clear();
    });
    // A protocol error (oversize or unmasked frame, bad UTF-8, reserved bits or opcodes): ws has
    // already sent the close frame and ends this connection; the others are untouched.
    ws.on('error', (error) => options.log(`Closed a WebSocket after a protocol error: ${error.message}`));
    ws.on('message', (data) => {
      answer(ws, caller, held, data.toString()).catch((error: unknown) => {
        options.log(`A WebSocket message failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
        if (ws.readyState === ws.OPEN) ws.close(1011, 'internal error');
      });
    });
  }

  async function answer(ws: WebSocket, caller: RpcCaller, held: HeldAnswers, text: string): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return ws.close(1007, 'messages must be JSON');
    }
    const request = RpcRequestSchema.safeParse(raw);
    if (!request.success) {
      return ws.close(1007, closeReason(`malformed request: ${issuesText(describeIssues(request.error.issues))}`));
    }
    const outcome = await options.dispatch(request.data.name, request.data.arg, caller);
    const reply: RpcReply = outcome.ok ? { id: request.data.id, result: outcome.result } : { id: request.data.id, error: outcome.error };
    // A key's answer (null) rides with its echo's push: see held-answers.ts.
    if (request.data.name === 'terminal-input' && outcome.ok) return held.hold(JSON.stringify(reply));
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.log(`The server reported an error: ${error.message}`));
  port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = `http://${hostForUrl}:${port}`;

  return {
    origin,
    url: `${origin}/?token=${encodeURIComponent(options.token)}`,
    push(message) {
      const text = JSON.stringify(message);
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

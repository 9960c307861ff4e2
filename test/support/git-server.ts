/**
 * A real git server for tests: git's own smart-HTTP CGI (`git http-backend`) behind node:http on
 * 127.0.0.1, which — like GitHub or GitLab for a private repository — answers 401 to any request
 * whose Basic password is not the expected token. Fetch and push both work (receive-pack is on).
 *
 * It records every request (method, path, status, whether it carried credentials) for tests to
 * assert on; never the credentials themselves.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { tempDir } from './system.ts';

export interface GitServerRequest {
  method: string;
  /** The path under the server, e.g. `/app.git/info/refs` (no query). */
  path: string;
  query: string;
  status: number;
  /** Whether an Authorization header came with it. */
  auth: boolean;
}

export interface GitServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Where the bare repositories are. */
  readonly root: string;
  readonly requests: GitServerRequest[];
  /** The URL of a repository on this server. */
  url(name: string): string;
  /** A bare repository `name` (e.g. `app.git`) with one commit of `files` on `main`; its URL. */
  createBareRepo(name: string, files: Record<string, string>): string;
  /** `git <args>` in the bare repository `name`; its output. */
  git(name: string, ...args: string[]): string;
  /** Requests for the repository `from` answer 301 to the same path under `to` (a renamed repository). */
  move(from: string, to: string): void;
  close(): Promise<void>;
}

/** Why this server cannot run here (it needs this machine's git), or null. */
export function gitServerUnavailableReason(): string | null {
  if (spawnSync('git', ['--version'], { stdio: 'ignore' }).status !== 0)
    return 'git is not installed on this machine (Debian: apt-get install git)';
  if (spawnSync('git', ['http-backend'], { stdio: 'ignore', env: { ...process.env, REQUEST_METHOD: 'GET', PATH_INFO: '/' } }).error)
    return 'git http-backend is missing';
  return null;
}

/** Identity for the commits tests make on this machine. */
export const GIT_IDENTITY = ['-c', 'user.name=Drover Test', '-c', 'user.email=test@drover.invalid'];

export async function startGitServer(options: { token: string; user?: string }): Promise<GitServer> {
  const root = tempDir('drover-git-server-');
  const requests: GitServerRequest[] = [];
  const moved = new Map<string, string>();
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://server.invalid');
    const record = (status: number): void => {
      requests.push({
        method: request.method ?? '',
        path: url.pathname,
        query: url.search,
        status,
        auth: request.headers.authorization !== undefined,
      });
    };
    const [, repo = '', ...rest] = url.pathname.split('/');
    const target = moved.get(repo);
    if (target !== undefined) {
      request.resume();
      response.writeHead(301, { Location: `/${target}/${rest.join('/')}${url.search}` });
      response.end();
      record(301);
      return;
    }
    if (basicPassword(request) !== options.token) {
      request.resume();
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="drover-test"', 'Content-Type': 'text/plain' });
      response.end('Authentication required\n');
      record(401);
      return;
    }
    // A path that does not decode is a client error, as on a real forge (not a crash of the test server).
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(url.pathname);
    } catch {
      request.resume();
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad path\n');
      record(400);
      return;
    }
    runBackend(root, request, response, url, pathInfo, options.user ?? 'tester', record);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  const git = (name: string, ...args: string[]): string =>
    execFileSync('git', ['--git-dir', path.join(root, name), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return {
    origin,
    root,
    requests,
    url: (name) => `${origin}/${name}`,
    createBareRepo(name, files) {
      const work = tempDir('drover-git-seed-');
      try {
        execFileSync('git', ['-c', 'init.defaultBranch=main', 'init', '-q', work]);
        for (const [file, text] of Object.entries(files)) {
          mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
          writeFileSync(path.join(work, file), text);
        }
        execFileSync('git', ['-C', work, 'add', '-A']);
        execFileSync('git', ['-C', work, ...GIT_IDENTITY, 'commit', '-q', '-m', 'Initial commit']);
        execFileSync('git', ['clone', '-q', '--bare', work, path.join(root, name)]);
        execFileSync('git', ['--git-dir', path.join(root, name), 'config', 'http.receivepack', 'true']);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
      return `${origin}/${name}`;
    },
    git,
    move(from, to) {
      moved.set(from, to);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function basicPassword(request: IncomingMessage): string | null {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/** One request through `git http-backend` (CGI): the request's body in, its headers and body out. */
function runBackend(
  root: string,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  pathInfo: string,
  user: string,
  record: (status: number) => void,
): void {
  const header = (name: string): string => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : (value ?? '');
  };
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: request.method ?? 'GET',
      PATH_INFO: pathInfo,
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: header('content-type'),
      ...(request.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      HTTP_GIT_PROTOCOL: header('git-protocol'),
      REMOTE_USER: user,
      REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  request.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  child.stderr.resume();
  let head = Buffer.alloc(0);
  let headersDone = false;
  let status = 200;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    const endLf = head.indexOf('\n\n');
    const cut = end >= 0 ? { at: end, size: 4 } : endLf >= 0 ? { at: endLf, size: 2 } : null;
    if (!cut) return;
    headersDone = true;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, cut.at).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    record(status);
    response.write(head.subarray(cut.at + cut.size));
  });
  child.on('close', () => {
    if (!headersDone) {
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end('git http-backend failed\n');
      record(500);
      return;
    }
    response.end();
  });
}

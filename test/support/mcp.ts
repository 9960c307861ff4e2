/**
 * Real MCP servers for the MCP hand tests: the reference servers from node_modules (run with
 * this Node, no network), the stdio fixture server (mcp-child.ts), and an in-process Streamable
 * HTTP server that requires a bearer token and records the headers it received.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { McpTransport } from '#shared/hands';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The bin entry of a reference server package, e.g. 'server-everything'. */
export function referenceServerEntry(pkg: 'server-everything' | 'server-filesystem' | 'server-memory'): string {
  const dir = path.join(root, 'node_modules/@modelcontextprotocol', pkg);
  const manifest = z
    .looseObject({ bin: z.record(z.string(), z.string()) })
    .parse(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')));
  const bin = Object.values(manifest.bin)[0];
  if (bin === undefined) throw new Error(`${pkg} has no bin`);
  return path.join(dir, bin);
}

/** A stdio transport config that runs a reference server with this Node. */
export function referenceServer(
  pkg: 'server-everything' | 'server-filesystem' | 'server-memory',
  args: string[] = [],
  env: Extract<McpTransport, { type: 'stdio' }>['env'] = {},
): McpTransport {
  return { type: 'stdio', command: process.execPath, args: [referenceServerEntry(pkg), ...args], cwd: null, env };
}

/** A stdio transport config for the fixture server (mcp-child.ts). */
export function fixtureServer(env: Extract<McpTransport, { type: 'stdio' }>['env'] = {}): McpTransport {
  return {
    type: 'stdio',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(root, 'test/support/mcp-child.ts')],
    cwd: root,
    env,
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** server-everything in its Streamable HTTP mode (on a free port by default); resolves once it listens. */
export async function startEverythingHttp(
  port?: number,
): Promise<{ url: string; port: number; child: ChildProcess; output(): string; stop(): Promise<void> }> {
  port ??= await freePort();
  const child = spawn(process.execPath, [referenceServerEntry('server-everything'), 'streamableHttp'], {
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server-everything did not listen within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('listening on port')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited (${code}):\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    child,
    /** Everything it wrote (it logs each request it receives). */
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A Streamable HTTP MCP server (stateless) that answers 401 unless `Authorization: Bearer
 * <token>`, and records the headers of every request. Tool: `whoami` (returns 'ok').
 */
export async function startAuthHttpServer(
  token: string,
): Promise<{ url: string; received: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const received: IncomingHttpHeaders[] = [];
  const http: Server = createHttpServer((req, res) => {
    received.push(req.headers);
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    const server = new McpServer({ name: 'drover-auth-fixture', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Says ok.' }, () => ({ content: [{ type: 'text', text: 'ok' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * The derived-image tests' set-up (electron/services/hands/docker/derived-image*.integration.test.ts:
 * npm, pip, apt): a package archive, index or registry served on Docker's bridge (where a build's
 * containers reach this machine), a session with one Docker hand `env` whose packages the real
 * registry builds into a derived image, and the images to remove afterwards.
 *
 * Nothing here stands in for a part: the engine builds for real, the packages come over HTTP.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import path from 'node:path';
import type { EventOf, EventType } from '#shared/events';
import type { DockerPackages, HandProgress } from '#shared/hands';
import { derivedTag } from '#services/hands/docker/derived-image';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { ToolOutcome } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { dockerCli } from '#test/support/docker';
import { tempDir } from '#test/support/system';

export interface BridgeServer {
  server: Server;
  /** The bridge's gateway address, and the port it listens on. */
  host: string;
  port: number;
  /** `http://<host>:<port>/` */
  url: string;
  close(): Promise<void>;
}

/** An HTTP server on Docker's bridge gateway (a free port), answering with `handler`. */
export async function serveOnBridge(engine: DockerEngine, handler: RequestListener): Promise<BridgeServer> {
  const host = await engine.bridgeGateway();
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the bridge server has no address');
  return {
    server,
    host,
    port: address.port,
    url: `http://${host}:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The tag the build of `packages` on `base` (an image here) gets: what the test removes afterwards. */
export function derivedTagOf(base: string, packages: Partial<DockerPackages>): string {
  return derivedTag(dockerCli('image', 'inspect', '--format', '{{.Id}}', base), { apt: [], pip: [], npm: [], ...packages });
}

/** Removes images by name (those already gone are fine). */
export function removeImages(images: readonly string[]): void {
  for (const image of images) if (image) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
}

export interface PackageSession {
  store: SessionStore;
  /** The hand's live progress (what the UI shows while it builds). */
  progress: HandProgress[];
  bash(command: string): Promise<ToolOutcome & { text: string }>;
  events<K extends EventType>(type: K): Array<EventOf<K>>;
}

/**
 * A session in its own store (`dataDir`) with a Docker hand `env` of `image` and `packages`, without
 * network; `cleanups` gets what closes its registry, deletes the session (its containers) and
 * closes the store.
 */
export function packageSession(
  dataDir: string,
  engine: DockerEngine,
  image: string,
  packages: Partial<DockerPackages>,
  cleanups: Array<() => Promise<void> | void>,
): PackageSession {
  const store = SessionStore.open({ dataDir });
  const progress: HandProgress[] = [];
  const registry = new HandRegistry({ store, docker: engine, onProgress: (_id, p) => progress.push(p), log: () => undefined });
  const { id } = store.createSession({ title: 'packages' });
  registry.attach(id, {
    name: 'env',
    config: { kind: 'docker', image, network: 'none', packages: { apt: [], pip: [], npm: [], ...packages } },
  });
  cleanups.push(async () => {
    await registry.close();
    await registry.sessionDeleted(id);
    store.close();
  });
  return {
    store,
    progress,
    async bash(command) {
      const [hand] = await registry.handsFor(id);
      if (!hand) throw new Error('no hand');
      const outcome = await hand.execute('env__bash', { command }, { signal: new AbortController().signal });
      return { ...outcome, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
    },
    events: <K extends EventType>(type: K) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>,
  };
}

/**
 * One derived-image test file's fixture: a temp folder and an engine instance of its own, the
 * package source it serves on the bridge, the base image it commits (pointed at that source), the
 * sessions it opens, and every image it expects a build to tag — all removed by `close()`.
 */
export class PackageFixture {
  readonly dir: string;
  readonly engine: DockerEngine;
  /** The base image (`commitBase`). */
  base = '';
  private server: BridgeServer | null = null;
  private readonly images: string[] = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  constructor(prefix: string) {
    this.dir = tempDir(prefix);
    this.engine = new DockerEngine({ instance: instanceIdOf(this.dir) });
  }

  /** Serves `files` by URL path (normalised: apt asks for /./Packages); any other path is a 404. */
  async serveFiles(files: ReadonlyMap<string, { body: Buffer | string; type?: string }>): Promise<BridgeServer> {
    this.server = await serveOnBridge(this.engine, (request, response) => {
      const file = files.get(path.posix.normalize(request.url ?? ''));
      if (!file) {
        response.statusCode = 404;
        response.end('not found');
        return;
      }
      if (file.type) response.setHeader('content-type', file.type);
      response.end(file.body);
    });
    return this.server;
  }

  /** Commits `image` as the base image `tag`, after running `command` in it when given, with Dockerfile `changes` (e.g. ENV). */
  commitBase(image: string, tag: string, options: { command?: string; changes?: readonly string[] } = {}): string {
    const container = dockerCli('create', image, ...(options.command === undefined ? ['true'] : ['sh', '-c', options.command]));
    if (options.command !== undefined) dockerCli('start', '-a', container);
    dockerCli('commit', ...(options.changes ?? []).flatMap((change) => ['--change', change]), container, tag);
    dockerCli('rm', container);
    this.base = tag;
    return tag;
  }

  /** A session with `packages` on the base image (its own store under the fixture's folder); it goes with `endSessions`. */
  session(name: string, packages: Partial<DockerPackages>): PackageSession {
    this.images.push(derivedTagOf(this.base, packages)); // what its build tags, removed at `close`
    return packageSession(path.join(this.dir, name), this.engine, this.base, packages, this.cleanups);
  }

  /** After each test: the sessions' registries closed, their containers removed, their stores closed. */
  async endSessions(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }

  /** After all: the source stopped, the derived and base images removed, the folder removed. */
  async close(): Promise<void> {
    await this.endSessions();
    await this.server?.close();
    removeImages([...this.images, this.base]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Docker container as a hand: `bash` (a persistent shell) and `editor` (the text editor tool)
 * in a container started lazily from the hand's image — or from the session's latest file
 * snapshot, so a fork's files match its conversation. The tools, the queue and the hand's state
 * are a shell hand's (shell-hand.ts); this file is the container's side: starting it, opening
 * shells in it, snapshots at turn ends, and telling when it died.
 *
 * Cattle: a container that dies or is removed from outside is a tool error the model can read
 * (`hand.lost` in the log); the next call starts a fresh one. Everything the hand does to the
 * container runs one at a time (commands, edits, snapshots, starts). A container killed
 * mid-command must never read as a shell's `exit` (container-state.ts settles which it was).
 *
 * Git repositories: a fresh container gets each of the hand's repositories, cloned on this
 * computer through Drover's git proxy and copied in; every start (fresh, restored or kept) points
 * their `origin` at the proxy's current URL for this container. The token stays in the main
 * process: never in the container's environment, a command line, a file in it, or an event.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { AppError } from '#shared/errors';
import type { DockerHandConfig, GitRepo, HandProgress } from '#shared/hands';
import { cloneThroughProxy, setOriginUrl } from '#services/git/clone';
import type { GitProxy, GitProxyRoute } from '#services/git/proxy';
import { errorText } from '#services/hands/bash-tool';
import type { PersistentShell } from '#services/hands/shell';
import {
  ShellHand,
  type Exclusive,
  type ShellHandHooks,
  type ShellHandWords,
  type ShellTransport,
  type StartedMachine,
} from '#services/hands/shell-hand';
import type { SecretResolver } from '#services/vault/resolver';
import type { BlobStore } from '#services/checkpoints/blob-store';
import { HandCheckpoints, type RestoreSource } from '#services/checkpoints/hand-checkpoints';
import type { Checkpoint } from '#services/checkpoints/manifest';
import { ContainerFiles } from './container-files.ts';
import { lostContainerReason, reuseKeptContainer } from './container-state.ts';
import { derivedTag, ensureDerivedImage, hasPackages } from './derived-image.ts';
import { limitedEgress, reviveEgress, type EgressProxy } from './egress-proxy.ts';
import { DockerUnavailableError, isNotFound, LABELS, type DockerEngine } from './engine.ts';
import { archiveFolder } from './folder-archive.ts';
import {
  checkHostFolder,
  pointOrigin,
  prepareFolder,
  configHash,
  DEFAULT_PATH,
  dockerSafe,
  repoToken,
  READ_ONLY_ROOT,
  displayUrl,
  IDLE_COMMAND,
  isEngineError,
  LOOPBACK,
  RestoreFailedError,
  SHELL_ENV,
} from './hand-support.ts';

export { configHash };
import { openContainerShell } from './shell.ts';

export interface DockerHandHooks extends ShellHandHooks {
  /** Live provisioning progress (not stored). */
  progress(progress: HandProgress): void;
  /** The checkpoint or snapshot a new container starts from (the latest at or before the session's position), or null. */
  restoreSource(): Promise<RestoreSource | null>;
  /** The last checkpoint of a kept container (`container`: its short id, `image`: its image id), from the log. */
  keptCheckpoint?(container: string, image: string): Checkpoint | null;
}

/** What a hand with git repositories needs from the main process. */
export interface DockerHandOptions {
  /** Where repositories' tokens come from (by secret id), when a repository has one. */
  secrets?: SecretResolver;
  /** Drover's git proxy, when the hand has repositories: the clone and the container's fetch and push go through it. */
  gitProxy?: GitProxy;
  /** Where checkpoints' blobs go; with it, the files are checkpointed after each tool call that can change them (not at turn ends). */
  blobs?: BlobStore;
  /** A thread's read-only copy (issue 21): read-only root filesystem (tmpfs /tmp), no snapshots. */
  readOnly?: boolean;
}

export interface DockerHandIdentity {
  sessionId: string;
  name: string;
  config: DockerHandConfig;
}

/** A Docker container as a hand: a shell hand (shell-hand.ts) whose machine is a container. */
export class DockerHand extends ShellHand {
  constructor(engine: DockerEngine, identity: DockerHandIdentity, hooks: DockerHandHooks, options: DockerHandOptions = {}) {
    const toolset = identity.config.toolset;
    super(
      identity,
      hooks,
      new ContainerTransport(engine, identity, hooks, options),
      toolset ? { tools: toolset.tools, cwd: identity.config.working_dir } : null,
    );
  }
}

/** How a Docker hand reaches its container: starts it, opens shells in it, reads its files, snapshots it, and tells whether it died. */
class ContainerTransport implements ShellTransport {
  readonly checksIdleShellEnd = true;
  readonly reopensAtStart = false;
  readonly files: ContainerFiles;
  private container: Docker.Container | null = null;
  private containerId: string | null = null;
  /** The image the current container started from, and its size (for snapshot bytes). */
  private source: { image: string; size: number } | null = null;
  /** Something may have changed the files since the last snapshot. */
  private dirty = false;
  private disposed = false;
  /** The repositories' registrations with the git proxy for the current container. */
  private routes: GitProxyRoute[] = [];
  /** The egress proxy of a container whose network is limited to its allowed hosts. */
  private egress: EgressProxy | null = null;
  private readonly checkpoints: HandCheckpoints | null;

  readonly words: ShellHandWords = {
    idle: 'Starts on the first tool call.',
    machine: 'container',
    starting: () => `Starting a container from ${this.config.image}…`,
    failed: (message) => `Could not start: ${message}`,
    lostEvent: (reason) => reason,
    lostDetail: (reason) => `Lost: ${reason}. The next tool call starts a fresh container.`,
    lostNote: (reason) => `Note: the previous container was lost (${reason}); this ran in a fresh one.`,
    lostResult: (reason, result, notes) => {
      const output = result && result.output !== '' ? `\nOutput before it was lost:\n${result.output}` : '';
      return errorText(
        [
          ...notes,
          `The container running this hand was lost while the tool ran: ${reason}.${output}`,
          this.checkpoints
            ? `The next call starts a fresh container with the files of the last checkpoint (after the last tool call that changed them).`
            : `The next call starts a fresh container with the files of the last turn end (changes since then are gone).`,
        ].join('\n'),
      );
    },
    unavailable: (error, notes) => {
      const message = error instanceof Error ? error.message : String(error);
      return errorText([...notes, `The container for this hand could not start: ${message}`, 'The next call tries again.'].join('\n'));
    },
  };

  constructor(
    private readonly engine: DockerEngine,
    private readonly identity: DockerHandIdentity,
    private readonly hooks: DockerHandHooks,
    private readonly options: DockerHandOptions,
  ) {
    this.checkpoints = options.blobs ? new HandCheckpoints(engine, options.blobs, identity, hooks) : null;
    this.files = new ContainerFiles(engine, async () => {
      if (!this.container) throw new Error('the container is not running');
      return this.container;
    });
  }

  private get config(): DockerHandConfig {
    return this.identity.config;
  }

  get started(): boolean {
    return this.container !== null;
  }

  get label(): string | null {
    return this.containerId;
  }

  describe(): { where: string; files: string; shell: string; notes: string[] } {
    const { image, working_dir: cwd, network, allowed_hosts: allowed } = this.config;
    const reach =
      network === 'none'
        ? 'network disabled'
        : allowed === undefined
          ? 'network enabled'
          : `network limited to ${allowed.length === 0 ? 'no host' : allowed.join(', ')} through an HTTP(S) proxy (HTTPS_PROXY is set; other connections fail)`;
    const where = `a Docker container (image ${image}, ${reach}, working directory ${cwd})`;
    return {
      where,
      files: `in ${where}`,
      shell: 'bash when the image has it, else sh',
      notes: this.config.repos.map(
        (repo) =>
          `${repo.path} is a git clone of ${displayUrl(repo.url)}: \`git fetch\` and \`git push\` to origin need no credentials (Drover adds them outside the container).`,
      ),
    };
  }

  homeDir(): string {
    return this.config.working_dir;
  }

  openShell(cwd: string | null): Promise<PersistentShell> {
    if (!this.container) return Promise.reject(new Error('the container did not start'));
    return openContainerShell(this.engine, this.container, cwd ?? this.config.working_dir);
  }

  /** A container with no shell may have died between calls (see container-state.ts); a live shell says it runs. */
  lostBeforeCall(shellAlive: boolean): Promise<string | null> {
    return shellAlive ? Promise.resolve(null) : this.lostAfterFailure();
  }

  /** Why the container is gone, once something in it failed; null while it runs on (see container-state.ts). */
  lostAfterFailure(): Promise<string | null> {
    return this.container ? lostContainerReason(this.engine, this.container, this.config.memory_mb) : Promise.resolve(null);
  }

  discard(): void {
    const container = this.container;
    this.container = null;
    this.containerId = null;
    this.source = null;
    this.checkpoints?.stopped();
    this.closeEgress();
    // A stopped container is no use to anyone; a removed one is already gone.
    void container?.remove({ force: true }).catch(() => undefined);
  }

  changed(): void {
    this.dirty = true;
    this.checkpoints?.changed();
  }

  /** Checkpoints the files after the tool call answered by event `atSeq`; once checkpointed, the turn end takes no snapshot. */
  toolAnswered(atSeq: number, exclusive: Exclusive): Promise<void> {
    return exclusive(async () => {
      const container = this.container;
      if (!container || !this.checkpoints || this.disposed) return;
      if (await this.checkpoints.capture(container, atSeq)) this.dirty = false;
    });
  }

  /** Commits the container as a snapshot when the turn changed something no checkpoint holds (no blob store, or a capture failed). */
  turnEnded(atSeq: number, exclusive: Exclusive): Promise<void> {
    return exclusive(async () => {
      if (!this.dirty || !this.container || !this.source || this.disposed || this.options.readOnly) return;
      const started = performance.now();
      const tag = `${this.identity.sessionId}-${dockerSafe(this.identity.name)}-${atSeq}`;
      const repository = this.engine.snapshotRepository;
      try {
        await this.container.commit({
          repo: repository,
          tag,
          pause: true,
          comment: `Drover: files of hand "${this.identity.name}" at event ${atSeq} of session ${this.identity.sessionId}`,
        });
        const image = `${repository}:${tag}`;
        const info = await this.engine.docker.getImage(image).inspect();
        this.dirty = false;
        this.hooks.record({
          type: 'hand.snapshot',
          payload: {
            hand_id: this.identity.name,
            at_seq: atSeq,
            image,
            bytes: Math.max(0, info.Size - this.source.size),
            duration_ms: performance.now() - started,
          },
        });
      } catch (error) {
        // The files stay as they are; the next turn end tries again.
        this.hooks.log(`Hand ${this.identity.name} of session ${this.identity.sessionId}: snapshot at event ${atSeq} failed`, error);
      }
    });
  }

  async dispose({ keep }: { keep: boolean }): Promise<void> {
    this.disposed = true;
    const container = this.container;
    this.container = null;
    this.containerId = null;
    this.checkpoints?.stopped();
    this.releaseRoutes();
    this.closeEgress();
    if (!container || keep) return;
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      if (!isNotFound(error)) throw this.engine.explain(error, 'remove the container');
    }
  }

  /** Starts a container; when a checkpoint's files cannot be restored into it, one from the image without them (with a note). */
  async start(signal: AbortSignal, notes: string[]): Promise<StartedMachine> {
    try {
      return await this.startOnce(signal, notes, true);
    } catch (error) {
      if (!(error instanceof RestoreFailedError)) throw error;
      this.hooks.log(`Hand ${this.identity.name} of session ${this.identity.sessionId}: ${error.message}`, error.cause);
      notes.push(error.message);
      return this.startOnce(signal, notes, false);
    }
  }

  /** Starts a container: one kept from before Drover restarted, else a new one from the latest checkpoint or snapshot, or the image. */
  private async startOnce(signal: AbortSignal, notes: string[], restore: boolean): Promise<StartedMachine> {
    const { sessionId, name } = this.identity;
    const config = this.config;
    try {
      await this.engine.ready(signal); // a hand routed by its requirements picks its engine here (engine-routing.ts)
      this.checkRepos();
      const log = (line: string): void => this.hooks.log(`Hand ${name} of session ${sessionId}: ${line}`);
      let kept = await reuseKeptContainer(this.engine, { sessionId, name, configHash: configHash(config) });
      if (kept && config.network === 'bridge' && config.allowed_hosts !== undefined) {
        // Its way out is its proxy: started again where its environment points, else a fresh container.
        this.closeEgress();
        this.egress = await reviveEgress(kept.container, config.allowed_hosts, log);
        if (!this.egress) {
          await kept.container.remove({ force: true }).catch(() => undefined);
          kept = null;
        }
      }
      if (kept) {
        const repoNotes = await this.bringRepos(kept.container, 'kept', signal);
        notes.push(...repoNotes);
        this.container = kept.container;
        this.containerId = kept.id;
        this.source = { image: kept.image, size: kept.size };
        this.dirty = true; // unknown: the next checkpoint or turn end keeps it
        if (this.checkpoints) {
          const imageId = (await kept.container.inspect()).Image;
          this.checkpoints.started(kept.container, this.hooks.keptCheckpoint?.(kept.id, imageId) ?? null, true);
        }
        return this.ready([`Running ${kept.id} (kept from before Drover restarted).`, ...repoNotes].join(' '), { image: kept.image });
      }
      for (const mount of config.mounts) await checkHostFolder(mount.host_path);

      let restored = restore ? await this.hooks.restoreSource() : null;
      if (restored?.kind === 'checkpoint' && !this.checkpoints) restored = null;
      if (restored && !(await this.engine.imageExists(restored.image))) {
        const what =
          restored.kind === 'checkpoint'
            ? `the image ${restored.image.slice(7, 19)} the files of event ${restored.atSeq} were checkpointed over`
            : `the file snapshot ${restored.image}`;
        notes.push(`Note: ${what} is missing from Docker, so this container starts from ${config.image} without the earlier files.`);
        restored = null;
      }
      let image = restored?.image ?? config.image;
      // A restore's image was just found there.
      if (!restored && !(await this.engine.imageExists(image))) {
        this.hooks.record({ type: 'hand.provisioning', payload: { hand_id: name, phase: 'pulling', message: `Pulling ${image}` } });
        await this.engine.pull(image, { signal, onProgress: (progress) => this.hooks.progress({ hand_id: name, ...progress }) });
      }
      // A snapshot already has the packages (it was taken from a container of the derived image).
      if (!restored && hasPackages(config.packages)) {
        image = await ensureDerivedImage(this.engine, image, config.packages, {
          signal,
          onBuildStart: (message) => {
            this.hooks.record({ type: 'hand.provisioning', payload: { hand_id: name, phase: 'building', message } });
            this.hooks.progress({ hand_id: name, phase: 'building', message });
          },
          onLine: (line) => this.hooks.progress({ hand_id: name, phase: 'building', message: line }),
        });
      }
      const phase = restored ? 'restoring' : 'creating';
      const message = restored ? `Creating a container with the files of event ${restored.atSeq}` : `Creating a container from ${image}`;
      this.hooks.record({ type: 'hand.provisioning', payload: { hand_id: name, phase, message } });
      this.hooks.progress({ hand_id: name, phase, message });

      // A checkpoint's blobs are read (and checked) while the engine creates and starts the container.
      const prefetch = restored?.kind === 'checkpoint' ? this.checkpoints?.prefetch(restored) : undefined;
      const imageInfo = await this.engine.docker.getImage(image).inspect();
      const imageEnv = imageInfo.Config?.Env ?? [];
      // A checkpoint's base is an image id: the user sees the image they configured (or its packages image), looked up meanwhile.
      const shownImage = restored?.kind === 'checkpoint' ? this.imageName(imageInfo) : Promise.resolve(image);
      shownImage.catch(() => undefined); // awaited once the container is ready
      const limited =
        config.network === 'bridge' && config.allowed_hosts !== undefined
          ? await limitedEgress(this.engine, config.allowed_hosts, log)
          : null;
      this.closeEgress();
      this.egress = limited?.proxy ?? null;
      const env = [
        ...(imageEnv.some((entry) => entry.startsWith('PATH=')) ? [] : [DEFAULT_PATH]),
        ...SHELL_ENV,
        ...(limited?.env ?? []),
        ...Object.entries(config.env).map(([key, value]) => `${key}=${value}`),
      ];
      const container = await this.engine.docker.createContainer({
        name: `drover-${sessionId.slice(0, 8)}-${dockerSafe(name)}-${randomBytes(3).toString('hex')}`,
        Image: image,
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: [IDLE_COMMAND],
        WorkingDir: config.working_dir,
        Env: env,
        Labels: {
          [LABELS.instance]: this.engine.instance,
          [LABELS.session]: sessionId,
          [LABELS.hand]: name,
          [LABELS.config]: configHash(config),
        },
        HostConfig: {
          Init: true,
          NetworkMode: limited?.network ?? config.network,
          ...(config.cpus === null ? {} : { NanoCpus: Math.round(config.cpus * 1e9) }),
          ...(config.memory_mb === null ? {} : { Memory: config.memory_mb * 1024 * 1024, MemorySwap: config.memory_mb * 1024 * 1024 }),
          ...(config.pids_limit === null ? {} : { PidsLimit: config.pids_limit }),
          ...(this.options.readOnly ? READ_ONLY_ROOT : {}),
          Mounts: config.mounts.map((mount) => ({
            Type: 'bind' as const,
            Source: mount.host_path,
            Target: mount.container_path,
            ReadOnly: mount.read_only,
          })),
        },
      });
      this.hooks.progress({ hand_id: name, phase: 'starting', message: 'Starting the container' });
      let repoNotes: string[];
      try {
        const scope = restored?.kind === 'checkpoint' ? this.checkpoints?.scopeOf(container) : undefined;
        scope?.catch(() => undefined); // awaited by the restore
        await container.start();
        if (restored?.kind === 'checkpoint') {
          const at = restored.atSeq;
          const ahead = { ...(prefetch ? { prefetch } : {}), ...(scope ? { scope } : {}) };
          await this.checkpoints?.restore(container, restored, signal, ahead).catch((error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            throw new RestoreFailedError(
              `Note: the files of event ${at} could not be restored (${reason}), so this container starts from ${config.image} without them.`,
              { cause: error },
            );
          });
        }
        // A snapshot already has the repositories' files (and the work on them): only a fresh container gets clones.
        repoNotes = await this.bringRepos(container, restored ? 'restored' : 'fresh', signal);
      } catch (error) {
        prefetch?.close();
        await container.remove({ force: true }).catch(() => undefined);
        throw error;
      }
      notes.push(...repoNotes);
      this.container = container;
      this.containerId = container.id.slice(0, 12);
      this.source = { image, size: imageInfo.Size };
      this.dirty = false;
      this.checkpoints?.started(container, restored?.kind === 'checkpoint' ? restored.checkpoint : null, false);
      // The clones are Drover's, not the first tool's changes: the files as they are now are the hand's start.
      if (!restored && config.repos.length > 0) await this.checkpoints?.baseline(container);
      const running = restored
        ? `Running ${this.containerId}, with the files of event ${restored.atSeq}.`
        : `Running ${this.containerId} from ${image}.`;
      return this.ready([running, ...repoNotes].join(' '), {
        image: await shownImage,
        ...(restored ? { restored_from: { session_id: restored.sessionId, at_seq: restored.atSeq } } : {}),
      });
    } catch (error) {
      this.releaseRoutes();
      this.closeEgress();
      throw error instanceof DockerUnavailableError || error instanceof AppError || !isEngineError(error)
        ? error
        : this.engine.explain(error, 'start the container');
    }
  }

  /**
   * The name of an image a checkpoint was laid over (known by its id): the configured image, or
   * its packages image, when the id is theirs; else a tag of it; else the id.
   */
  private async imageName(info: Docker.ImageInspectInfo): Promise<string> {
    const { image, packages } = this.config;
    const configured = await this.engine.docker
      .getImage(image)
      .inspect()
      .catch(() => null);
    if (configured?.Id === info.Id) return image;
    if (configured && hasPackages(packages)) {
      const tag = derivedTag(configured.Id, packages);
      if ((info.RepoTags ?? []).includes(tag)) return tag;
    }
    return info.RepoTags?.[0] ?? info.Id;
  }

  private ready(detail: string, extra: { image: string; restored_from?: { session_id: string; at_seq: number } }): StartedMachine {
    const remote = this.engine.remote; // a hand on another machine's engine says which (Settings → Engines)
    const where = remote ? `${detail} On the Docker engine "${remote.name}" (${remote.url}).` : detail;
    return { detail: where, ready: { container: this.containerId ?? undefined, ...extra } };
  }

  // ------------------------------------------------------------------------------- git repositories

  /** Refuses, before anything starts, a hand whose repositories cannot work. */
  private checkRepos(): void {
    const { repos, network } = this.config;
    if (repos.length === 0) return;
    const which = repos.length === 1 ? 'a git repository' : `${repos.length} git repositories`;
    if (network === 'none') {
      throw new Error(
        `This hand brings ${which} but has network "none": a repository needs network "bridge", so git in the container can reach Drover's git proxy to fetch and push. Set the hand's network to bridge.`,
      );
    }
    if (!this.options.gitProxy)
      throw new Error(`This hand brings ${which}, but this Drover runs without its git proxy, so it cannot clone them.`);
    if (!this.options.secrets && repos.some((repo) => repo.token_secret_id !== null)) {
      throw new Error(`This hand's repositories have tokens, but this Drover has no vault to read them from, so it cannot clone them.`);
    }
  }

  /**
   * Registers the hand's repositories with the git proxy (fresh capabilities: the last run's are
   * gone) and points each `origin` at them; a fresh container first gets the clones. Returns notes
   * for the user and the model.
   */
  private async bringRepos(container: Docker.Container, mode: 'fresh' | 'restored' | 'kept', signal: AbortSignal): Promise<string[]> {
    this.releaseRoutes();
    const repos = this.config.repos;
    const proxy = this.options.gitProxy;
    if (repos.length === 0 || !proxy) return [];
    const gateway = await this.engine.bridgeGateway();
    await proxy.start({ hosts: [LOOPBACK, gateway] });
    const notes: string[] = [];
    for (const repo of repos) {
      const shown = displayUrl(repo.url);
      const route = proxy.register({ upstream: repo.url, label: shown, token: repoToken(repo, shown, this.options.secrets) });
      this.routes.push(route);
      const remote = route.urlFor(gateway);
      if (mode === 'fresh') await this.cloneInto(container, repo, route.urlFor(LOOPBACK), remote, signal);
      else {
        const note = await pointOrigin(this.engine, container, repo, remote, signal);
        if (note) notes.push(note);
      }
    }
    const git = await this.engine.exec(container, ['/bin/sh', '-c', 'command -v git'], { signal });
    if (git.exitCode !== 0) {
      const paths = repos.map((repo) => repo.path).join(', ');
      notes.push(
        `Note: git is not installed in the container (image ${this.config.image}): the files of ${paths} are there, but fetch and push need git in the image.`,
      );
    }
    return notes;
  }

  /** Clones on this computer through the proxy, points `origin` at the container's proxy URL, and copies the result in. */
  private async cloneInto(
    container: Docker.Container,
    repo: GitRepo,
    proxyUrl: string,
    remote: string,
    signal: AbortSignal,
  ): Promise<void> {
    const { name } = this.identity;
    const shown = displayUrl(repo.url);
    this.hooks.record({ type: 'hand.provisioning', payload: { hand_id: name, phase: 'cloning', message: `Cloning ${shown}` } });
    this.hooks.progress({ hand_id: name, phase: 'cloning', message: `Cloning ${shown}` });
    const temp = await mkdtemp(path.join(tmpdir(), 'drover-clone-'));
    try {
      const dest = path.join(temp, 'repo');
      await cloneThroughProxy({
        proxyUrl,
        dest,
        branch: repo.branch,
        signal,
        repo: shown,
        tokenName: repo.token_secret_id === null ? null : `the vault secret ${repo.token_secret_id}`,
        // Counts of objects, not bytes: in the message (the progress bar's amounts are bytes).
        onProgress: (progress) =>
          this.hooks.progress({
            hand_id: name,
            phase: 'cloning',
            message: `Cloning ${shown}: ${progress.stage.toLowerCase()} ${progress.percent}% (${progress.current}/${progress.total})`,
          }),
      });
      await setOriginUrl(path.join(dest, '.git', 'config'), remote, { signal });
      const owner = await prepareFolder(this.engine, container, repo.path, signal);
      try {
        await container.putArchive(archiveFolder(dest, owner), { path: repo.path });
      } catch (error) {
        throw this.engine.explain(error, `copy ${shown} into the container at ${repo.path}`);
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  private closeEgress(): void {
    void this.egress?.close();
    this.egress = null;
  }

  private releaseRoutes(): void {
    for (const route of this.routes.splice(0)) this.options.gitProxy?.unregister(route);
  }
}

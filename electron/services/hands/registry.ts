/**
 * Which hands a session has, and the live hand behind each. A session's hands are events in its
 * log (`hand.attached` / `hand.detached`), so a fork inherits them; the registry makes the hand
 * for each on demand — lazily: a Docker hand starts its container on its first tool call, an SSH
 * hand connects to its machine on its first tool call.
 *
 * The model addresses a tool as `<hand>__<tool>` (e.g. `box__bash`): hand names are unique in a
 * session and have no `_`, so two hands can never offer the same tool name.
 *
 * Docker hands' files are checkpointed after each tool call that can change them (the registry
 * tells the hand which result event answered its call: checkpoints/hand-checkpoints.ts).
 * The registry also keeps containers and snapshots tidy: a turn end snapshots what no checkpoint holds;
 * deleting a session removes its containers and snapshots; quitting removes containers (or keeps
 * them for `keepAliveMs`); a start removes what a crash left behind.
 *
 * What only MCP servers need (the attach form's test, recent servers, name room) is in registry-mcp.ts.
 */
import path from 'node:path';
import { AppError } from '#shared/errors';
import {
  HandSpecSchema,
  qualifiedToolName,
  type HandProgress,
  type HandSpec,
  type HandSpecInput,
  type HandStatus,
  type McpHandConfig,
  type McpServerInfo,
} from '#shared/hands';
import { GitProxy } from '#services/git/proxy';
import type { SessionStore } from '#services/session/store';
import type { SecretResolver } from '#services/vault/resolver';
import { McpHand } from './mcp/mcp-hand.ts';
import { BlobStore } from '#services/checkpoints/blob-store';
import { afterCheckpoint } from '#services/checkpoints/retention';
import { reclaimBlobs } from '#services/checkpoints/storage';
import { findRestoreSource, type RestoreSource } from '#services/checkpoints/hand-checkpoints';
import { DockerHand } from './docker/docker-hand.ts';
import { LABELS, type DockerEngine } from './docker/engine.ts';
import { engineNow, imagesCheckedHere, type HandImage } from './docker/engine-routing.ts';
import { removeLeftovers, type Doomed } from './docker/leftovers.ts';
import type { EnginePool } from '#services/engines/engine-pool';
import type { Hand, ManagedHand } from './hand.ts';
import { checkMcpName, offInfo, recentMcpServers, testMcpServer, WritingMcpCalls, type RecentMcpServer } from './registry-mcp.ts';
import { readKept, writeKept } from './registry-kept.ts';
import { hasToolset, makeHand, qualify, type HandMaking } from './registry-make.ts';
import { ThreadAccess } from './thread-access.ts';
import { KnownHosts } from './ssh/known-hosts.ts';
import { SshHand } from './ssh/ssh-hand.ts';

export interface HandRegistryOptions {
  store: SessionStore;
  docker: DockerEngine;
  /** The engines of Settings → Engines: Docker hands that name one or state requirements run there (issue 22). */
  engines?: EnginePool;
  /** Live provisioning progress for the UI. */
  onProgress?: (sessionId: string, progress: HandProgress) => void;
  /** `eager` starts every hand before the session's first model request (the old way; for comparison). */
  provisioning?: 'lazy' | 'eager';
  /** How long containers outlive a quit, to be reused by the next start (0: removed at quit). */
  keepAliveMs?: number;
  /** Where kept containers are listed between runs. */
  keepFile?: string;
  /** Where the tokens of hands' git repositories come from (by secret id). */
  secrets?: SecretResolver;
  /** The SSH host keys the user trusted; default: `known-hosts.json` in the store's data folder. */
  knownHosts?: KnownHosts;
  /** False: Docker and SSH hands take no checkpoints, only turn-end snapshots (as before issue 20; tests of that path). Default true. */
  checkpoints?: boolean;
  /** The git proxy hands' repositories go through; without one the registry makes (and closes) its own. */
  gitProxy?: GitProxy;
  log?: (message: string, error?: unknown) => void;
}

interface Instance {
  hand: ManagedHand;
  /** The attach event it was made for: a re-attach makes a new one. */
  attachedSeq: number;
  /** A Docker hand's engine (this computer's, or the one it names or its requirements pick: issue 22). */
  engine?: DockerEngine;
}

export class HandRegistry {
  private readonly instances = new Map<string, Instance>();
  private readonly turnEnds = new Set<Promise<void>>();
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly gitProxy: GitProxy;
  /** Where Docker hands' checkpoints keep their files (`checkpoints/blobs` in the data folder). */
  readonly blobs: BlobStore;
  /** Tool uses addressed to a hand of a session, by tool use id, until their result (`<session>/<hand>`). */
  private readonly toolUses = new Map<string, string>();
  /** Calls to MCP tools the user marked as changing files: their results checkpoint the session's file hands. */
  private readonly mcpWrites: WritingMcpCalls;
  /** The SSH host keys the user trusted (what "trust this host key" writes to). */
  readonly knownHosts: KnownHosts;
  /** Which threads hold which hands, and threads' copies of hands (issue 21). */
  readonly threads: ThreadAccess;

  constructor(private readonly options: HandRegistryOptions) {
    this.knownHosts = options.knownHosts ?? new KnownHosts(path.join(options.store.dataDir, 'known-hosts.json'));
    this.gitProxy = options.gitProxy ?? new GitProxy({ log: (line) => this.log(line) });
    this.blobs = new BlobStore(options.store.dataDir);
    this.mcpWrites = new WritingMcpCalls(options.store, this.instances, (work, what) => this.track(work, what));
    this.threads = new ThreadAccess({
      store: options.store,
      instances: this.instances,
      specs: (sessionId) => this.specs(sessionId),
      instance: (sessionId, spec) => this.instance(sessionId, spec),
      making: () => this.making(),
      settled: () => this.settled(),
      track: (work, what) => this.track(work, what),
      log: (message, error) => this.log(message, error),
    });
    this.unsubscribe = options.store.subscribeAll((sessionId, event) => {
      if (event.type === 'agent.tool_use' && event.payload.hand_id !== undefined) {
        // A thread's call on its copy of a hand checkpoints the copy (thread-access.ts).
        const runsOn = this.threads.runsOn(sessionId, event.payload.session_thread_id, event.payload.hand_id);
        this.toolUses.set(event.payload.tool_use_id, `${sessionId}/${runsOn}`);
      } else if (event.type === 'agent.tool_result') {
        // Synchronous: the checkpoint is queued on the hand before its next call can be.
        const key = this.toolUses.get(event.payload.tool_use_id) ?? this.handOfToolUse(sessionId, event.payload.tool_use_id);
        this.toolUses.delete(event.payload.tool_use_id);
        const hand = key === null ? undefined : this.instances.get(key)?.hand;
        if (hand?.toolAnswered) this.track(hand.toolAnswered(event.seq), `Checkpoint of ${key ?? ''}`);
      } else if (event.type === 'agent.mcp_tool_use' || event.type === 'agent.mcp_tool_result') {
        this.mcpWrites.seen(sessionId, event);
      } else if (event.type === 'hand.checkpoint') {
        // Storage caps (checkpoints/retention.ts): over a cap, the session's old checkpoints are thinned, or its captures pause.
        const services = { store: options.store, blobs: this.blobs, log: (message: string, error?: unknown) => this.log(message, error) };
        this.track(
          afterCheckpoint(services, sessionId).then(() => undefined),
          `Storage caps of session ${sessionId}`,
        );
      } else if (event.type === 'session.status_idle') {
        for (const [key, instance] of this.instances) {
          if (key.startsWith(`${sessionId}/`) && instance.hand.turnEnded)
            this.track(instance.hand.turnEnded(event.seq), `Snapshot of ${key}`);
        }
      }
    });
  }

  /**
   * The session's hands, in attach order (from its log). A hand attached by an imported event is
   * `pending` — someone else's file chose what it runs — until the user approves it (which
   * attaches it again, by the user, after the imported events).
   */
  specs(sessionId: string): Array<HandSpec & { attachedSeq: number; pending: boolean }> {
    const importedSeq = this.options.store.getSession(sessionId).importedSeq ?? 0;
    const specs = new Map<string, HandSpec & { attachedSeq: number; pending: boolean }>();
    for (const event of this.options.store.getEvents(sessionId, { types: ['hand.attached', 'hand.detached'], limit: 10_000 })) {
      if (event.type === 'hand.attached') {
        specs.set(event.payload.hand_id, {
          name: event.payload.hand_id,
          config: event.payload.config,
          attachedSeq: event.seq,
          pending: event.seq <= importedSeq,
        });
      } else if (event.type === 'hand.detached') specs.delete(event.payload.hand_id);
    }
    return [...specs.values()];
  }

  /** Settings → Engines (issue 22), when this Drover has them. */
  get engines(): EnginePool | undefined {
    return this.options.engines;
  }

  /** The hands the harness routes tool uses to (tool names qualified with the hand's name). */
  async handsFor(sessionId: string, signal?: AbortSignal): Promise<Hand[]> {
    // Hands awaiting review are never made: nothing of theirs starts, and the model sees no tools.
    const hands = this.specs(sessionId)
      .filter((spec) => !spec.pending)
      .map((spec) => ({ spec, hand: this.instance(sessionId, spec) }));
    // MCP servers must run to say what tools they have: started now (in parallel), each bounded;
    // an interrupt stops the waiting.
    const bound = AbortSignal.any([AbortSignal.timeout(60_000), ...(signal ? [signal] : [])]);
    await Promise.all(hands.map(({ hand }) => hand.prepareTools?.(bound)));
    if (this.options.provisioning === 'eager') {
      await Promise.all(hands.map(({ hand }) => hand.provision(AbortSignal.timeout(10 * 60_000)).catch(() => undefined)));
    }
    return hands.map(({ spec, hand }) => ({
      ...qualify(spec.name, hand, hasToolset(spec)),
      threads: this.threads.access(sessionId, spec),
    }));
  }

  statuses(sessionId: string): HandStatus[] {
    const verification = this.importedVerification(sessionId);
    return this.specs(sessionId).map((spec) => {
      if (spec.pending) {
        const also =
          verification?.hand_id === spec.name
            ? ` Once on, the imported outcome also runs \`${verification.command}\` on it before each evaluation.`
            : '';
        const detail = `From an imported file: off until you review what it would run and turn it on.${also}`;
        return {
          name: spec.name,
          kind: spec.config.kind,
          config: spec.config,
          state: 'idle',
          detail,
          container: null,
          tools: [],
          review: 'pending',
          attachedSeq: spec.attachedSeq,
        };
      }
      const instance = this.instances.get(`${sessionId}/${spec.name}`);
      const hand = instance && instance.attachedSeq === spec.attachedSeq ? instance.hand : this.instance(sessionId, spec);
      const status = hand.status();
      const tools = hand.tools().map((tool) => (hasToolset(spec) ? tool.name : qualifiedToolName(spec.name, tool.name)));
      const threads = this.threads.holders(sessionId, spec.name);
      return {
        name: spec.name,
        kind: spec.config.kind,
        config: spec.config,
        ...status,
        tools,
        attachedSeq: spec.attachedSeq,
        ...(threads.length > 0 ? { threads } : {}),
      };
    });
  }

  /**
   * The session's hands as policies name them: kind, and each hand's own tool names (an MCP
   * server's own names, those turned off included; with `start`, a server not started yet is started
   * to list them, bounded). A hand from an imported file that waits for review lists no tools (a
   * policy for the whole hand is fine).
   */
  async policyTargets(
    sessionId: string,
    options: { start: boolean },
  ): Promise<Map<string, { kind: HandSpec['config']['kind']; tools: string[] }>> {
    const targets = new Map<string, { kind: HandSpec['config']['kind']; tools: string[] }>();
    for (const spec of this.specs(sessionId)) {
      if (spec.pending) {
        targets.set(spec.name, { kind: spec.config.kind, tools: [] });
        continue;
      }
      const hand = this.instance(sessionId, spec);
      if (hand instanceof McpHand) {
        if (options.start) await hand.prepareTools(AbortSignal.timeout(60_000));
        targets.set(spec.name, { kind: 'mcp', tools: hand.serverToolNames() });
      } else targets.set(spec.name, { kind: spec.config.kind, tools: hand.tools().map((tool) => tool.name) });
    }
    return targets;
  }

  /** Adds a hand to the session (recorded in its log); its tools reach the model from the next request. */
  attach(sessionId: string, input: HandSpecInput): HandStatus[] {
    const parsed = HandSpecSchema.safeParse(input);
    if (!parsed.success)
      throw new AppError(
        'invalid-argument',
        `This hand is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'hand'}: ${issue.message}`).join('; ')}.`,
      );
    const spec = parsed.data;
    checkMcpName(spec);
    this.checkToolset(sessionId, spec);
    if (this.specs(sessionId).some((existing) => existing.name === spec.name)) {
      throw new AppError('conflict', `This session already has a hand named "${spec.name}". Pick another name, or detach that hand first.`);
    }
    this.options.store.emitEvent(sessionId, { type: 'hand.attached', payload: { hand_id: spec.name, config: spec.config } });
    return this.statuses(sessionId);
  }

  /**
   * Changes an attached hand's configuration, recorded in the log (detached and attached again in
   * one commit, so forks inherit it). An MCP server whose command or URL did not change keeps
   * running (only which tools it offers changes); any other change starts a new hand.
   */
  update(sessionId: string, input: HandSpecInput): HandStatus[] {
    const parsed = HandSpecSchema.safeParse(input);
    if (!parsed.success)
      throw new AppError(
        'invalid-argument',
        `This hand is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'hand'}: ${issue.message}`).join('; ')}.`,
      );
    const spec = parsed.data;
    const current = this.specs(sessionId).find((existing) => existing.name === spec.name);
    if (!current) throw new AppError('not-found', `This session has no hand named "${spec.name}". Attach it first.`);
    if (current.pending) throw pendingError(spec.name);
    if (current.config.kind !== spec.config.kind) {
      throw new AppError(
        'invalid-argument',
        `The hand "${spec.name}" is a ${current.config.kind} hand and cannot become a ${spec.config.kind} one. Detach it and attach a new hand instead.`,
      );
    }
    checkMcpName(spec);
    this.checkToolset(sessionId, spec);
    const events = this.options.store.emitEvents(sessionId, [
      { type: 'hand.detached', payload: { hand_id: spec.name } },
      { type: 'hand.attached', payload: { hand_id: spec.name, config: spec.config } },
    ]);
    const key = `${sessionId}/${spec.name}`;
    const instance = this.instances.get(key);
    const attached = events.at(-1);
    if (instance && attached && instance.hand instanceof McpHand && spec.config.kind === 'mcp' && instance.hand.reconfigure(spec.config)) {
      this.instances.set(key, { hand: instance.hand, attachedSeq: attached.seq });
    }
    return this.statuses(sessionId);
  }

  /** An MCP hand's tools (starting its server if needed), each with whether it is on, and its stderr. */
  async mcpInfo(sessionId: string, name: string): Promise<McpServerInfo> {
    const spec = this.specs(sessionId).find((existing) => existing.name === name);
    if (!spec) throw new AppError('not-found', `This session has no hand named "${name}".`);
    if (spec.pending) throw pendingError(name);
    const hand = this.instance(sessionId, spec);
    if (!(hand instanceof McpHand)) throw new AppError('invalid-argument', `The hand "${name}" is not an MCP server.`);
    if (!hand.config.enabled) return offInfo(hand);
    return hand.info(AbortSignal.timeout(60_000));
  }

  /**
   * Turns on a hand from an imported file after the user reviewed it: attached again by the user
   * (detached and attached in one commit), so the log says who approved what and forks inherit it.
   * `attachedSeq` must name the attach event the user saw, so a different configuration is never
   * approved by mistake.
   */
  approve(sessionId: string, name: string, attachedSeq: number): HandStatus[] {
    const spec = this.specs(sessionId).find((existing) => existing.name === name);
    if (!spec) throw new AppError('not-found', `This session has no hand named "${name}".`);
    if (!spec.pending) throw new AppError('conflict', `The hand "${name}" is not waiting for review: it is already yours to use.`);
    if (spec.attachedSeq !== attachedSeq) {
      throw new AppError(
        'conflict',
        `The hand "${name}" changed since it was shown (it is now event ${spec.attachedSeq}, not ${attachedSeq}). Review it again before turning it on.`,
      );
    }
    // Approving what an imported server runs is not trusting it: its tools still ask until the user marks it trusted.
    const config = spec.config.kind === 'mcp' ? (({ trusted: _trusted, ...rest }) => rest)(spec.config) : spec.config;
    this.options.store.emitEvents(sessionId, [
      { type: 'hand.detached', payload: { hand_id: name } },
      { type: 'hand.attached', payload: { hand_id: name, config } },
    ]);
    return this.statuses(sessionId);
  }

  /** MCP servers attached in any session, latest first, one per command or URL (at most `limit`). */
  recentMcpServers(limit = 30): RecentMcpServer[] {
    return recentMcpServers(this.options.store, limit);
  }

  /** Starts an MCP server that is not attached (the "Test" of the attach form), lists its tools and stops it. */
  testMcpServer(config: McpHandConfig, name = 'test'): Promise<McpServerInfo> {
    return testMcpServer(config, name, this.secretResolver(), (message, error) => this.log(message, error));
  }

  /** Removes a hand from the session; its container is removed (its snapshots stay for forks). */
  async detach(sessionId: string, name: string): Promise<HandStatus[]> {
    if (!this.specs(sessionId).some((spec) => spec.name === name)) {
      throw new AppError('not-found', `This session has no hand named "${name}".`);
    }
    this.options.store.emitEvent(sessionId, { type: 'hand.detached', payload: { hand_id: name } });
    const key = `${sessionId}/${name}`;
    const instance = this.instances.get(key);
    this.instances.delete(key);
    await instance?.hand.dispose({ keep: false });
    return this.statuses(sessionId);
  }

  /** After a session is deleted: its containers, snapshot images and the checkpoint blobs only it used go (no fork can need them: forks block deletion). */
  async sessionDeleted(sessionId: string): Promise<void> {
    // A snapshot still being taken would land after the images were removed, and stay: let it finish first.
    await this.settled();
    for (const [key, instance] of [...this.instances]) {
      if (!key.startsWith(`${sessionId}/`)) continue;
      this.instances.delete(key);
      await instance.hand.dispose({ keep: false }).catch((error: unknown) => this.log(`Removing the container of ${key} failed`, error));
    }
    await this.removeLeftovers((labels) => labels[LABELS.session] === sessionId);
    await reclaimBlobs(this.options.store, this.blobs, (message, error) => this.log(message, error)); // the blobs only it used
  }

  /**
   * At start: removes containers a crash (or an expired keep-alive) left, and snapshot images of
   * sessions that no longer exist. Containers kept alive and not yet expired stay, to be reused.
   */
  async cleanUp(): Promise<{ containers: number; images: number }> {
    const kept = readKept(this.options.keepFile);
    const now = Date.now();
    const sessions = new Set(this.options.store.listSessions().map((session) => session.id));
    return this.removeLeftovers((labels, id) => {
      const session = labels[LABELS.session] ?? '';
      if (id === undefined) return !sessions.has(session); // an image: kept while its session exists
      const until = kept[id];
      return !sessions.has(session) || until === undefined || Date.parse(until) <= now;
    });
  }

  /**
   * Refuses, before a session or a hand is made, Docker hands whose image is neither on this
   * machine nor pullable (one inspect per image when it is here). Other hands pass.
   */
  async checkImages(hands: ReadonlyArray<{ config: HandImage }>): Promise<void> {
    const images = imagesCheckedHere(hands); // a hand on another engine has its image checked there, when it starts
    const reasons = await Promise.all(images.map((image) => this.options.docker.imageUnavailableReason(image)));
    const refused = reasons.filter((reason) => reason !== null);
    if (refused.length > 0) throw new AppError('invalid-argument', refused.join('\n'));
  }

  dockerUnavailableReason(): Promise<string | null> {
    return this.options.docker.unavailableReason();
  }

  /** Waits for the checkpoints of answered tool calls and the snapshots of turns that have ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.turnEnds.size > 0) await Promise.allSettled([...this.turnEnds]);
  }

  /** At quit: removes every container, or keeps them running for `keepAliveMs` to be reused by the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.threads.close();
    await this.settled();
    const keep = (this.options.keepAliveMs ?? 0) > 0;
    const keptIds: Record<string, string> = {};
    const until = new Date(Date.now() + (this.options.keepAliveMs ?? 0)).toISOString();
    await Promise.allSettled(
      [...this.instances.values()].map(async ({ hand }) => {
        const container = hand.status().container;
        await hand.dispose({ keep });
        if (keep && container && hand instanceof DockerHand) keptIds[container] = until;
      }),
    );
    this.instances.clear();
    if (keep) writeKept(this.options.keepFile, keptIds, (message, error) => this.log(message, error));
    if (!this.options.gitProxy) await this.gitProxy.close();
    this.options.engines?.close();
  }

  // ------------------------------------------------------------------------------- internals

  /** At most one hand of a session offers Managed Agents' toolset: its tools have no hand name to tell two apart. */
  private checkToolset(sessionId: string, spec: HandSpec): void {
    if (!hasToolset(spec)) return;
    const other = this.specs(sessionId).find((existing) => existing.name !== spec.name && hasToolset(existing));
    if (other) {
      throw new AppError(
        'conflict',
        `The hand "${other.name}" already offers the agent toolset (bash, read, write, edit, glob, grep) in this session, and its tools go by those names alone, so a second hand cannot offer them too. Attach "${spec.name}" without the toolset (its tools are then ${spec.name}__bash and ${spec.name}__editor), or detach "${other.name}" first.`,
      );
    }
  }

  private instance(sessionId: string, spec: HandSpec & { attachedSeq: number }): ManagedHand {
    const key = `${sessionId}/${spec.name}`;
    const existing = this.instances.get(key);
    if (existing && existing.attachedSeq === spec.attachedSeq) return existing.hand;
    if (existing)
      void existing.hand.dispose({ keep: false }).catch((error: unknown) => this.log(`Removing the container of ${key} failed`, error));
    const made = makeHand(this.making(), sessionId, spec);
    this.instances.set(key, { ...made, attachedSeq: spec.attachedSeq });
    return made.hand;
  }

  /** What making a hand (or a thread's copy of one: thread-access.ts) needs from the registry. */
  private making(): HandMaking {
    const { store, docker, engines, onProgress } = this.options;
    return {
      store,
      docker,
      ...(engines ? { engines } : {}),
      ...(onProgress ? { onProgress } : {}),
      blobs: this.options.checkpoints === false ? null : this.blobs,
      gitProxy: this.gitProxy,
      knownHosts: this.knownHosts,
      secrets: this.secretResolver(),
      vault: this.options.secrets !== undefined,
      restoreSource: (sessionId, name, attachedSeq) => this.restoreSource(sessionId, name, attachedSeq),
      log: (message, error) => this.log(message, error),
    };
  }

  /**
   * The engine a session's Docker hand's container and images are on (issue 22): the one it runs
   * on; before a routed hand has picked, the engine it names, else this computer's (engine-routing.ts).
   * The changes view, one-file restore, files-only rewinds and Settings → Storage reach the hand there.
   */
  handEngine(sessionId: string, name: string): DockerEngine {
    if (!this.instances.has(`${sessionId}/${name}`)) this.statuses(sessionId);
    return engineNow(this.instances.get(`${sessionId}/${name}`)?.engine, this.options);
  }

  /** The engines on other machines live Docker hands run on, once each (Settings → Storage measures them too). */
  remoteHandEngines(): DockerEngine[] {
    const engines = new Map<unknown, DockerEngine>();
    for (const { engine } of this.instances.values()) if (engine?.remote) engines.set(engine.remote, engine);
    return [...engines.values()];
  }

  /**
   * The checkpoint or snapshot a new container of this hand starts from: the session's own latest,
   * else the latest its parent recorded at or before the fork point (and so on up), never one older
   * than the hand's attachment (see checkpoints/hand-checkpoints.ts).
   */
  async restoreSource(sessionId: string, name: string, attachedSeq: number): Promise<RestoreSource | null> {
    await this.settled(); // a parent's checkpoint or snapshot may still be in progress
    return findRestoreSource(this.options.store, sessionId, name, attachedSeq);
  }

  /** The session's hand by name, made if need be (a terminal opens on it); null: none by that name, or one awaiting review. */
  liveHand(sessionId: string, name: string): ManagedHand | null {
    const spec = this.specs(sessionId).find((candidate) => candidate.name === name && !candidate.pending);
    return spec ? this.instance(sessionId, spec) : null;
  }

  /** The live SSH hand of a session by name (one-file restore and files-only rewinds reach its folder through it), or null. */
  sshHand(sessionId: string, name: string): SshHand | null {
    const hand = this.instances.get(`${sessionId}/${name}`)?.hand;
    return hand instanceof SshHand ? hand : null;
  }

  /** The hand a tool use of an earlier process (approved since, say) was addressed to, from the log; null: none. */
  private handOfToolUse(sessionId: string, toolUseId: string): string | null {
    const uses = this.options.store.getEvents(sessionId, { types: ['agent.tool_use'], direction: 'backward', limit: 1000 });
    const use = uses.find((event) => event.type === 'agent.tool_use' && event.payload.tool_use_id === toolUseId);
    if (use?.type !== 'agent.tool_use' || use.payload.hand_id === undefined) return null;
    return `${sessionId}/${this.threads.runsOn(sessionId, use.payload.session_thread_id, use.payload.hand_id)}`;
  }

  /** Keeps track of a hand's background work (checkpoint, snapshot) until it settles; `settled()` waits for it. */
  private track(work: Promise<void>, what: string): void {
    const done = work.catch((error: unknown) => this.log(`${what} failed`, error));
    this.turnEnds.add(done);
    void done.finally(() => this.turnEnds.delete(done));
  }

  /** The verification command of the outcome in force, when that outcome came from an imported file. */
  private importedVerification(sessionId: string): { hand_id: string; command: string } | null {
    const importedSeq = this.options.store.getSession(sessionId).importedSeq ?? 0;
    const [latest] = this.options.store.getEvents(sessionId, { types: ['user.define_outcome'], direction: 'backward', limit: 1 });
    if (latest?.type !== 'user.define_outcome' || latest.seq > importedSeq) return null;
    return latest.payload.verification ?? null;
  }

  /** Removes this data folder's containers and snapshot images that `doomed` picks, on this computer's engine and each of Settings → Engines (docker/leftovers.ts). */
  private removeLeftovers(doomed: Doomed): Promise<{ containers: number; images: number }> {
    const engines = [this.options.docker, ...(this.options.engines?.remotes() ?? [])];
    return removeLeftovers(engines, doomed, (message, error) => this.log(message, error));
  }

  private secretResolver(): SecretResolver {
    return (
      this.options.secrets ?? {
        reveal: () =>
          Promise.reject(
            new AppError('vault-unavailable', 'This Drover has no vault, so the secrets this MCP server needs cannot be read.'),
          ),
      }
    );
  }

  private log(message: string, error?: unknown): void {
    (this.options.log ?? ((m: string, e?: unknown) => console.error(m, e)))(message, error);
  }
}

function pendingError(name: string): AppError {
  return new AppError(
    'conflict',
    `The hand "${name}" came from an imported file and is off until you review it. Check what it would run in the hands panel and turn it on there first.`,
  );
}

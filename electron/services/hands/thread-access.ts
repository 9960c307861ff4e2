/**
 * Passing hands between threads (issue 21): which of the session's hands a thread holds and how,
 * and the live hand each holder's calls run on. Who holds what is a fold of the log
 * (shared/hand-holders.ts over `hand.thread_access`), so a new process after a SIGKILL finds every
 * holder and every copy again; nothing here is a decision kept in memory.
 *
 * - shared: the thread's calls go to the session's hand itself. A Docker or SSH hand runs one call at
 *   a time (shell-hand.ts's queue: one shell, one machine), so calls from several threads are
 *   serialised there; an MCP server takes concurrent calls (JSON-RPC requests carry ids, the server
 *   decides how to interleave them), as it does for one thread.
 * - read_only: Docker — a copy (`box~a1b2`) in its own container with a read-only root filesystem,
 *   made from the hand's files at the grant (read-only-image.ts), writes failing with EROFS; MCP —
 *   the same server, offering only the tools the user did not mark as changing files (`writing_tools`);
 *   SSH — refused (one machine, nothing can make it read-only).
 * - fresh: Docker — a copy in its own container started from the hand's latest checkpoint at the
 *   grant (the fork restore path of issue 20), checkpointed after its own calls; SSH and MCP — refused.
 *
 * A copy is removed when its thread returns it or ends (or the hand is detached); its container
 * carries the session's labels, so a start after a crash removes a leftover, and the next call
 * re-makes it from the recorded checkpoints (its own after the grant, else the original's at it).
 */
import type { StoredEvent } from '#shared/events';
import { handHolders, isCopyName, type HandHolding } from '#shared/hand-holders';
import type { HandHolder, HandSpec } from '#shared/hands';
import type { HandAccessMode } from '#shared/threads';
import { findRestoreSource, type RestoreSource } from '#services/checkpoints/hand-checkpoints';
import type { SessionStore } from '#services/session/store';
import type { DockerEngine } from './docker/engine.ts';
import { readOnlyImage } from './docker/read-only-image.ts';
import type { Hand, ManagedHand, ThreadHandAccess } from './hand.ts';
import { McpHand } from './mcp/mcp-hand.ts';
import { hasToolset, makeHand, qualify, type HandMaking } from './registry-make.ts';

/** The events the holders are folded from. */
const FOLDED: ReadonlySet<StoredEvent['type']> = new Set([
  'session.thread_created',
  'hand.thread_access',
  'session.thread_status_terminated',
  'hand.detached',
]);

type Spec = HandSpec & { attachedSeq: number; pending: boolean };

/** What thread access needs from the registry. */
export interface ThreadAccessHost {
  store: SessionStore;
  /** The registry's live hands by `<session>/<name>`: copies are kept there too (checkpoints, turn ends, quit, deletion). */
  instances: Map<string, { hand: ManagedHand; attachedSeq: number; engine?: DockerEngine }>;
  specs(sessionId: string): Spec[];
  /** The session's own live hand for an attached hand. */
  instance(sessionId: string, spec: Spec): ManagedHand;
  making(): HandMaking;
  settled(): Promise<void>;
  /** Background work (a copy's removal) that `settled()` — and so the quit — waits for. */
  track?(work: Promise<void>, what: string): void;
  log(message: string, error?: unknown): void;
}

export class ThreadAccess {
  /** Each session's holders, folded from its log; dropped when one of the folded events is recorded. */
  private readonly folds = new Map<string, HandHolding[]>();
  /** Read-only copies' images, by `<session>/<copy>`: removed with the copy. */
  private readonly images = new Map<string, { engine: DockerEngine; image: string }>();
  private readonly unsubscribe: () => void;

  constructor(private readonly host: ThreadAccessHost) {
    this.unsubscribe = host.store.subscribeAll((sessionId, event) => {
      if (!FOLDED.has(event.type)) return;
      this.folds.delete(sessionId);
      // A thread that returns a hand, or ends, or a hand detached: the copies no one holds any more go.
      if (event.type === 'hand.thread_access' ? event.payload.action === 'returned' : event.type !== 'session.thread_created') {
        this.removeUnheld(sessionId);
      }
    });
  }

  /** Who holds which hand of the session now. */
  holdings(sessionId: string): HandHolding[] {
    let fold = this.folds.get(sessionId);
    if (!fold) {
      fold = handHolders(this.readFolded(sessionId));
      this.folds.set(sessionId, fold);
    }
    return fold;
  }

  /** The live hand a thread's call on `hand` runs on (`threadId` absent: the primary, which holds every hand itself). */
  runsOn(sessionId: string, threadId: string | undefined, hand: string): string {
    if (threadId === undefined) return hand;
    return this.holding(sessionId, threadId, hand)?.runsOn ?? hand;
  }

  /** What the registry's hand for `spec` says to threads (hand.ts's ThreadHandAccess). */
  access(sessionId: string, spec: Spec): ThreadHandAccess {
    return {
      holdings: () => this.holdings(sessionId),
      refusal: (mode, grantor) => this.refusal(sessionId, spec, mode, grantor),
      forThread: (threadId) => this.forThread(sessionId, threadId, spec.name),
    };
  }

  /** The threads holding `hand`, for the hands panel: how, and each copy's state. */
  holders(sessionId: string, hand: string): HandHolder[] {
    return this.holdings(sessionId)
      .filter((holding) => holding.hand === hand)
      .map((holding) => {
        const live = holding.copy === null ? undefined : this.host.instances.get(`${sessionId}/${holding.copy}`)?.hand.status();
        const idle = { state: 'idle' as const, detail: 'Starts on the thread’s first tool call on it.', container: null };
        return {
          session_thread_id: holding.session_thread_id,
          agent_name: holding.agent_name,
          mode: holding.mode,
          copy: holding.copy === null ? null : { name: holding.copy, ...(live ?? idle) },
        };
      });
  }

  close(): void {
    this.unsubscribe();
  }

  // ------------------------------------------------------------------------------- internals

  private holding(sessionId: string, threadId: string, hand: string): HandHolding | undefined {
    return this.holdings(sessionId).find((holding) => holding.session_thread_id === threadId && holding.hand === hand);
  }

  /** Why `spec` cannot be passed in `mode`, in words for the model; null when it can. */
  private refusal(sessionId: string, spec: Spec, mode: HandAccessMode, grantor: string | null): string | null {
    const name = spec.name;
    if (spec.pending) return `${name} came from an imported file and is off until the user reviews it; it cannot be passed on.`;
    const held = grantor === null ? null : this.holding(sessionId, grantor, name);
    if (grantor !== null && !held) return `You do not hold ${name}, so you cannot pass it on.`;
    if (held?.mode === 'read_only' && mode !== 'read_only') return `You hold ${name} read-only: pass it read_only or not at all.`;
    const kind = spec.config.kind;
    if (kind === 'ssh' && mode !== 'shared') {
      return mode === 'read_only'
        ? `read-only is not possible on an SSH machine (${name}); pass it shared or not at all.`
        : `a fresh copy is not possible on an SSH machine (${name}): it is one computer. Pass it shared, or not at all.`;
    }
    if (kind === 'mcp' && mode === 'fresh') {
      return `a fresh copy of the MCP server ${name} is not offered: pass it shared (it takes calls at once) or read_only (only the tools not marked as changing files).`;
    }
    if (spec.config.kind === 'docker' && mode === 'read_only' && spec.config.repos.length > 0) {
      return `read-only is not possible on ${name}: its git repositories need Drover to write their remote settings in the container. Pass it shared or fresh.`;
    }
    return null;
  }

  /** The hand thread `threadId`'s calls on `name` run on; null when it does not hold it. */
  private forThread(sessionId: string, threadId: string, name: string): Hand | null {
    const holding = this.holding(sessionId, threadId, name);
    const spec = this.host.specs(sessionId).find((candidate) => candidate.name === name && !candidate.pending);
    if (!holding || !spec) return null;
    const live = this.live(sessionId, spec, holding.runsOn);
    if (!live) return null;
    const readOnlyMcp = holding.mode === 'read_only' && live instanceof McpHand;
    const hand = qualify(name, live, hasToolset(spec), readOnlyMcp ? (tool) => !writes(live, tool) : undefined);
    return isCopyName(holding.runsOn) ? { ...hand, runsOn: holding.runsOn } : hand;
  }

  /** The live hand named `runsOn`: the session's own, or a thread's copy of it (made on first use). */
  private live(sessionId: string, spec: Spec, runsOn: string): ManagedHand | null {
    if (!isCopyName(runsOn)) return this.host.instance(sessionId, spec);
    const existing = this.host.instances.get(`${sessionId}/${runsOn}`);
    if (existing) return existing.hand;
    const holding = this.holdings(sessionId).find((candidate) => candidate.copy === runsOn);
    if (!holding) return null;
    const readOnly = holding.mode === 'read_only';
    const made = makeHand(this.host.making(), sessionId, spec, {
      name: runsOn,
      readOnly,
      restoreSource: async () => {
        await this.host.settled(); // the original's checkpoint of its last call may still be being taken
        const source = this.copySource(sessionId, holding);
        return readOnly ? this.readOnlySource(sessionId, runsOn, source, made.engine) : source;
      },
    });
    this.host.instances.set(`${sessionId}/${runsOn}`, { ...made, attachedSeq: holding.grantedSeq });
    return made.hand;
  }

  /** Where a copy's files start: its own latest checkpoint since the grant, else what it was made from, as it was at the grant. */
  private copySource(sessionId: string, holding: HandHolding): RestoreSource | null {
    const own = holding.copy === null ? null : findRestoreSource(this.host.store, sessionId, holding.copy, holding.grantedSeq);
    return own ?? this.sourceAt(sessionId, holding.source, holding.grantedSeq);
  }

  /** The files of the live hand `name` (the session's, or a copy) as of event `upTo`. */
  private sourceAt(sessionId: string, name: string, upTo: number): RestoreSource | null {
    if (!isCopyName(name)) {
      const spec = this.host.specs(sessionId).find((candidate) => candidate.name === name);
      return spec ? findRestoreSource(this.host.store, sessionId, name, spec.attachedSeq, upTo) : null;
    }
    const holding = handHolders(this.readFolded(sessionId), upTo).find((candidate) => candidate.copy === name);
    if (!holding) return null;
    return (
      findRestoreSource(this.host.store, sessionId, name, holding.grantedSeq, upTo) ??
      this.sourceAt(sessionId, holding.source, holding.grantedSeq)
    );
  }

  /** A read-only container cannot take a checkpoint's files once running: they go into an image first. */
  private async readOnlySource(
    sessionId: string,
    copy: string,
    source: RestoreSource | null,
    engine: DockerEngine | undefined,
  ): Promise<RestoreSource | null> {
    const blobs = this.host.making().blobs;
    if (source?.kind !== 'checkpoint') return source;
    if (!engine || !blobs) return null;
    const made = await readOnlyImage(engine, blobs, { sessionId, name: copy }, source, (message, error) => this.host.log(message, error));
    this.images.set(`${sessionId}/${copy}`, { engine, image: made.image });
    return made;
  }

  /** Removes the session's copies no thread holds any more (returned, its thread ended, or the hand detached). */
  private removeUnheld(sessionId: string): void {
    const held = new Set(this.holdings(sessionId).flatMap((holding) => (holding.copy === null ? [] : [holding.copy])));
    for (const [key, instance] of [...this.host.instances]) {
      const name = key.slice(sessionId.length + 1);
      if (!key.startsWith(`${sessionId}/`) || !isCopyName(name) || held.has(name)) continue;
      this.host.instances.delete(key);
      const image = this.images.get(key);
      this.images.delete(key);
      // Its last call's checkpoint is taken first: a fork at an event while the thread held it restores the copy from it.
      // Tracked, so a quit right after the thread's end waits for it (else the copy's container outlives the process).
      const removal = Promise.resolve(instance.hand.drained?.())
        .then(() => instance.hand.dispose({ keep: false }))
        .then(async () => {
          await image?.engine.docker.getImage(image.image).remove({ force: true });
        });
      if (this.host.track) this.host.track(removal, `Removing the thread's copy ${key}`);
      else void removal.catch((error: unknown) => this.host.log(`Removing the thread's copy ${key} failed`, error));
    }
  }

  private readFolded(sessionId: string): StoredEvent[] {
    const out: StoredEvent[] = [];
    const limit = 10_000;
    for (let after = 0; ;) {
      const page = this.host.store.getEvents(sessionId, { afterSeq: after, limit, types: [...FOLDED] });
      out.push(...page);
      if (page.length < limit) return out;
      after = (page.at(-1) as StoredEvent).seq;
    }
  }
}

/** Whether the MCP server's tool offered as `exposed` is one the user marked as changing files. */
function writes(server: McpHand, exposed: string): boolean {
  return server.config.writing_tools?.includes(server.serverToolName(exposed) ?? exposed) ?? false;
}

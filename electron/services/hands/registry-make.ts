/**
 * Making the live hand behind an attached hand (for the registry, registry.ts): an SSH machine,
 * an MCP server or a Docker container, wired to the session's log, its checkpoints and the git
 * proxy — and, for a thread (issue 21), a copy of one under its own name (`box~a1b2`) that
 * starts from the original's checkpoint (a fresh copy), or a read-only container of it.
 *
 * Also the hand as the model sees it (`qualify`): each tool named `<hand>__<tool>`.
 */
import type { HandSpec } from '#shared/hands';
import { qualifiedToolName } from '#shared/hands';
import type { NewEvent } from '#shared/events';
import type { GitProxy } from '#services/git/proxy';
import type { SessionStore } from '#services/session/store';
import type { SecretResolver } from '#services/vault/resolver';
import type { BlobStore } from '#services/checkpoints/blob-store';
import { keptCheckpoint, type RestoreSource } from '#services/checkpoints/hand-checkpoints';
import { DockerHand } from './docker/docker-hand.ts';
import type { DockerEngine } from './docker/engine.ts';
import { engineForHand } from './docker/engine-routing.ts';
import type { EnginePool } from '#services/engines/engine-pool';
import type { HandProgress } from '#shared/hands';
import type { Hand, ManagedHand } from './hand.ts';
import { McpHand } from './mcp/mcp-hand.ts';
import type { KnownHosts } from './ssh/known-hosts.ts';
import { SshHand } from './ssh/ssh-hand.ts';

/** What making a hand needs from the registry. */
export interface HandMaking {
  store: SessionStore;
  docker: DockerEngine;
  engines?: EnginePool;
  onProgress?: (sessionId: string, progress: HandProgress) => void;
  /** Where checkpoints' blobs go; null: no checkpoints (turn-end snapshots only). */
  blobs: BlobStore | null;
  gitProxy: GitProxy;
  knownHosts: KnownHosts;
  secrets: SecretResolver;
  /** Whether `secrets` is a real vault (a Docker hand's repositories' tokens need one). */
  vault: boolean;
  restoreSource(sessionId: string, name: string, attachedSeq: number): Promise<RestoreSource | null>;
  log(message: string, error?: unknown): void;
}

/** A thread's own copy of a hand (issue 21): its name, where its files start, and whether it refuses writes. */
export interface HandCopy {
  /** `box~a1b2`: what its events, container labels and checkpoints are recorded under. */
  name: string;
  restoreSource(): Promise<RestoreSource | null>;
  /** A Docker container with a read-only root filesystem (tmpfs /tmp), no checkpoints. */
  readOnly: boolean;
}

export interface MadeHand {
  hand: ManagedHand;
  /** A Docker hand's engine. */
  engine?: DockerEngine;
}

/** The live hand for an attached hand of a session (`copy`: a thread's copy of it instead). */
export function makeHand(making: HandMaking, sessionId: string, spec: HandSpec & { attachedSeq: number }, copy?: HandCopy): MadeHand {
  const config = spec.config;
  const name = copy?.name ?? spec.name;
  const record = (event: NewEvent): void => {
    try {
      making.store.emitEvent(sessionId, event);
    } catch (error) {
      making.log(`Session ${sessionId}: could not record ${event.type}`, error);
    }
  };
  const progress = (update: HandProgress): void => making.onProgress?.(sessionId, update);
  const log = (message: string, error?: unknown): void => making.log(message, error);
  const restoreSource = copy ? () => copy.restoreSource() : () => making.restoreSource(sessionId, spec.name, spec.attachedSeq);
  if (config.kind === 'ssh') {
    const hand = new SshHand(
      { sessionId, name, config },
      // Checkpoints of its working folder (ssh-checkpoints.ts), or turn-end snapshots of older logs.
      { record, progress, log, restoreSource, lastSeq: () => making.store.getSession(sessionId).lastSeq },
      { knownHosts: making.knownHosts, ...(making.vault ? { secrets: making.secrets } : {}) },
      undefined,
      making.blobs ?? undefined,
    );
    return { hand };
  }
  if (config.kind === 'mcp') return { hand: new McpHand({ sessionId, name, config }, { record, progress, log }, making.secrets) };
  const engine = engineForHand(making, name, config, (message) => {
    record({ type: 'hand.provisioning', payload: { hand_id: name, phase: 'connecting', message } });
    progress({ hand_id: name, phase: 'connecting', message });
  });
  // A read-only copy's bind mounts are read-only too: the user's folders must not change through it.
  const shown = copy?.readOnly ? { ...config, mounts: config.mounts.map((mount) => ({ ...mount, read_only: true })) } : config;
  const blobs = copy?.readOnly ? null : making.blobs;
  const hand = new DockerHand(
    engine,
    { sessionId, name, config: shown },
    {
      record,
      progress,
      restoreSource,
      keptCheckpoint: (container, image) => keptCheckpoint(making.store, sessionId, name, container, image),
      log,
    },
    {
      gitProxy: making.gitProxy,
      ...(blobs ? { blobs } : {}),
      ...(making.vault ? { secrets: making.secrets } : {}),
      ...(copy?.readOnly ? { readOnly: true } : {}),
    },
  );
  return { hand, engine };
}

/** Whether the hand offers Managed Agents' toolset, whose tools the model sees unprefixed (`bash`, `read`, …). */
export function hasToolset(spec: HandSpec): boolean {
  return spec.config.kind === 'docker' && spec.config.toolset !== undefined;
}

/**
 * The hand as the model sees it: each tool named `<hand>__<tool>` (`unprefixed`: the toolset's
 * tools, as they are). `only`: the hand's own tool names offered (the rest are refused) — an MCP
 * server held read-only offers only the tools not marked as changing files.
 */
export function qualify(name: string, hand: ManagedHand, unprefixed = false, only?: (tool: string) => boolean): Hand {
  const prefix = unprefixed ? '' : qualifiedToolName(name, '');
  const own = (tool: string): string => (tool.startsWith(prefix) ? tool.slice(prefix.length) : tool);
  return {
    id: name,
    ...(hand instanceof McpHand ? { kind: 'mcp' as const } : {}),
    concurrent: hand.concurrent,
    tools: () =>
      hand
        .tools()
        .filter((tool) => only?.(tool.name) ?? true)
        .map((tool) => ({ ...tool, name: prefix + tool.name })),
    ownToolName: (tool) => (hand instanceof McpHand ? (hand.serverToolName(own(tool)) ?? own(tool)) : own(tool)),
    execute: (tool, input, options) => {
      if (only && !only(own(tool))) {
        return Promise.resolve({
          isError: true,
          content: [
            {
              type: 'text',
              text: `Not run: this thread holds ${name} read-only, and ${own(tool)} is marked as changing files. Ask the thread that started you to do it, or to pass ${name} shared.`,
            },
          ],
        });
      }
      return hand.execute(own(tool), input, options);
    },
  };
}

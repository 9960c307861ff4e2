/**
 * A personal machine over SSH as a hand: `bash` (a persistent shell) and `editor` (the text
 * editor tool, over SFTP) on the user's own computer, connected lazily on the first call. The
 * tools, the queue and the hand's state are a shell hand's (shell-hand.ts); this file is the
 * connection's side: connecting, opening shells, file snapshots in a shadow store, and telling a
 * dropped connection from a shell's `exit`.
 *
 * The machine is not cattle — its files are the user's — but the connection is: when it drops,
 * the command in flight is a tool error with its output so far (`hand.lost` in the log), and the
 * next call reconnects. Everything the hand does runs one at a time. Secrets stay in the main
 * process (ssh2's authentication); nothing here puts one on the machine or in a result. A call
 * refused before it reached the machine (a host key not trusted) must never say it ran.
 */
import { createHash } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { AppError } from '#shared/errors';
import type { HandProgress, SshHandConfig } from '#shared/hands';
import { errorText } from '#services/hands/bash-tool';
import type { PersistentShell } from '#services/hands/shell';
import type { BlobStore } from '#services/checkpoints/blob-store';
import type { RestoreSource } from '#services/checkpoints/hand-checkpoints';
import type { RemoteExec } from '#services/checkpoints/ssh-capture';
import {
  ShellHand,
  type Exclusive,
  type ShellHandHooks,
  type ShellHandWords,
  type ShellTransport,
  type StartedMachine,
} from '#services/hands/shell-hand';
import { endpointName, SshConnectError, type SshConnection, type SshDeps } from './connection.ts';
import { SshLink } from './link.ts';
import { SftpFiles } from './sftp-files.ts';
import { ShadowSnapshots, type Exec } from './shadow-git.ts';
import { SshCheckpoints, type SshFilesRestore } from './ssh-checkpoints.ts';

/** Where a fork's or rewind's files start from: the registry finds it up the fork tree. */
export type SshSnapshotSource = RestoreSource;

const SNAPSHOT_PREFIX = 'git:';

export interface SshHandHooks extends ShellHandHooks {
  /** Live provisioning progress (not stored). */
  progress(progress: HandProgress): void;
  /** The checkpoint or snapshot this session's files should start from (a fork's parent's), or null. */
  restoreSource?(): Promise<SshSnapshotSource | null>;
  /** The session's last seq now (checkpoints recorded outside a tool call get the next). */
  lastSeq?(): number;
}

export interface SshHandIdentity {
  sessionId: string;
  name: string;
  config: SshHandConfig;
}

/** A machine over SSH as a hand: a shell hand (shell-hand.ts) whose machine is reached over one SSH connection. */
export class SshHand extends ShellHand {
  constructor(
    identity: SshHandIdentity,
    hooks: SshHandHooks,
    deps: SshDeps,
    /** Reconnection backoff (tests shorten it). */
    backoffMs?: readonly number[],
    /** Where checkpoints keep their files; without it only turn-end shadow-git snapshots are kept. */
    blobs?: BlobStore,
  ) {
    const transport = new SshTransport(identity, hooks, deps, backoffMs, blobs);
    super(identity, hooks, transport);
    this.sshTransport = transport;
  }

  private readonly sshTransport: SshTransport;

  /** The `base` of this hand's checkpoints (`ssh:user@host:port:/folder`), or null while none are taken. */
  get checkpointBase(): string | null {
    return this.sshTransport.checkpoints?.base ?? null;
  }

  /** A person's terminal on the machine (issue 23): connects first if need be (one connection, shared with the tools). */
  async openTerminal(size: { cols: number; rows: number }, signal: AbortSignal): Promise<ClientChannel> {
    await this.provision(signal);
    return this.sshTransport.openPty(size);
  }

  /** Puts the working folder (or one path in it) back as a checkpoint has it, and records the result (one-file restore, files-only rewind). */
  restoreFiles(request: SshFilesRestore): Promise<{ changed: boolean }> {
    const checkpoints = this.sshTransport.checkpoints;
    if (!checkpoints?.active) {
      return Promise.reject(
        new AppError(
          'conflict',
          'This SSH hand takes no checkpoints now (not connected yet, file snapshots off, or the machine lacks the tools): send a message so it connects, then try again.',
        ),
      );
    }
    return checkpoints.restore(request);
  }
}

/** How an SSH hand reaches its machine: connects, opens shells, reads files over SFTP, keeps snapshots, and tells a dropped connection. */
class SshTransport implements ShellTransport {
  readonly checksIdleShellEnd = false;
  readonly reopensAtStart = true;
  readonly files: SftpFiles;
  private readonly link: SshLink;
  /** The connection the shell and the ready state belong to. */
  private connection: SshConnection | null = null;
  /** The working folder's shadow store (null: snapshots off, or not set up yet / impossible). */
  private shadow: ShadowSnapshots | null = null;
  /** Why this machine takes no per-call checkpoints (a tool missing), once known. */
  private noCheckpoints: string | null = null;
  /** Why this machine's files are not snapshotted, once known. */
  private noSnapshots: string | null = null;
  /** Per-call checkpoints of the working folder (null: no blob store given); `active` once the machine takes them. */
  readonly checkpoints: SshCheckpoints | null;
  /** Whether a fork's files were put back already (once per hand). */
  private restoreChecked = false;
  /** A tool ran since the last turn end (only then is a snapshot worth taking). */
  private ranThisTurn = false;

  readonly words: ShellHandWords = {
    idle: 'Connects on the first tool call.',
    machine: 'connection',
    starting: () => `${this.connectingTo()}…`,
    failed: (message) => `Could not connect: ${message}`,
    lostEvent: (reason) => `the SSH connection to ${this.machine} dropped: ${reason}`,
    lostDetail: (reason) => `Lost the connection to ${this.machine} (${reason}). The next tool call reconnects.`,
    lostNote: (reason, started) =>
      started
        ? `Note: the previous SSH connection dropped (${reason}); this ran on a new connection.`
        : `Note: the previous SSH connection dropped (${reason}), and reconnecting failed.`,
    lostResult: (reason, result, notes) => {
      const output = result ? `\nOutput so far:\n${result.output === '' ? '(no output)' : result.output.replace(/\n$/, '')}` : '';
      return errorText(
        [
          ...notes,
          `${result ? 'The command was interrupted by the dropped connection' : 'The edit failed: the connection dropped'} to ${this.machine} (${reason}); it may or may not have finished on the machine.${output}`,
          `The next call reconnects, in a new shell (variables set earlier are gone).`,
        ].join('\n'),
      );
    },
    // Nothing ran: `what` ('The command', 'The edit') was refused before it reached the machine.
    unavailable: (error, notes, what) => {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof SshConnectError && (error.reason === 'host-changed' || error.reason === 'host-unknown')) {
        // Not a passing fault: every call fails the same way until the user decides about the key.
        const why = error.reason === 'host-changed' ? 'changed since you trusted it' : 'not trusted yet';
        return errorText(
          [
            ...notes,
            `${what} did not run: the host key of ${this.machine} ${why}, so Drover did not log in.`,
            message,
            'Calls to this hand fail the same way until the user does that: tell the user.',
          ].join('\n'),
        );
      }
      return errorText(
        [
          ...notes,
          `Could not connect to ${this.machine} for this hand: ${message}`,
          `${what} did not run; the next call tries again.`,
        ].join('\n'),
      );
    },
  };

  constructor(
    private readonly identity: SshHandIdentity,
    private readonly hooks: SshHandHooks,
    deps: SshDeps,
    backoffMs?: readonly number[],
    blobs?: BlobStore,
  ) {
    this.link = new SshLink(identity.config, deps, backoffMs);
    this.checkpoints =
      blobs && identity.config.snapshots
        ? new SshCheckpoints(
            blobs,
            { sessionId: identity.sessionId, name: identity.name, machine: endpointName(identity.config) },
            {
              record: (event) => hooks.record(event),
              log: (message, error) => hooks.log(message, error),
              lastSeq: () => hooks.lastSeq?.() ?? 0,
              restoreSource: async () => (await hooks.restoreSource?.()) ?? null,
            },
          )
        : null;
    this.files = new SftpFiles(async () => {
      if (!this.connection || this.connection.isClosed) throw new Error(`the SSH connection to ${this.machine} is closed`);
      return this.connection.sftp();
    });
  }

  private get config(): SshHandConfig {
    return this.identity.config;
  }

  /** `user@host:port`. */
  private get machine(): string {
    return endpointName(this.config);
  }

  get started(): boolean {
    return this.connection !== null;
  }

  get label(): string {
    return this.machine;
  }

  describe(): { where: string; files: string; shell: string; notes: string[] } {
    const via = this.config.jump ? ` through the jump host ${endpointName(this.config.jump)}` : '';
    const folder = this.config.working_dir
      ? `working directory ${this.config.working_dir}`
      : `working directory: ${this.config.user}'s home folder`;
    const where = `the machine ${this.machine} over SSH${via} (logged in as ${this.config.user}, ${folder})`;
    return {
      where,
      files: `on ${where}`,
      shell: 'bash when the machine has it, else sh',
      notes: ['This is a real computer, not a sandbox: what a command changes there stays changed.'],
    };
  }

  homeDir(shell: PersistentShell): string {
    return shell.workingDir;
  }

  called(): void {
    this.ranThisTurn = true;
  }

  changed(): void {
    this.checkpoints?.changed();
  }

  /** After a tool call answered by event `atSeq`: checkpoints the working folder when the call could have changed it. */
  toolAnswered(atSeq: number, exclusive: Exclusive): Promise<void> {
    const checkpoints = this.checkpoints;
    if (!checkpoints?.active) return Promise.resolve();
    return exclusive(async () => {
      const connection = this.connection;
      if (connection === null || connection.isClosed) return; // the next capture, on the next connection, takes it
      await checkpoints.capture(remoteExec(connection), atSeq);
    });
  }

  /**
   * At a turn end where a tool ran and no per-call checkpoints are taken: records the working folder
   * in the shadow store, so a fork or rewind at this point can put these files back.
   */
  turnEnded(atSeq: number, exclusive: Exclusive): Promise<void> {
    if (!this.config.snapshots || !this.ranThisTurn || this.checkpoints?.active) return Promise.resolve();
    this.ranThisTurn = false;
    return exclusive(async () => {
      const shadow = this.shadow;
      if (shadow === null || this.connection === null || this.connection.isClosed) return;
      const started = performance.now();
      const commit = await shadow.snapshot(
        `Drover session ${this.identity.sessionId}, turn ending at event ${atSeq}`,
        AbortSignal.timeout(120_000),
      );
      if (commit === null) return; // nothing changed: the last snapshot still stands for this point
      const bytes = await shadow.storeBytes();
      this.hooks.record({
        type: 'hand.snapshot',
        payload: {
          hand_id: this.identity.name,
          at_seq: atSeq,
          image: `${SNAPSHOT_PREFIX}${commit}`,
          bytes,
          duration_ms: performance.now() - started,
        },
      });
    });
  }

  dispose(): Promise<void> {
    this.connection = null;
    this.link.close();
    return Promise.resolve();
  }

  openPty(size: { cols: number; rows: number }): Promise<ClientChannel> {
    if (!this.connection || this.connection.isClosed) return Promise.reject(new Error(`not connected to ${this.machine}`));
    return this.connection.openPty(size, this.config.working_dir ?? null);
  }

  openShell(cwd: string | null): Promise<PersistentShell> {
    if (!this.connection) return Promise.reject(new Error(`not connected to ${this.machine}`));
    return this.connection.openShell(cwd ?? this.config.working_dir);
  }

  /** A connection that closed since the last call dropped (its close reason says why), whatever the shell's state. */
  lostBeforeCall(): Promise<string | null> {
    return Promise.resolve(this.connection?.isClosed ? (this.connection.closeReason ?? 'the connection closed') : null);
  }

  /**
   * Why the connection is gone, or null while it works: after a shell ended by itself it is either
   * `exit` (the connection still answers) or a dropped connection.
   */
  async lostAfterFailure(): Promise<string | null> {
    const connection = this.connection;
    if (!connection) return null;
    const settled = await Promise.race([connection.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 300))]);
    if (settled !== null) return settled;
    try {
      await connection.exec('true', { signal: AbortSignal.timeout(10_000) });
      return null;
    } catch (error) {
      connection.close();
      return connection.closeReason ?? (error instanceof Error ? error.message : String(error));
    }
  }

  discard(): void {
    this.connection?.close();
    this.connection = null;
  }

  /** Connects (recording it), opens a shell in the working directory, and prepares file snapshots. */
  async start(signal: AbortSignal): Promise<StartedMachine> {
    const { name } = this.identity;
    const message = this.connectingTo();
    this.hooks.record({ type: 'hand.provisioning', payload: { hand_id: name, phase: 'connecting', message } });
    this.hooks.progress({ hand_id: name, phase: 'connecting', message });
    try {
      this.connection = await this.link.get({ signal });
      const shell = await this.connection.openShell(this.config.working_dir);
      const files = await this.prepareSnapshots(this.connection, shell.workingDir, signal);
      const detail = `Connected to ${this.machine}${this.via()}; commands run in ${shell.workingDir} (${shell.flavour}).${files.note === null ? '' : ` ${files.note}`}`;
      return {
        detail,
        ready: {
          container: this.machine,
          ...(files.restored === null ? {} : { restored_from: { session_id: files.restored.sessionId, at_seq: files.restored.atSeq } }),
        },
        shell,
      };
    } catch (error) {
      this.connection?.close();
      this.connection = null;
      throw error;
    }
  }

  private via(): string {
    return this.config.jump ? ` through ${endpointName(this.config.jump)}` : '';
  }

  private connectingTo(): string {
    return `Connecting to ${this.machine}${this.via()}`;
  }

  /**
   * Prepares what keeps the folder's files for forks and rewinds: per-call checkpoints when there is
   * a blob store and the machine has the tools (ssh-checkpoints.ts), else turn-end snapshots in a
   * shadow git store. A fork's or rewind's hand whose parent kept turn-end snapshots (older logs)
   * gets those files back first; checkpoints then start from them.
   */
  private async prepareSnapshots(
    connection: SshConnection,
    workDir: string,
    signal: AbortSignal,
  ): Promise<{ note: string | null; restored: { sessionId: string; atSeq: number } | null }> {
    if (!this.config.snapshots) {
      return { note: 'File snapshots are off: forks and rewinds see this machine’s files as they are now.', restored: null };
    }
    const checkpoints = this.checkpoints;
    if (checkpoints !== null && this.noCheckpoints === null && !checkpoints.active) {
      this.noCheckpoints = await checkpoints.unavailable(remoteExec(connection), signal);
    }
    if (checkpoints !== null && this.noCheckpoints === null) {
      const source = checkpoints.active ? null : ((await this.hooks.restoreSource?.()) ?? null);
      const old = source?.kind !== 'checkpoint' && source?.image.startsWith(SNAPSHOT_PREFIX) ? source : null;
      const fromGit = old === null ? null : await this.restoreShadow(connection, workDir, old, signal);
      const prepared = await checkpoints.prepare(remoteExec(connection), workDir, signal);
      if (prepared.declined === undefined) {
        const note = [fromGit?.note ?? null, prepared.note].filter((part): part is string => part !== null).join(' ');
        return { note: note === '' ? null : note, restored: prepared.restored ?? fromGit?.restored ?? null };
      }
      this.noCheckpoints = prepared.declined; // too large: turn-end shadow-git snapshots instead (they skip what .gitignore excludes)
    }
    const note = await this.openShadow(connection, workDir, signal);
    if (note !== null) return { note, restored: null };
    if (this.restoreChecked) return { note: null, restored: null };
    this.restoreChecked = true;
    const source = (await this.hooks.restoreSource?.()) ?? null;
    // Only a parent's snapshot is put back: this session's own files are already where it left them.
    if (
      source === null ||
      source.kind === 'checkpoint' ||
      source.sessionId === this.identity.sessionId ||
      !source.image.startsWith(SNAPSHOT_PREFIX)
    )
      return { note: this.noCheckpoints, restored: null };
    return this.restoreShadow(connection, workDir, source, signal);
  }

  /** Sets up the shadow store (once); a note when it cannot be. */
  private async openShadow(connection: SshConnection, workDir: string, signal: AbortSignal): Promise<string | null> {
    const exec: Exec = async (command, execSignal) => {
      const result = await connection.exec(command, { signal: execSignal ?? signal });
      return { code: result.exitCode, stdout: result.output.toString('utf8'), stderr: '' };
    };
    if (this.shadow === null && this.noSnapshots === null) {
      const home = (await exec('printf %s "$HOME"')).stdout.trim() || '/tmp';
      const key = createHash('sha256')
        .update(
          `${this.machine}
${workDir}
${this.identity.name}`,
        )
        .digest('hex')
        .slice(0, 16);
      const shadow = new ShadowSnapshots(exec, { workDir, storeDir: `${home}/.cache/drover/shadow/${key}.git` });
      this.noSnapshots = await shadow.unavailableReason(signal);
      if (this.noSnapshots === null) this.shadow = shadow;
    }
    if (this.shadow === null) return `${this.noSnapshots ?? 'Snapshots are unavailable.'} Forks and rewinds see the files as they are now.`;
    return null;
  }

  /** Puts a parent's turn-end snapshot (shadow git) back in the folder, once per hand. */
  private async restoreShadow(
    connection: SshConnection,
    workDir: string,
    source: SshSnapshotSource,
    signal: AbortSignal,
  ): Promise<{ note: string | null; restored: { sessionId: string; atSeq: number } | null }> {
    this.restoreChecked = true;
    if (source.sessionId === this.identity.sessionId) return { note: null, restored: null };
    const unavailable = await this.openShadow(connection, workDir, signal);
    if (unavailable !== null || this.shadow === null) return { note: unavailable, restored: null };
    try {
      await this.shadow.restore(source.image.slice(SNAPSHOT_PREFIX.length), signal);
      return {
        note: `Its files were put back as they were at event ${source.atSeq} (this machine’s folder is shared, so the session it was forked from now sees them too).`,
        restored: { sessionId: source.sessionId, atSeq: source.atSeq },
      };
    } catch (error) {
      return {
        note: `Its files could not be put back as they were at event ${source.atSeq}: ${error instanceof Error ? error.message : String(error)}`,
        restored: null,
      };
    }
  }
}

/** The connection's streamed exec, as checkpoints use it. */
function remoteExec(connection: SshConnection): RemoteExec {
  return (command, stdin, signal) => connection.execStream(command, stdin, signal ? { signal } : {});
}

/**
 * A personal machine over SSH as a hand: `bash` (a persistent shell) and `editor` (the text
 * editor tool, over SFTP) on the user's own computer, connected lazily on the first call.
 *
 * The machine is not cattle — its files are the user's — but the connection is: when it drops,
 * the command in flight is a tool error with its output so far (`hand.lost` in the log), and the
 * next call reconnects. Everything the hand does runs one at a time. Secrets stay in the main
 * process (ssh2's authentication); nothing here puts one on the machine or in a result.
 */
import type { NewEvent } from '#shared/events';
import type { HandProgress, HandState, SshHandConfig } from '#shared/hands';
import { bashTool, DEFAULT_TIMEOUT_SECONDS, errorText, formatRun, routeShellTool, SerialQueue, text, type BashInput } from '#services/hands/bash-tool';
import { EDITOR_TOOL, runEditor } from '#services/hands/editor';
import type { ExecuteOptions, ManagedHand, ToolOutcome, ToolSpec } from '#services/hands/hand';
import type { PersistentShell, ShellRunResult } from '#services/hands/shell';
import { createHash } from 'node:crypto';
import { endpointName, SshConnectError, type SshConnection, type SshDeps } from './connection.ts';
import { SshLink } from './link.ts';
import { SftpFiles } from './sftp-files.ts';
import { ShadowSnapshots, type Exec } from './shadow-git.ts';

/** A snapshot to start from (a fork's or rewind's hand): the registry finds it up the fork tree. */
export interface SshSnapshotSource {
  image: string;
  sessionId: string;
  atSeq: number;
}

const SNAPSHOT_PREFIX = 'git:';

export interface SshHandHooks {
  /** Appends an event to the session's log. */
  record(event: NewEvent): void;
  /** Live provisioning progress (not stored). */
  progress(progress: HandProgress): void;
  log(message: string, error?: unknown): void;
  /** The snapshot this session's files should start from (a fork's parent's), or null. */
  restoreSource?(): Promise<SshSnapshotSource | null>;
}

export interface SshHandIdentity {
  sessionId: string;
  name: string;
  config: SshHandConfig;
}

export class SshHand implements ManagedHand {
  readonly concurrent = false;
  private state: HandState = 'idle';
  private detail = 'Connects on the first tool call.';
  private readonly link: SshLink;
  /** The connection the shell and the ready state belong to. */
  private connection: SshConnection | null = null;
  private shell: PersistentShell | null = null;
  /** Where the last command left the shell (a restarted shell starts there). */
  private cwd: string | null = null;
  private readonly queue = new SerialQueue();
  private disposed = false;
  private readonly files: SftpFiles;
  /** The working folder's shadow store (null: snapshots off, or not set up yet / impossible). */
  private shadow: ShadowSnapshots | null = null;
  /** Why this machine's files are not snapshotted, once known. */
  private noSnapshots: string | null = null;
  /** Whether a fork's files were put back already (once per hand). */
  private restoreChecked = false;
  /** A tool ran since the last turn end (only then is a snapshot worth taking). */
  private ranThisTurn = false;

  constructor(
    private readonly identity: SshHandIdentity,
    private readonly hooks: SshHandHooks,
    deps: SshDeps,
    /** Reconnection backoff (tests shorten it). */
    backoffMs?: readonly number[],
  ) {
    this.link = new SshLink(identity.config, deps, backoffMs);
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

  tools(): readonly ToolSpec[] {
    const via = this.config.jump ? ` through the jump host ${endpointName(this.config.jump)}` : '';
    const folder = this.config.working_dir ? `working directory ${this.config.working_dir}` : `working directory: ${this.config.user}'s home folder`;
    const where = `the machine ${this.machine} over SSH${via} (logged in as ${this.config.user}, ${folder})`;
    return [
      bashTool({
        where,
        shell: 'bash when the machine has it, else sh',
        notes: ['This is a real computer, not a sandbox: what a command changes there stays changed.'],
      }),
      { name: 'editor', ...EDITOR_TOOL, description: `${EDITOR_TOOL.description}\nFiles are on ${where}.` },
    ];
  }

  status(): { state: HandState; detail: string; container: string | null } {
    return { state: this.state, detail: this.detail, container: this.state === 'ready' ? this.machine : null };
  }

  async execute(tool: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    this.ranThisTurn = true;
    return routeShellTool(tool, input, {
      bash: (parsed) => this.exclusive(() => this.bash(parsed, options)),
      editor: () => this.exclusive(() => this.edit(input, options)),
    });
  }

  provision(signal: AbortSignal): Promise<void> {
    return this.exclusive(async () => {
      await this.ensureShell(signal);
    });
  }

  /**
   * At a turn end where a tool ran: records the working folder in the shadow store, so a fork or
   * rewind at this point can put these files back.
   */
  turnEnded(atSeq: number): Promise<void> {
    if (!this.config.snapshots || !this.ranThisTurn) return Promise.resolve();
    this.ranThisTurn = false;
    return this.exclusive(async () => {
      const shadow = this.shadow;
      if (shadow === null || this.connection === null || this.connection.isClosed) return;
      const started = performance.now();
      const commit = await shadow.snapshot(`Drover session ${this.identity.sessionId}, turn ending at event ${atSeq}`, AbortSignal.timeout(120_000));
      if (commit === null) return; // nothing changed: the last snapshot still stands for this point
      const bytes = await shadow.storeBytes();
      this.hooks.record({
        type: 'hand.snapshot',
        payload: { hand_id: this.identity.name, at_seq: atSeq, image: `${SNAPSHOT_PREFIX}${commit}`, bytes, duration_ms: performance.now() - started },
      });
    });
  }

  async dispose(_options: { keep: boolean }): Promise<void> {
    this.disposed = true;
    this.shell?.close();
    this.shell = null;
    this.connection = null;
    this.link.close();
  }

  // ------------------------------------------------------------------------------- tools

  private async bash(input: BashInput, options: ExecuteOptions): Promise<ToolOutcome> {
    const notes: string[] = [];
    let shell: PersistentShell;
    try {
      if ('restart' in input) {
        this.shell?.close();
        this.shell = null;
        this.cwd = null;
        const fresh = await this.ensureShell(options.signal, notes);
        return text([...notes, `Started a fresh shell (${fresh.flavour}) in ${fresh.workingDir}.`].join('\n'));
      }
      shell = await this.ensureShell(options.signal, notes);
    } catch (error) {
      return this.unavailable(error, notes, 'The command');
    }
    const timeoutSeconds = input.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS;
    const result = await shell.run(input.command, {
      timeoutMs: timeoutSeconds * 1000,
      signal: options.signal,
      ...(options.onProgress ? { onOutput: options.onProgress } : {}),
    });
    this.cwd = result.cwd;
    if (result.shellEnded) this.shell = null;
    if (result.shellEnded && !result.timedOut && !result.aborted) {
      const dropped = await this.droppedReason();
      if (dropped) return this.lost(dropped, result, notes);
    }
    return formatRun(result, notes, timeoutSeconds);
  }

  private async edit(input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    const notes: string[] = [];
    let shell: PersistentShell;
    try {
      shell = await this.ensureShell(options.signal, notes);
    } catch (error) {
      return this.unavailable(error, notes, 'The edit');
    }
    const outcome = await runEditor(this.files, input, { cwd: this.cwd ?? shell.workingDir, signal: options.signal });
    if (outcome.isError) {
      const dropped = await this.droppedReason();
      if (dropped) return this.lost(dropped, null, notes);
    }
    return notes.length === 0 ? outcome : { ...outcome, content: [{ type: 'text', text: notes.join('\n') }, ...outcome.content] };
  }

  // ------------------------------------------------------------------------------- lifecycle

  /** A ready shell, connecting first when there is no connection (lazily, on the first call). */
  private async ensureShell(signal: AbortSignal, notes: string[] = []): Promise<PersistentShell> {
    if (this.disposed) throw new Error('This hand was detached from the session.');
    let dropped: string | null = null;
    if (this.connection?.isClosed) {
      dropped = this.connection.closeReason ?? 'the connection closed';
      this.markLost(dropped);
    }
    try {
      const shell = await this.openShell(signal);
      // Said only once the new connection is up and the call really runs on it.
      if (dropped !== null) notes.push(`Note: the previous SSH connection dropped (${dropped}); this ran on a new connection.`);
      return shell;
    } catch (error) {
      if (dropped !== null) notes.push(`Note: the previous SSH connection dropped (${dropped}), and reconnecting failed.`);
      throw error;
    }
  }

  private async openShell(signal: AbortSignal): Promise<PersistentShell> {
    if (this.shell?.alive) return this.shell;
    if (!this.connection) {
      await this.connect(signal);
      if (this.shell?.alive) return this.shell;
    }
    const connection = this.connection;
    if (!connection) throw new Error(`not connected to ${this.machine}`);
    try {
      this.shell = await connection.openShell(this.cwd ?? this.config.working_dir);
    } catch (error) {
      if (this.cwd === null) throw error;
      // The last directory may be gone: start where a fresh shell starts.
      this.cwd = null;
      this.shell = await connection.openShell(this.config.working_dir);
    }
    return this.shell;
  }

  private async connect(signal: AbortSignal): Promise<void> {
    const { name } = this.identity;
    const via = this.config.jump ? ` through ${endpointName(this.config.jump)}` : '';
    const message = `Connecting to ${this.machine}${via}`;
    this.state = 'provisioning';
    this.detail = `${message}…`;
    this.hooks.record({ type: 'hand.provisioning', payload: { hand_id: name, phase: 'connecting', message } });
    this.hooks.progress({ hand_id: name, phase: 'connecting', message });
    try {
      this.connection = await this.link.get({ signal });
      this.cwd = null;
      const shell = await this.connection.openShell(this.config.working_dir);
      this.shell = shell;
      const files = await this.prepareSnapshots(this.connection, shell.workingDir, signal);
      const detail = `Connected to ${this.machine}${via}; commands run in ${shell.workingDir} (${shell.flavour}).${files.note === null ? '' : ` ${files.note}`}`;
      this.state = 'ready';
      this.detail = detail;
      this.hooks.record({
        type: 'hand.ready',
        payload: { hand_id: name, detail, container: this.machine, ...(files.restored === null ? {} : { restored_from: { session_id: files.restored.sessionId, at_seq: files.restored.atSeq } }) },
      });
    } catch (error) {
      this.connection?.close();
      this.connection = null;
      this.shell = null;
      const reason = error instanceof Error ? error.message : String(error);
      this.state = 'failed';
      this.detail = `Could not connect: ${reason}`;
      this.hooks.record({ type: 'hand.failed', payload: { hand_id: name, message: reason } });
      throw error;
    }
  }

  /**
   * Why the connection is gone, or null while it works: after a shell ended by itself it is either
   * `exit` (the connection still answers) or a dropped connection.
   */
  private async droppedReason(): Promise<string | null> {
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

  private markLost(reason: string): void {
    this.hooks.record({ type: 'hand.lost', payload: { hand_id: this.identity.name, reason: `the SSH connection to ${this.machine} dropped: ${reason}` } });
    this.connection?.close();
    this.connection = null;
    this.shell = null;
    this.state = 'lost';
    this.detail = `Lost the connection to ${this.machine} (${reason}). The next tool call reconnects.`;
  }

  private lost(reason: string, result: ShellRunResult | null, notes: string[]): ToolOutcome {
    this.markLost(reason);
    const output = result ? `\nOutput so far:\n${result.output === '' ? '(no output)' : result.output.replace(/\n$/, '')}` : '';
    return errorText(
      [
        ...notes,
        `${result ? 'The command was interrupted by the dropped connection' : 'The edit failed: the connection dropped'} to ${this.machine} (${reason}); it may or may not have finished on the machine.${output}`,
        `The next call reconnects, in a new shell (variables set earlier are gone).`,
      ].join('\n'),
    );
  }

  /** Nothing ran: `what` ('The command', 'The edit') was refused before it reached the machine. */
  private unavailable(error: unknown, notes: string[], what: string): ToolOutcome {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SshConnectError && (error.reason === 'host-changed' || error.reason === 'host-unknown')) {
      // Not a passing fault: every call fails the same way until the user decides about the key.
      const why = error.reason === 'host-changed' ? 'changed since you trusted it' : 'not trusted yet';
      return errorText(
        [...notes, `${what} did not run: the host key of ${this.machine} ${why}, so Drover did not log in.`, message, 'Calls to this hand fail the same way until the user does that: tell the user.'].join('\n'),
      );
    }
    return errorText([...notes, `Could not connect to ${this.machine} for this hand: ${message}`, `${what} did not run; the next call tries again.`].join('\n'));
  }

  /**
   * Sets up the shadow store for the working folder and, for a fork or rewind whose parent kept
   * snapshots, puts the files back as they were at the fork point — once, the first time this
   * hand connects. Says plainly when the files cannot follow.
   */
  private async prepareSnapshots(connection: SshConnection, workDir: string, signal: AbortSignal): Promise<{ note: string | null; restored: SshSnapshotSource | null }> {
    if (!this.config.snapshots) {
      return { note: 'File snapshots are off: forks and rewinds see this machine’s files as they are now.', restored: null };
    }
    const exec: Exec = async (command, execSignal) => {
      const result = await connection.exec(command, { signal: execSignal ?? signal });
      return { code: result.exitCode, stdout: result.output.toString('utf8'), stderr: '' };
    };
    if (this.shadow === null && this.noSnapshots === null) {
      const home = (await exec('printf %s "$HOME"')).stdout.trim() || '/tmp';
      const key = createHash('sha256').update(`${this.machine}
${workDir}
${this.identity.name}`).digest('hex').slice(0, 16);
      const shadow = new ShadowSnapshots(exec, { workDir, storeDir: `${home}/.cache/drover/shadow/${key}.git` });
      this.noSnapshots = await shadow.unavailableReason(signal);
      if (this.noSnapshots === null) this.shadow = shadow;
    }
    if (this.shadow === null) return { note: `${this.noSnapshots ?? 'Snapshots are unavailable.'} Forks and rewinds see the files as they are now.`, restored: null };
    if (this.restoreChecked) return { note: null, restored: null };
    this.restoreChecked = true;
    const source = (await this.hooks.restoreSource?.()) ?? null;
    // Only a parent's snapshot is put back: this session's own files are already where it left them.
    if (source === null || source.sessionId === this.identity.sessionId || !source.image.startsWith(SNAPSHOT_PREFIX)) return { note: null, restored: null };
    try {
      await this.shadow.restore(source.image.slice(SNAPSHOT_PREFIX.length), signal);
      return { note: `Its files were put back as they were at event ${source.atSeq} (this machine’s folder is shared, so the session it was forked from now sees them too).`, restored: source };
    } catch (error) {
      return { note: `Its files could not be put back as they were at event ${source.atSeq}: ${error instanceof Error ? error.message : String(error)}`, restored: null };
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.run(work);
  }

}

/**
 * What every shell hand is, once: a hand whose tools are `bash` (a persistent shell, shell.ts)
 * and `editor` (editor.ts) on some machine — a Docker container, a computer over SSH, … — that
 * starts lazily on the first call. This class owns the tool list, the routing of a call to bash
 * or the editor, the one-at-a-time queue, the lazy start, and the bookkeeping of the hand's
 * state (`hand.ready`, `hand.failed`, `hand.lost` in the log); a kind of hand provides only its
 * `ShellTransport`: how to start its machine, open a shell there, reach its files, and tell
 * whether the machine is gone.
 *
 * It must never run two things on a hand at once (commands, edits, starts and the transport's
 * own work all go through one queue), never throw a tool's failure at the harness (a call that
 * cannot run is a tool error the model can read), and never say a call ran when it did not.
 */
import type { NewEvent } from '#shared/events';
import type { AgentToolName, HandState } from '#shared/hands';
import { bashTool, DEFAULT_TIMEOUT_SECONDS, errorText, formatRun, routeShellTool, text, type BashInput } from '#services/hands/bash-tool';
import { EDITOR_TOOL, runEditor } from '#services/hands/editor';
import type { FileAccess } from '#services/hands/files';
import type { ExecuteOptions, ManagedHand, ToolOutcome, ToolSpec } from '#services/hands/hand';
import type { PersistentShell, ShellRunResult } from '#services/hands/shell';
import { runFileTool } from '#services/hands/toolset/run';
import { toolsetSpecs, ToolsetInputSchemas } from '#services/hands/toolset/tools';
import { describeIssues, issuesText } from '#shared/events';

/** Runs `work` after everything queued before it on the hand, alone. */
export type Exclusive = <T>(work: () => Promise<T>) => Promise<T>;

/** A machine started and ready: what `hand.ready` says about it. */
export interface StartedMachine {
  /** The hand's status detail, also recorded in `hand.ready`. */
  detail: string;
  /** The rest of `hand.ready`'s payload (`container`, `image`, `restored_from`). */
  ready: { container?: string | undefined; image?: string; restored_from?: { session_id: string; at_seq: number } };
  /** A shell the transport opened while starting (in the default working directory), if it did. */
  shell?: PersistentShell;
}

/** What a shell hand says, in the words of its kind (a container that is lost, a connection that dropped). */
export interface ShellHandWords {
  /** The status detail before the first call. */
  idle: string;
  /** What is checked when the shell ends between calls, for the log ("container"). */
  machine: string;
  /** The status detail while the machine starts. */
  starting(): string;
  /** The status detail after a failed start. */
  failed(message: string): string;
  /** The reason recorded in `hand.lost`. */
  lostEvent(reason: string): string;
  /** The status detail once the machine is lost. */
  lostDetail(reason: string): string;
  /** The note on a call that found the previous machine lost and started another (`started`: whether that worked). */
  lostNote(reason: string, started: boolean): string;
  /** The result of a call whose machine was lost while it ran (`result`: the command's; null for an edit). */
  lostResult(reason: string, result: ShellRunResult | null, notes: string[]): ToolOutcome;
  /** The result of a call that could not start the machine: `what` ('The command', 'The edit') did not run. */
  unavailable(error: unknown, notes: string[], what: string): ToolOutcome;
}

/**
 * How a kind of shell hand reaches its machine. The base calls `start`, `openShell`, `lost…` and
 * `discard` only from the hand's queue (one at a time); `turnEnded` is handed the queue to use;
 * `describe`, `label`, `homeDir` and `called` may be called at any time and must not touch the machine.
 */
export interface ShellTransport {
  readonly words: ShellHandWords;
  /** The machine's files, for the editor (valid once started). */
  readonly files: FileAccess;
  /** Whether a machine is started (a shell can be opened on it without starting one). */
  readonly started: boolean;
  /** What the hands panel shows for the machine while the hand is ready (a container id, `user@host:port`). */
  readonly label: string | null;
  /**
   * Whether a shell that ends between calls is checked at once (the machine may have died: it is
   * recorded lost then); otherwise the next call's `lostBeforeCall` finds out.
   */
  readonly checksIdleShellEnd: boolean;
  /** Whether a shell that cannot open in the last working directory (gone, say) opens in the default one instead. */
  readonly reopensAtStart: boolean;
  /** Where the bash and editor tools run, for their descriptions. */
  describe(): { where: string; files: string; shell: string; notes: string[] };
  /** The directory a fresh `shell` starts in, as the tools report it (restart message, the editor's relative paths). */
  homeDir(shell: PersistentShell): string;
  /**
   * Starts the machine (pulls, creates, connects…; may record `hand.provisioning` and add `notes`
   * for the call). On failure it cleans up after itself and rejects with an error worded for the user.
   */
  start(signal: AbortSignal, notes: string[]): Promise<StartedMachine>;
  /** Opens a shell on the started machine in `cwd` (null: the default working directory). */
  openShell(cwd: string | null): Promise<PersistentShell>;
  /** Before a call: why the machine is gone (it is then recorded lost and started afresh), or null. */
  lostBeforeCall(shellAlive: boolean): Promise<string | null>;
  /** After something on the machine failed (its shell ended by itself, an edit failed): why it is gone, or null. */
  lostAfterFailure(): Promise<string | null>;
  /** Forgets the lost machine (a later call starts another). */
  discard(): void;
  /** Stops the transport after the hand closed its shell: `keep` leaves the machine running. */
  dispose(options: { keep: boolean }): Promise<void>;
  /** At a turn end: keeps what the turn changed, if the machine can (`exclusive`: the hand's queue). */
  turnEnded?(atSeq: number, exclusive: Exclusive): Promise<void>;
  /** After a tool call of this hand was answered by event `atSeq`: checkpoints what it changed, if the machine can. */
  toolAnswered?(atSeq: number, exclusive: Exclusive): Promise<void>;
  /** Told of each tool call as it arrives, before it waits its turn. */
  called?(): void;
  /** Told when files may have changed: a command is about to run, an edit succeeded. */
  changed?(): void;
}

export interface ShellHandHooks {
  /** Appends an event to the session's log. */
  record(event: NewEvent): void;
  log(message: string, error?: unknown): void;
}

/** Runs work one at a time, in call order (a hand's shell and files are not shared between calls). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class ShellHand implements ManagedHand {
  readonly concurrent = false;
  private state: HandState = 'idle';
  private detail: string;
  private shell: PersistentShell | null = null;
  /** Where the last command left the shell (a reopened shell starts there). */
  private cwd: string | null = null;
  /** Why the last machine was found lost before a call started another; that call says so. */
  private lostBetweenCalls: string | null = null;
  private readonly queue = new SerialQueue();
  private disposed = false;

  constructor(
    private readonly identity: { sessionId: string; name: string },
    private readonly hooks: ShellHandHooks,
    private readonly transport: ShellTransport,
    /** Managed Agents' toolset (its tools that are on) instead of bash and editor; `cwd`: where relative paths start. */
    private readonly toolset: { tools: readonly AgentToolName[]; cwd: string } | null = null,
  ) {
    this.detail = transport.words.idle;
  }

  tools(): readonly ToolSpec[] {
    const { where, files, shell, notes } = this.transport.describe();
    if (this.toolset) return toolsetSpecs(this.toolset.tools, { where: `${where}; ${shell}`, cwd: this.toolset.cwd, notes });
    return [
      bashTool({ where, shell, notes }),
      { name: 'editor', ...EDITOR_TOOL, description: `${EDITOR_TOOL.description}\nFiles are ${files}.` },
    ];
  }

  status(): { state: HandState; detail: string; container: string | null } {
    return { state: this.state, detail: this.detail, container: this.state === 'ready' ? this.transport.label : null };
  }

  async execute(tool: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    this.transport.called?.();
    if (this.toolset) return this.executeToolset(tool, input, options);
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

  turnEnded(atSeq: number): Promise<void> {
    return this.transport.turnEnded?.(atSeq, (work) => this.exclusive(work)) ?? Promise.resolve();
  }

  /** Queued at once (before any later call to this hand), so the checkpoint holds exactly what the calls up to `atSeq` did. */
  toolAnswered(atSeq: number): Promise<void> {
    return this.transport.toolAnswered?.(atSeq, (work) => this.exclusive(work)) ?? Promise.resolve();
  }

  /**
   * Files may have changed from outside (an MCP tool marked as changing files): the next `toolAnswered`
   * captures. Queued like a call, so a capture in progress (which clears the mark when it ends) cannot swallow it.
   */
  changed(): void {
    void this.exclusive(() => Promise.resolve(this.transport.changed?.()));
  }

  /** Resolves once what is queued on the hand so far (a call running, the checkpoints after calls) is done. */
  drained(): Promise<void> {
    return this.exclusive(() => Promise.resolve());
  }

  async dispose(options: { keep: boolean }): Promise<void> {
    this.disposed = true;
    this.shell?.close();
    this.shell = null;
    await this.transport.dispose(options);
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
        return text([...notes, `Started a fresh shell (${fresh.flavour}) in ${this.transport.homeDir(fresh)}.`].join('\n'));
      }
      shell = await this.ensureShell(options.signal, notes);
    } catch (error) {
      return this.transport.words.unavailable(error, notes, 'The command');
    }
    this.transport.changed?.();
    const timeoutSeconds = input.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS;
    const result = await shell.run(input.command, {
      timeoutMs: timeoutSeconds * 1000,
      signal: options.signal,
      ...(options.onProgress ? { onOutput: options.onProgress } : {}),
    });
    this.cwd = result.cwd;
    if (result.shellEnded) this.shell = null;
    if (result.shellEnded && !result.timedOut && !result.aborted) {
      const lost = await this.transport.lostAfterFailure();
      if (lost) return this.lost(lost, result, notes);
    }
    return formatRun(result, notes, timeoutSeconds);
  }

  private async edit(input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    const notes: string[] = [];
    let shell: PersistentShell;
    try {
      shell = await this.ensureShell(options.signal, notes);
    } catch (error) {
      return this.transport.words.unavailable(error, notes, 'The edit');
    }
    const outcome = await runEditor(this.transport.files, input, {
      cwd: this.cwd ?? this.transport.homeDir(shell),
      signal: options.signal,
    });
    if (input['command'] !== 'view' && !outcome.isError) this.transport.changed?.();
    if (outcome.isError) {
      const lost = await this.transport.lostAfterFailure();
      if (lost) return this.lost(lost, null, notes);
    }
    return notes.length === 0 ? outcome : { ...outcome, content: [{ type: 'text', text: notes.join('\n') }, ...outcome.content] };
  }

  /** A call to one of Managed Agents' toolset tools (see toolset/). */
  private executeToolset(tool: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    const tools = this.toolset?.tools ?? [];
    const name = tools.find((candidate) => candidate === tool);
    if (name === undefined) return Promise.resolve(errorText(`There is no tool "${tool}" here. The tools: ${tools.join(', ')}.`));
    if (name !== 'bash') return this.exclusive(() => this.fileTool(name, input, options));
    const parsed = ToolsetInputSchemas.bash.safeParse(input);
    if (!parsed.success) {
      return Promise.resolve(
        errorText(
          `The bash tool was not run: ${issuesText(describeIssues(parsed.error.issues))}. Send {"command": "..."} or {"restart": true}.`,
        ),
      );
    }
    const { command, restart, timeout_ms: ms } = parsed.data;
    const run: BashInput | null =
      command === undefined ? null : { command, ...(ms ? { timeout_seconds: Math.max(1, Math.ceil(ms / 1000)) } : {}) };
    return this.exclusive(async () => {
      if (restart !== true && run) return this.bash(run, options);
      const restarted = await this.bash({ restart: true }, options);
      if (!run || restarted.isError) return restarted;
      const ran = await this.bash(run, options);
      return { ...ran, content: [...restarted.content, ...ran.content] };
    });
  }

  private async fileTool(
    tool: Exclude<AgentToolName, 'bash'>,
    input: Record<string, unknown>,
    options: ExecuteOptions,
  ): Promise<ToolOutcome> {
    const notes: string[] = [];
    let shell: PersistentShell;
    try {
      shell = await this.ensureShell(options.signal, notes);
    } catch (error) {
      return this.transport.words.unavailable(error, notes, `The ${tool}`);
    }
    const outcome = await runFileTool(tool, input, this.transport.files, {
      cwd: this.cwd ?? this.transport.homeDir(shell),
      signal: options.signal,
    });
    if ((tool === 'write' || tool === 'edit') && !outcome.isError) this.transport.changed?.();
    if (outcome.isError) {
      const lost = await this.transport.lostAfterFailure();
      if (lost) return this.lost(lost, null, notes);
    }
    return notes.length === 0 ? outcome : { ...outcome, content: [{ type: 'text', text: notes.join('\n') }, ...outcome.content] };
  }

  // ------------------------------------------------------------------------------- lifecycle

  /** A ready shell, starting the machine first when there is none (lazily, on the first call). */
  private async ensureShell(signal: AbortSignal, notes: string[] = []): Promise<PersistentShell> {
    if (this.disposed) throw new Error('This hand was detached from the session.');
    const gone = await this.transport.lostBeforeCall(this.shell?.alive === true);
    if (gone !== null) {
      this.markLost(gone);
      this.lostBetweenCalls = gone;
    }
    if (this.shell?.alive) return this.shell;
    if (this.transport.started) return this.adopt(await this.reopen());

    const lost = this.lostBetweenCalls;
    this.lostBetweenCalls = null;
    // The note on a lost machine goes before what starting the next one says.
    const at = notes.length;
    let shell: PersistentShell;
    try {
      const opened = await this.start(signal, notes);
      this.cwd = null;
      shell = opened?.alive ? opened : await this.transport.openShell(null);
    } catch (error) {
      if (lost !== null) notes.splice(at, 0, this.transport.words.lostNote(lost, false));
      throw error;
    }
    if (lost !== null) notes.splice(at, 0, this.transport.words.lostNote(lost, true));
    return this.adopt(shell);
  }

  /** A shell on the started machine where the last command left off (or, where the transport allows, where a fresh one starts). */
  private async reopen(): Promise<PersistentShell> {
    if (this.cwd === null || !this.transport.reopensAtStart) return this.transport.openShell(this.cwd);
    try {
      return await this.transport.openShell(this.cwd);
    } catch {
      // The last directory may be gone: start where a fresh shell starts.
      this.cwd = null;
      return this.transport.openShell(null);
    }
  }

  /** Starts the machine, recording how that went; a shell the transport opened while starting, if any. */
  private async start(signal: AbortSignal, notes: string[]): Promise<PersistentShell | null> {
    const { name } = this.identity;
    this.state = 'provisioning';
    this.detail = this.transport.words.starting();
    try {
      const started = await this.transport.start(signal, notes);
      this.state = 'ready';
      this.detail = started.detail;
      this.hooks.record({ type: 'hand.ready', payload: { hand_id: name, detail: started.detail, ...started.ready } });
      return started.shell ?? null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.state = 'failed';
      this.detail = this.transport.words.failed(message);
      this.hooks.record({ type: 'hand.failed', payload: { hand_id: name, message } });
      throw error;
    }
  }

  /** Makes `shell` the hand's shell, watching for it to end between calls where the transport asks. */
  private adopt(shell: PersistentShell): PersistentShell {
    this.shell = shell;
    if (this.transport.checksIdleShellEnd) shell.onEndedIdle(() => this.noticeEnd(shell));
    return shell;
  }

  /**
   * The shell ended between calls by itself: when its machine died (a container killed, removed,
   * out of memory), the hand records it lost now — not at the next call — and that call starts afresh.
   */
  private noticeEnd(shell: PersistentShell): void {
    this.exclusive(async () => {
      if (this.shell !== shell || this.disposed) return;
      this.shell = null;
      const lost = await this.transport.lostAfterFailure();
      if (lost) {
        this.markLost(lost);
        this.lostBetweenCalls = lost;
      }
    }).catch((error: unknown) =>
      this.hooks.log(
        `Hand ${this.identity.name} of session ${this.identity.sessionId}: checking its ${this.transport.words.machine} failed`,
        error,
      ),
    );
  }

  private markLost(reason: string): void {
    this.hooks.record({ type: 'hand.lost', payload: { hand_id: this.identity.name, reason: this.transport.words.lostEvent(reason) } });
    this.transport.discard();
    this.shell = null;
    this.state = 'lost';
    this.detail = this.transport.words.lostDetail(reason);
  }

  private lost(reason: string, result: ShellRunResult | null, notes: string[]): ToolOutcome {
    this.markLost(reason);
    return this.transport.words.lostResult(reason, result, notes);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.queue.run(work);
  }
}

/**
 * Terminals on hands (issue 23): a person's shell on a session's Docker hand (docker-terminal.ts)
 * or SSH machine (ssh-terminal.ts), for the UI connection that opened it.
 *
 * - Its bytes go only to its owner (the connection that opened it) and never into the log. The log
 *   records `hand.terminal_opened` when it opens and `hand.terminal_closed` when it ends, then the
 *   hand's files are checkpointed exactly as after a tool call (`changed` + `toolAnswered` at the
 *   closing event), so a fork or rewind after it has what the person did.
 * - It never receives a secret: nothing from the vault is put in its environment, and its output
 *   passes a streaming redactor (vault/stream-redact.ts), one per terminal, so a secret a program
 *   prints is masked even when its bytes arrive split across chunks.
 * - Limits (shared/terminals.ts): 8 open per hand, 64 KiB per input, output batched (a first chunk
 *   after a quiet spell goes at once, then at most one push per 16 ms) and back-pressured (the
 *   program is paused while more than 512 KiB is pushed but not acknowledged by the owner).
 * - The owner's connection ending closes its terminals.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { AppError } from '#shared/errors';
import { TERMINAL_LIMITS, type TerminalEnd, type TerminalExit, type TerminalOutput } from '#shared/terminals';
import type { ManagedHand } from '#services/hands/hand';
import type { HandRegistry } from '#services/hands/registry';
import type { SessionStore } from '#services/session/store';
import type { Redactor } from '#services/vault/redact';
import { StreamRedactor } from '#services/vault/stream-redact';
import type { TerminalChannel, TerminalSize } from './channel.ts';
import { openDockerTerminal } from './docker-terminal.ts';
import { OutputBatch } from './output-batch.ts';
import { sshTerminal } from './ssh-terminal.ts';

/** Who a terminal's output goes to: one UI connection. */
export interface TerminalOwner {
  readonly id: string;
  output(message: TerminalOutput): void;
  exit(message: TerminalExit): void;
  /** Calls `listener` once when the connection ends; returns a removal. */
  onClose(listener: () => void): () => void;
}

export interface TerminalServices {
  store: SessionStore;
  hands: HandRegistry;
  /** The host's redactor (it knows every stored secret): each terminal's output is redacted as a stream with it. */
  redactor: Redactor;
  log: (message: string, error?: unknown) => void;
}

interface Terminal {
  id: string;
  owner: TerminalOwner;
  sessionId: string;
  hand: string;
  managed: ManagedHand;
  channel: TerminalChannel;
  /** The seq of its `hand.terminal_opened`. */
  openedSeq: number;
  /** Its output, decoded, goes through this (it holds back a tail that may start a secret), then to `batch`. */
  redact: StreamRedactor;
  batch: OutputBatch;
  unacked: number;
  paused: boolean;
  done: boolean;
  forgetOwner: () => void;
}

export class TerminalService {
  private readonly terminals = new Map<string, Terminal>();
  /** Terminals open or opening per `<session>/<hand>`. */
  private readonly perHand = new Map<string, number>();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly services: TerminalServices) {}

  /** Opens a terminal on the session's hand `hand` (starting its container or connection if need be). */
  async open(owner: TerminalOwner, request: { sessionId: string; hand: string } & TerminalSize): Promise<{ terminalId: string }> {
    const { sessionId, hand } = request;
    const kind = this.handKind(sessionId, hand);
    const key = `${sessionId}/${hand}`;
    const open = this.perHand.get(key) ?? 0;
    if (open >= TERMINAL_LIMITS.perHand) {
      throw new AppError(
        'conflict',
        `The hand "${hand}" already has ${TERMINAL_LIMITS.perHand} terminals open, the most it can have: close one of them first.`,
      );
    }
    this.perHand.set(key, open + 1);
    const terminalId = `term_${randomBytes(8).toString('hex')}`;
    let managed: ManagedHand | null;
    let channel: TerminalChannel;
    try {
      managed = this.services.hands.liveHand(sessionId, hand);
      if (managed === null) throw new AppError('not-found', `The hand "${hand}" is no longer attached to this session.`);
      channel = await this.openChannel(kind, managed, sessionId, hand, terminalId, request);
    } catch (error) {
      this.release(key);
      if (error instanceof AppError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new AppError(
        'conflict',
        `Could not open a terminal on "${hand}": ${message}. Check the hand's status in the Hands panel, then try again.`,
        {
          cause: error,
        },
      );
    }
    const terminal: Terminal = {
      id: terminalId,
      owner,
      sessionId,
      hand,
      managed,
      channel,
      openedSeq: 0,
      redact: new StreamRedactor(this.services.redactor, (text) => terminal.batch.push(text)),
      batch: new OutputBatch((data) => this.deliver(terminal, data)),
      unacked: 0,
      paused: false,
      done: false,
      forgetOwner: () => undefined,
    };
    this.terminals.set(terminalId, terminal);
    try {
      terminal.openedSeq = this.services.store.emitEvent(sessionId, {
        type: 'hand.terminal_opened',
        payload: { hand_id: hand, terminal_id: terminalId },
      }).seq;
    } catch (error) {
      // Not recorded, not opened: a terminal the log cannot account for would make forks inexact.
      this.terminals.delete(terminalId);
      this.release(key);
      await channel.close();
      throw error;
    }
    const decoder = new StringDecoder('utf8');
    channel.onData((chunk) => terminal.redact.write(decoder.write(chunk)));
    channel.onEnd(({ code, reason }) => {
      terminal.redact.write(decoder.end());
      terminal.redact.end();
      void this.finish(terminal, code === null ? 'lost' : 'exited', code, reason);
    });
    terminal.forgetOwner = owner.onClose(() => void this.finish(terminal, 'disconnected', null, 'the window that opened it closed'));
    return { terminalId };
  }

  input(owner: TerminalOwner, terminalId: string, data: string): void {
    this.owned(owner, terminalId).channel.write(data);
  }

  resize(owner: TerminalOwner, terminalId: string, size: TerminalSize): Promise<void> {
    return this.owned(owner, terminalId).channel.resize(size);
  }

  /** The owner drew `chars` more characters: a terminal paused for it goes on once it has caught up. */
  ack(owner: TerminalOwner, terminalId: string, chars: number): void {
    const terminal = this.owned(owner, terminalId);
    terminal.unacked = Math.max(0, terminal.unacked - chars);
    if (terminal.paused && terminal.unacked <= TERMINAL_LIMITS.unackedBytes / 4) {
      terminal.paused = false;
      terminal.channel.resume();
    }
  }

  /** Closes the terminal; resolves once `hand.terminal_closed` and the checkpoint after it are recorded. */
  close(owner: TerminalOwner, terminalId: string): Promise<void> {
    return this.finish(this.owned(owner, terminalId), 'closed', null, 'closed');
  }

  /** The terminals open now (for a test or the bench to check). */
  get openCount(): number {
    return this.terminals.size;
  }

  /** Resolves once every terminal that ended has its closing event and checkpoint recorded. */
  async settled(): Promise<void> {
    while (this.closing.size > 0) await Promise.allSettled([...this.closing]);
  }

  /** At quit: closes every terminal (each recorded and checkpointed). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.terminals.values()].map((terminal) => this.finish(terminal, 'disconnected', null, 'Drover quit')));
    await this.settled();
  }

  // ------------------------------------------------------------------------------- internals

  /** The hand's kind, or a refusal that says why no terminal can open on it. */
  private handKind(sessionId: string, hand: string): 'docker' | 'ssh' {
    this.services.store.getSession(sessionId); // not-found for an unknown session
    const spec = this.services.hands.specs(sessionId).find((candidate) => candidate.name === hand);
    if (spec === undefined) {
      const names = this.services.hands.specs(sessionId).map((candidate) => candidate.name);
      throw new AppError(
        'not-found',
        `This session has no hand named "${hand}" (${names.length === 0 ? 'it has none' : `its hands: ${names.join(', ')}`}). A self-hosted worker runs tools only: open a terminal on the machine it runs on.`,
      );
    }
    if (spec.pending) {
      throw new AppError(
        'conflict',
        `The hand "${hand}" came from an imported file and is off until you review it in the Hands panel: turn it on first.`,
      );
    }
    if (spec.config.kind === 'mcp') {
      throw new AppError(
        'invalid-argument',
        `"${hand}" is an MCP server: it has tools but no shell. Terminals open on Docker hands and SSH machines.`,
      );
    }
    return spec.config.kind;
  }

  private async openChannel(
    kind: 'docker' | 'ssh',
    managed: ManagedHand,
    sessionId: string,
    hand: string,
    terminalId: string,
    size: TerminalSize,
  ): Promise<TerminalChannel> {
    const signal = AbortSignal.timeout(10 * 60_000);
    if (kind === 'ssh') {
      const ssh = this.services.hands.sshHand(sessionId, hand);
      if (ssh === null) throw new Error('the SSH hand is not running');
      return sshTerminal(await ssh.openTerminal(size, signal));
    }
    await managed.provision(signal);
    const container = managed.status().container;
    if (container === null) throw new Error(`its container is not running (${managed.status().detail})`);
    const engine = this.services.hands.handEngine(sessionId, hand);
    return openDockerTerminal(engine, engine.docker.getContainer(container), terminalId, size);
  }

  private owned(owner: TerminalOwner, terminalId: string): Terminal {
    const terminal = this.terminals.get(terminalId);
    // Another connection's terminal is as unknown to this one as a closed one.
    if (terminal === undefined || terminal.owner.id !== owner.id || terminal.done) {
      throw new AppError('not-found', `There is no open terminal ${terminalId} here: it was closed, or opened in another window.`);
    }
    return terminal;
  }

  private deliver(terminal: Terminal, data: string): void {
    terminal.owner.output({ terminalId: terminal.id, data });
    terminal.unacked += data.length;
    if (!terminal.paused && terminal.unacked > TERMINAL_LIMITS.unackedBytes) {
      terminal.paused = true;
      terminal.channel.pause();
    }
  }

  /** Ends a terminal once: hangs it up, tells its owner, records the close, then checkpoints the hand. */
  private finish(terminal: Terminal, ended: TerminalEnd, code: number | null, reason: string): Promise<void> {
    if (terminal.done) return Promise.resolve();
    terminal.done = true;
    this.terminals.delete(terminal.id);
    terminal.forgetOwner();
    const work = (async () => {
      if (ended === 'closed' || ended === 'disconnected') await terminal.channel.close();
      terminal.redact.end();
      terminal.batch.flush();
      terminal.batch.stop();
      this.release(`${terminal.sessionId}/${terminal.hand}`);
      terminal.owner.exit({ terminalId: terminal.id, ended, code, message: exitMessage(ended, reason) });
      const { sessionId, hand, managed } = terminal;
      let seq: number;
      try {
        seq = this.services.store.emitEvent(sessionId, {
          type: 'hand.terminal_closed',
          payload: { hand_id: hand, terminal_id: terminal.id, opened_seq: terminal.openedSeq, ended },
        }).seq;
      } catch (error) {
        this.services.log(`Session ${sessionId}: could not record the close of terminal ${terminal.id} on ${hand}`, error);
        return;
      }
      // The same capture as after a tool call: what the person changed is the hand's files from this event on.
      managed.changed?.();
      await managed.toolAnswered?.(seq);
    })().catch((error: unknown) => this.services.log(`Closing terminal ${terminal.id} on ${terminal.hand} failed`, error));
    this.closing.add(work);
    void work.finally(() => this.closing.delete(work));
    return work;
  }

  private release(key: string): void {
    const left = (this.perHand.get(key) ?? 1) - 1;
    if (left <= 0) this.perHand.delete(key);
    else this.perHand.set(key, left);
  }
}

function exitMessage(ended: TerminalEnd, reason: string): string {
  switch (ended) {
    case 'closed':
      return 'Terminal closed.';
    case 'disconnected':
      return `Terminal closed: ${reason}.`;
    case 'exited':
      return `The shell exited (${reason}). Open a new terminal to go on.`;
    case 'lost':
      return `The terminal ended: ${reason}. If the hand's machine was lost, its next tool call or terminal starts it again.`;
  }
}

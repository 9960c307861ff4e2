/**
 * The Hand interface: where tools run. A hand offers tools (the schemas the model sees) and
 * executes them; the harness routes each tool use to the hand that owns the tool.
 *
 * A hand must never hold conversation state (that is the log's) and must never put a secret in a
 * tool result.
 */
import type { ContentBlock } from '#shared/events';
import type { HandState } from '#shared/hands';
import type { HandHolding } from '#shared/hand-holders';
import type { HandAccessMode } from '#shared/threads';

/** A tool as the Messages API sees it. `name` must match ^[a-zA-Z0-9_-]{1,128}$. */
export interface ToolSpec {
  name: string;
  description: string;
  input_schema: { type: 'object'; properties?: Record<string, unknown>; required?: string[]; [key: string]: unknown };
}

export interface ToolOutcome {
  content: ContentBlock[];
  isError: boolean;
  /** An MCP tool's machine-readable result, kept in the log next to its content. */
  structuredContent?: Record<string, unknown>;
  /** How the run ended when it did not complete (the hand stopped it itself: a timeout, a crash). */
  status?: 'completed' | 'interrupted' | 'timed_out';
}

export interface ExecuteOptions {
  /** Aborted when the user interrupts; the hand stops the tool and settles promptly. */
  signal: AbortSignal;
  /** Output so far, for the live view (not stored). */
  onProgress?: (text: string) => void;
}

export interface Hand {
  readonly id: string;
  /** `mcp`: an MCP server; its tool uses are recorded as `agent.mcp_tool_use` / `agent.mcp_tool_result`. */
  readonly kind?: 'mcp';
  /** Whether several tool uses addressed to this hand may run at the same time. */
  readonly concurrent: boolean;
  tools(): readonly ToolSpec[];
  /**
   * The hand's own name for a tool the model called (`box__bash` → `bash`; an MCP server's own tool
   * name, which policies name as `disabled_tools` does). Absent: the name after `<hand>__`.
   */
  ownToolName?(name: string): string;
  /**
   * Runs one tool. Bad input (the model's mistake) resolves with `isError: true` and a message
   * the model can act on; it does not throw.
   */
  execute(name: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome>;
  /**
   * For a hand the log never attached (the API's self-hosted worker): what its own policies say of
   * a call (`tool`: the hand's own name). Absent: the call runs.
   */
  permission?(tool: string, input: Record<string, unknown>): 'allow' | 'ask' | 'deny';
  /** The live hand its calls run on when that is not `id`'s own: a thread's copy (`box~a1b2`, issue 21), with its own queue. */
  readonly runsOn?: string;
  /** How threads hold this hand (issue 21), for a hand the registry made; absent: every thread shares it. */
  readonly threads?: ThreadHandAccess;
}

/** A session's hand as threads hold it (thread-access.ts): who holds it, and the hand each holder's calls run on. */
export interface ThreadHandAccess {
  /** Who holds which of the session's hands, from the log (`hand.thread_access`). */
  holdings(): HandHolding[];
  /** Why this hand cannot be passed to a thread in `mode` by `grantor` (null: the primary), in words for the model; null: it can. */
  refusal(mode: HandAccessMode, grantor: string | null): string | null;
  /** The hand thread `threadId`'s calls run on (the same, read-only, or its copy); null: the thread does not hold it. */
  forThread(threadId: string): Hand | null;
}

/** Tool names the Messages API accepts. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;

/**
 * A hand as the registry manages it: tools under their own short names (the registry prefixes
 * them with the hand's name for the model), and a lifecycle. Hands start lazily: nothing runs
 * until `provision`, which `execute` calls itself on first use.
 */
export interface ManagedHand {
  readonly concurrent: boolean;
  tools(): readonly ToolSpec[];
  execute(tool: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome>;
  status(): { state: HandState; detail: string; container: string | null };
  /** Starts the hand now (eager start, or a user's "start"); resolves when it is ready. */
  provision(signal: AbortSignal): Promise<void>;
  /**
   * Called before the session's tools are read for a model request, for hands that must start to
   * know their tools (an MCP server). Never throws: a hand that cannot start offers no tools and
   * says why in its status.
   */
  prepareTools?(signal: AbortSignal): Promise<void>;
  /** Called at each turn end (`atSeq`: the idle event): keeps what the turn changed, if the hand can. */
  turnEnded?(atSeq: number): Promise<void>;
  /**
   * Called when a tool call of this hand was answered (`atSeq`: the result event), or a call to an MCP tool
   * the user marked as changing files (after `changed`): keeps what it changed, if the hand can.
   */
  toolAnswered?(atSeq: number): Promise<void>;
  /** Told that something outside the hand may have changed its files (an MCP tool marked as changing files). */
  changed?(): void;
  /** Resolves once the work queued on the hand so far (a call running, checkpoints) is done. */
  drained?(): Promise<void>;
  /** Stops the hand: `keep` leaves its machine running for a later start to reuse. */
  dispose(options: { keep: boolean }): Promise<void>;
}

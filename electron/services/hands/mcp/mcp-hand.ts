/**
 * An MCP server as a hand: its tools are offered to the model (under API-safe names, minus the
 * ones the user turned off), and each call goes to the server.
 *
 * The server starts lazily — when the session's tools are first needed for a model request, or
 * on a user's "show tools" — never at attach time or at Drover's start. Its start, its failure and
 * its crashes are recorded in the session log (`hand.provisioning` / `hand.ready` /
 * `hand.failed` / `hand.lost`); a server that cannot start offers no tools and its status says
 * why, with what it wrote to stderr viewable.
 *
 * It must never put a secret in a tool result, an event or a message (the connection masks
 * every value it resolved for the server).
 */
import type { NewEvent } from '#shared/events';
import type { HandProgress, HandState, McpHandConfig, McpServerInfo, McpToolInfo } from '#shared/hands';
import { qualifiedToolName } from '#shared/hands';
import type { SecretResolver } from '#services/vault/resolver';
import type { ExecuteOptions, ManagedHand, ToolOutcome, ToolSpec } from '../hand.ts';
import { McpServerConnection, type McpTool } from './mcp-client.ts';
import { mapToolNames, toolNameRoom, type ToolNameMap } from './tool-names.ts';

export interface McpHandHooks {
  record(event: NewEvent): void;
  progress(progress: HandProgress): void;
  log(message: string, error?: unknown): void;
}

/** How long a start (spawn + initialize + tools/list) may take before the request goes on without its tools. */
const START_TIMEOUT_MS = 30_000;
/** How long after a failed start model requests go on without trying the server again. */
const RETRY_START_AFTER_MS = 60_000;

export class McpHand implements ManagedHand {
  readonly concurrent = true;
  private readonly connection: McpServerConnection;
  private listed: { tools: readonly McpTool[]; names: ToolNameMap } | null = null;
  /**
   * Whether this outage's failure is already recorded: a server that keeps failing is logged once until it
   * is ready again, however its error words it (a refused connection, then a reset, then a timeout).
   */
  private failureRecorded = false;
  /** When the last start failed (ms since the epoch), or null. */
  private failedAt: number | null = null;
  /** The server start whose `hand.ready` is recorded. */
  private announcedStart = 0;
  /** What calls wait for before they reach the server: checkpoints after a call marked as changing files. */
  private held: Promise<void> = Promise.resolve();

  constructor(
    private readonly identity: { sessionId: string; name: string; config: McpHandConfig },
    private readonly hooks: McpHandHooks,
    secrets: SecretResolver,
  ) {
    this.connection = new McpServerConnection({
      name: identity.name,
      transport: identity.config.transport,
      secrets,
      startTimeoutMs: START_TIMEOUT_MS,
      onToolsChanged: (tools) => this.remember(tools),
      log: hooks.log,
    });
  }

  get config(): McpHandConfig {
    return this.identity.config;
  }

  /**
   * Takes a new configuration of the same server (on/off, tools turned off, timeout) without
   * restarting it; false when the server itself changed (a new hand is needed).
   */
  reconfigure(config: McpHandConfig): boolean {
    if (JSON.stringify(config.transport) !== JSON.stringify(this.identity.config.transport)) return false;
    this.identity.config = config;
    if (!config.enabled) void this.connection.close();
    return true;
  }

  tools(): readonly ToolSpec[] {
    if (!this.identity.config.enabled || this.listed === null) return [];
    const disabled = new Set(this.identity.config.disabled_tools);
    const { tools, names } = this.listed;
    return tools
      .filter((tool) => !disabled.has(tool.name))
      .map((tool) => ({
        name: names.toExposed(tool.name) ?? tool.name,
        description: describeTool(tool),
        input_schema: tool.inputSchema,
      }));
  }

  /** The server's own name of a tool offered under `exposed` (the two differ when the server's is not API-safe). */
  serverToolName(exposed: string): string | undefined {
    return this.listed?.names.toServer(exposed);
  }

  /** Every tool the server listed, by its own name (those turned off included); empty before it has started. */
  serverToolNames(): string[] {
    return (this.listed?.tools ?? []).map((tool) => tool.name);
  }

  async prepareTools(signal: AbortSignal): Promise<void> {
    if (!this.identity.config.enabled) return;
    // A server that just failed to start is not retried before every request (a hanging one
    // would hold each for the start timeout): a tool call or "show tools" still retries at once.
    if (this.failedAt !== null && Date.now() - this.failedAt < RETRY_START_AFTER_MS) return;
    try {
      await this.listTools(signal);
    } catch {
      // Recorded by listTools; the request goes on without this server's tools.
    }
  }

  async provision(signal: AbortSignal): Promise<void> {
    if (!this.identity.config.enabled) return;
    await this.listTools(signal);
  }

  async execute(tool: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    const config = this.identity.config;
    if (!config.enabled) return errorOutcome(`The MCP server "${this.identity.name}" is turned off for this session. Use another tool.`);
    const serverName = this.listed?.names.toServer(tool);
    if (serverName === undefined)
      return errorOutcome(
        `The MCP server "${this.identity.name}" has no tool named "${tool}" (its tools may have changed). Use one of the tools offered now.`,
      );
    if (config.disabled_tools.includes(serverName))
      return errorOutcome(`The tool "${serverName}" of "${this.identity.name}" is turned off for this session. Use another tool.`);
    // The checkpoints after a call marked as changing files hold what it did, not what this call does next
    // (an interrupt stops the waiting: the call then ends as interrupted).
    await this.heldUnless(options.signal);
    const outcome = await this.connection.callTool(serverName, input, { signal: options.signal, timeoutMs: config.timeout_seconds * 1000 });
    if (outcome.status === 'crashed') {
      const reason = this.remote()
        ? `the MCP server went away during a call to ${serverName}, or could not be reached; Drover connects to it again on the next call`
        : `the MCP server stopped during a call to ${serverName}; the next call starts it again`;
      this.hooks.record({ type: 'hand.lost', payload: { hand_id: this.identity.name, reason } });
    } else {
      this.announceReady();
    }
    const result: ToolOutcome = { content: outcome.content, isError: outcome.isError };
    if (outcome.structuredContent !== undefined) result.structuredContent = outcome.structuredContent;
    if (outcome.status === 'crashed' || outcome.status === 'interrupted') result.status = 'interrupted';
    else if (outcome.status === 'timed_out') result.status = 'timed_out';
    return result;
  }

  /** Later calls wait for `work` (the checkpoints that follow a call to a tool marked as changing files) before they start. */
  holdCallsUntil(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.held = Promise.all([this.held, settled]).then(() => undefined);
  }

  private heldUnless(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    let stop = (): void => undefined;
    const aborted = new Promise<void>((resolve) => {
      stop = resolve;
      signal.addEventListener('abort', stop, { once: true });
    });
    return Promise.race([this.held, aborted]).finally(() => signal.removeEventListener('abort', stop));
  }

  status(): { state: HandState; detail: string; container: string | null } {
    if (!this.identity.config.enabled)
      return { state: 'idle', detail: 'Off: its tools are not offered to Claude in this session.', container: null };
    const { state, detail } = this.connection.state();
    if (state === 'idle' && this.listed === null) {
      return {
        state,
        detail: this.remote()
          ? 'Not connected: Drover connects when Claude next needs its tools.'
          : 'Not started: it starts when Claude next needs its tools.',
        container: null,
      };
    }
    if (state === 'ready' && this.listed !== null)
      return { state, detail: `Running${this.serverLabel()}: ${this.toolCount()}.`, container: null };
    return { state, detail, container: null };
  }

  /** Its tools (starting the server if needed), each with whether it is on, and its stderr. */
  async info(signal: AbortSignal): Promise<McpServerInfo> {
    try {
      await this.listTools(signal);
    } catch (error) {
      return {
        ok: false,
        message: error instanceof Error ? error.message : String(error),
        server: null,
        tools: [],
        stderr: this.connection.stderrTail(),
      };
    }
    const listed = this.listed;
    const disabled = new Set(this.identity.config.disabled_tools);
    const tools: McpToolInfo[] = (listed?.tools ?? []).map((tool) => ({
      name: tool.name,
      exposedName: qualifiedToolName(this.identity.name, listed?.names.toExposed(tool.name) ?? tool.name),
      title: tool.title ?? null,
      description: tool.description,
      enabled: !disabled.has(tool.name),
    }));
    return {
      ok: true,
      message: `Running${this.serverLabel()}: ${this.toolCount()}.`,
      server: this.connection.serverInfo(),
      tools,
      stderr: this.connection.stderrTail(),
    };
  }

  stderrTail(): string {
    return this.connection.stderrTail();
  }

  async dispose(): Promise<void> {
    await this.connection.dispose();
  }

  // ------------------------------------------------------------------------------- internals

  private async listTools(signal: AbortSignal): Promise<void> {
    const wasRunning = this.connection.state().state === 'ready';
    if (!wasRunning) {
      const message =
        this.identity.config.transport.type === 'stdio'
          ? `Starting ${this.identity.config.transport.command}…`
          : `Connecting to ${this.identity.config.transport.url}…`;
      this.hooks.progress({ hand_id: this.identity.name, phase: 'connecting', message });
    }
    try {
      this.remember(await this.connection.listTools(AbortSignal.any([signal, AbortSignal.timeout(START_TIMEOUT_MS)])));
    } catch (error) {
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.failedAt = Date.now();
      if (!this.failureRecorded) {
        this.failureRecorded = true;
        const then = this.remote()
          ? 'Its tools are not offered until Drover can connect to it.'
          : 'Its tools are not offered until it starts; see its server log in the Hands panel.';
        this.hooks.record({ type: 'hand.failed', payload: { hand_id: this.identity.name, message: `${message.split('\n')[0]} ${then}` } });
      }
      throw error;
    }
    this.failureRecorded = false;
    this.failedAt = null;
    this.announceReady();
  }

  /** A URL server: Drover only connects to it, never starts it. */
  private remote(): boolean {
    return this.identity.config.transport.type === 'http';
  }

  private remember(tools: readonly McpTool[]): void {
    this.listed = {
      tools,
      names: mapToolNames(
        tools.map((tool) => tool.name),
        toolNameRoom(this.identity.name),
      ),
    };
  }

  /** Records `hand.ready` once per start of the server. */
  private announceReady(): void {
    const starts = this.connection.starts();
    if (starts === this.announcedStart || this.connection.state().state !== 'ready') return;
    this.announcedStart = starts;
    this.hooks.record({
      type: 'hand.ready',
      payload: { hand_id: this.identity.name, detail: `MCP server${this.serverLabel()}: ${this.toolCount()}` },
    });
  }

  private serverLabel(): string {
    const info = this.connection.serverInfo();
    return info ? ` ${info.name} ${info.version}` : '';
  }

  private toolCount(): string {
    const all = this.listed?.tools.length ?? 0;
    const off = this.listed?.tools.filter((tool) => this.identity.config.disabled_tools.includes(tool.name)).length ?? 0;
    return `${all} tool${all === 1 ? '' : 's'}${off > 0 ? ` (${off} turned off)` : ''}`;
  }
}

function describeTool(tool: McpTool): string {
  const text = tool.title && tool.title !== tool.description ? `${tool.title}. ${tool.description}` : tool.description;
  return text.trim() === '' ? tool.name : text;
}

function errorOutcome(text: string): ToolOutcome {
  return { content: [{ type: 'text', text }], isError: true };
}

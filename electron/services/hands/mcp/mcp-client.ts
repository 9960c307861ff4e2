/**
 * One connection to one MCP server (a local command over stdio, or a URL over Streamable HTTP),
 * on the official MCP SDK: started lazily, its tools listed (all pages, validated, cached and
 * refreshed when the server says they changed), and tools called with a timeout and
 * cancellation. A server that dies is a tool error, not an exception: the call says it crashed
 * (with what the server last wrote to stderr), the connection is 'lost', and the next call starts
 * it again. A URL server is never started by Drover, only connected to: one that goes away
 * mid-call ends the call at once (a ping checks it when its response stream breaks), and one
 * restarted between calls gets a new MCP session and the call once more.
 *
 * Secrets are resolved here, in the main process, only into the server's own environment or the
 * request headers. They must never reach a command line, a tool result, an event or a log line:
 * what the server writes to stderr is shown with every secret value it was given masked.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { HandState, McpTransport } from '#shared/hands';
import type { SecretId } from '#shared/vault';
import { Redactor } from '#services/vault/redact';
import type { SecretResolver } from '#services/vault/resolver';
import { sleep } from '#services/sleep';
import { mapCallToolResult, type McpToolOutcome } from './map-result.ts';

/** How much of the server's stderr is kept (the tail). */
export const STDERR_TAIL_BYTES = 64 * 1024;
/** How much of that tail a crash message carries to the model. */
const CRASH_TAIL_CHARS = 4000;
/** A server that repeats a cursor forever must not hang a listing. */
const MAX_TOOL_PAGES = 100;
/** How long a call refused by a URL server that is down may take to fail by itself (it takes ms). */
const REFUSED_GRACE_MS = 500;
/** How long a URL server may take to answer the ping that checks it is still there. */
const PROBE_TIMEOUT_MS = 3000;

/** A tool as the server describes it (validated). */
export interface McpTool {
  name: string;
  title?: string;
  description: string;
  inputSchema: { type: 'object'; properties?: Record<string, unknown>; required?: string[]; [key: string]: unknown };
}

const ToolSchema = z.looseObject({
  name: z.string().min(1).max(1024),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: z.looseObject({
    type: z.literal('object'),
    properties: z.record(z.string(), z.unknown()).optional(),
    required: z.array(z.string()).optional(),
  }),
});
const ListToolsPageSchema = z.looseObject({
  tools: z.array(z.unknown()),
  nextCursor: z.string().optional(),
});
/** What the SDK is asked to accept; the real check is ours (map-result, ToolSchema). */
const AnyObjectSchema = z.looseObject({});

/** Why a call ended: the harness records `interrupted` and `timed_out` as such. */
export type McpCallStatus = 'completed' | 'interrupted' | 'timed_out' | 'crashed';
export interface McpCallOutcome extends McpToolOutcome {
  status: McpCallStatus;
}

export interface McpServerConnectionOptions {
  /** The hand's name: in messages, in the client name and in each secret's stated purpose. */
  name: string;
  transport: McpTransport;
  secrets: SecretResolver;
  /** Called with the new list after the server announced its tools changed. */
  onToolsChanged?: (tools: readonly McpTool[]) => void;
  /** How long starting (spawn + initialize) may take. */
  startTimeoutMs?: number;
  log?: (message: string, error?: unknown) => void;
}

/** Thrown by `start` when the server cannot be started; the message is for the user. */
export class McpStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'McpStartError';
  }
}

/** The last `limit` bytes written to a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

interface Session {
  client: Client;
  transport: Transport;
  /** Set when the transport closed: the server exited, or we closed it. */
  closed: boolean;
  /** Tool calls under way on this session. */
  calls: number;
  /** A ping checking that a URL server is still there, under way. */
  probing: boolean;
  /** Why the session was given up (the server went away), for the calls it ends. */
  lostBecause?: string;
}

function isAbortError(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof Error && error.name === 'AbortError');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, a reset…).
  const cause: unknown = error.cause;
  const why = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
  return why === undefined || error.message.includes(why) ? error.message : `${error.message}: ${why}`;
}

/** Nothing listens at a URL server's address: the request never reached it. */
function isRefused(error: unknown): boolean {
  return error instanceof Error && error.cause instanceof Error && (error.cause as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}

/**
 * A URL server that no longer knows our MCP session (it was restarted, or expired it): 404 by the
 * spec; some servers (server-everything) answer 400 "No valid session ID provided". The request
 * was refused before it ran, so it is safe to send again on a new session.
 */
function isSessionGone(error: unknown): boolean {
  if (!(error instanceof StreamableHTTPError)) return false;
  return error.code === 404 || (error.code === 400 && /session/i.test(error.message));
}

export class McpServerConnection {
  private session: Session | null = null;
  private starting: Promise<Session> | null = null;
  private currentState: HandState = 'idle';
  private currentDetail: string;
  private tools: readonly McpTool[] | null = null;
  private readonly stderr = new TailBuffer(STDERR_TAIL_BYTES);
  /** Every secret value handed to the server (value → the secret's name), masked wherever its output is shown. */
  private readonly revealed = new Map<string, string>();
  /** The one masking implementation, for exactly those values (so as short as 4 characters). */
  private readonly redactor = new Redactor({ minLength: 4 });
  private disposed = false;
  private startCount = 0;
  /** A tools/list the server's list_changed asked for, still under way. */
  private refreshing: Promise<void> | null = null;
  /** Aborts a start in progress when the connection is closed. */
  private startAbort = new AbortController();

  constructor(private readonly options: McpServerConnectionOptions) {
    this.currentDetail = this.remote()
      ? 'Not connected: Drover connects on the first tool call.'
      : 'Not started: it starts on the first tool call.';
  }

  /** A URL server runs elsewhere: Drover only connects to it, never starts or restarts it. */
  private remote(): boolean {
    return this.options.transport.type === 'http';
  }

  /** The server as messages name it: `"name"`, and its URL for a URL server. */
  private label(): string {
    const transport = this.options.transport;
    return transport.type === 'http' ? `"${this.options.name}" at ${transport.url}` : `"${this.options.name}"`;
  }

  state(): { state: HandState; detail: string } {
    return { state: this.currentState, detail: this.currentDetail };
  }

  /** How many times the server has been started successfully (a restart after a crash counts). */
  starts(): number {
    return this.startCount;
  }

  /** The server's name and version as it introduced itself, once started. */
  serverInfo(): { name: string; version: string } | null {
    const info = this.session?.client.getServerVersion();
    return info ? { name: info.name, version: info.version } : null;
  }

  /** What the server last wrote to stderr (stdio only; at most 64 KiB), secrets masked. */
  stderrTail(): string {
    return this.mask(this.stderr.text());
  }

  private mask(text: string): string {
    return this.redactor.redact(text);
  }

  /** A hand must never put a secret in a tool result, even one the server echoes back. */
  private masked(outcome: McpToolOutcome): McpToolOutcome {
    return this.redactor.redactDeep(outcome);
  }

  /** Starts the server if it is not running; resolves when it has answered `initialize`. */
  async start(signal: AbortSignal): Promise<void> {
    await this.ensureSession(signal);
  }

  /** The server's tools (every page), cached until the server says they changed. */
  async listTools(signal: AbortSignal): Promise<readonly McpTool[]> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.ensureSession(signal);
      if (this.tools !== null) return this.tools;
      try {
        const tools = await this.fetchTools(session, signal);
        if (this.session === session) this.tools = tools;
        return tools;
      } catch (error) {
        if (attempt > 0 || !isSessionGone(error)) throw error;
        this.markLost(session, error);
      }
    }
  }

  /**
   * Calls a tool. Never throws: a tool error, a bad answer, a timeout, an interrupt or a crash
   * all resolve as an error outcome the model can read.
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<McpCallOutcome> {
    const { signal, timeoutMs } = options;
    if (signal.aborted) return this.failure('interrupted', 'The tool call was interrupted before it started.');
    for (let attempt = 0; ; attempt++) {
      let session: Session;
      try {
        session = await this.ensureSession(signal);
      } catch (error) {
        if (signal.aborted)
          return this.failure(
            'interrupted',
            `The tool call was interrupted while ${this.remote() ? 'connecting to' : 'starting'} the MCP server.`,
          );
        return this.failure('crashed', describe(error));
      }
      session.calls++;
      try {
        const raw = await session.client.request({ method: 'tools/call', params: { name, arguments: args } }, AnyObjectSchema, {
          signal,
          timeout: timeoutMs,
        });
        // A call that changed the server's tools (list_changed came before its result) returns once
        // the new list is known, so the very next model request offers it.
        if (this.refreshing !== null) await Promise.race([this.refreshing, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
        return { ...this.masked(mapCallToolResult(raw)), status: 'completed' };
      } catch (error) {
        if (signal.aborted)
          return this.failure(
            'interrupted',
            `The tool call was interrupted; Drover asked the MCP server "${this.options.name}" to cancel it.`,
          );
        if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
          return this.failure(
            'timed_out',
            `The tool did not finish within ${Math.round(timeoutMs / 1000)} s and was cancelled. Try a smaller task, or raise the hand's timeout.`,
          );
        }
        // A URL server restarted since the last call refused this one before running it: a new
        // MCP session (initialize again), and the call once more.
        if (attempt === 0 && isSessionGone(error)) {
          this.markLost(session, error);
          continue;
        }
        // Let the transport's close (the process exit) land before deciding what happened.
        await new Promise((resolve) => setImmediate(resolve));
        const lostConnection =
          session.closed || (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) || !(error instanceof McpError);
        if (lostConnection) {
          this.markLost(session, error);
          if (isRefused(error))
            return this.failure(
              'crashed',
              `Drover could not reach the MCP server ${this.label()} (${describe(error)}): the call did not run. Check that the server is running at that URL; Drover connects to it again on the next call.`,
            );
          return this.failure('crashed', this.crashMessage(session.lostBecause ?? describe(error)));
        }
        return this.failure('completed', `The MCP server "${this.options.name}" refused the call: ${error.message}`);
      } finally {
        session.calls--;
      }
    }
  }

  /** Stops the server (stdio) or ends the session (HTTP). The connection can start again later. */
  async close(): Promise<void> {
    this.startAbort.abort(new DOMException('the connection was closed', 'AbortError'));
    this.startAbort = new AbortController();
    const session = this.session ?? (await this.starting?.catch(() => null)) ?? null;
    this.session = null;
    this.starting = null;
    this.tools = null;
    if (session !== null) await this.closeSession(session);
    this.currentState = 'idle';
    this.currentDetail = this.remote()
      ? 'Disconnected: Drover connects again on the next tool call.'
      : 'Stopped: it starts again on the next tool call.';
  }

  /** Closes for good: later calls fail. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.close();
  }

  private failure(status: McpCallStatus, message: string): McpCallOutcome {
    return { content: [{ type: 'text', text: message }], isError: true, status };
  }

  private crashMessage(reason: string): string {
    if (this.remote()) {
      return `The MCP server ${this.label()} went away during the call (${reason}). The call did not complete, and may or may not have taken effect there. Drover connects to it again on the next call; if it is down, it has to be started again where it runs.`;
    }
    const tail = this.stderrTail().trimEnd();
    const tailText = tail === '' ? '' : `\nIts last output (stderr):\n${tail.slice(-CRASH_TAIL_CHARS)}`;
    return `The MCP server ${this.label()} exited during the call (${reason}). The call did not complete; the next call starts the server again.${tailText}`;
  }

  /** Gives the session up (the server exited or went away); the next call opens a new one. */
  private markLost(session: Session, error: unknown): void {
    session.lostBecause ??= describe(error);
    if (this.session !== session) return;
    this.session = null;
    this.tools = null;
    this.currentState = 'lost';
    this.currentDetail = this.remote()
      ? `The MCP server went away (${session.lostBecause}); Drover connects to it again on the next tool call.`
      : `The MCP server stopped (${session.lostBecause}); the next tool call starts it again.`;
    // Closing ends every request still waiting on this session (ConnectionClosed), at once.
    void this.closeSession(session, { terminate: false });
  }

  /**
   * A URL server's response stream broke (or another transport error came) while calls were under
   * way: the SDK would wait for their results until each call's timeout. A ping says at once
   * whether the server is still there with our session; if not, the session is given up, and the
   * calls end now saying the server went away.
   */
  private async probe(session: Session): Promise<void> {
    if (session.probing || session.closed || session.calls === 0) return;
    session.probing = true;
    try {
      await session.client.ping({ timeout: PROBE_TIMEOUT_MS });
    } catch (error) {
      // Refused: nothing listens there now. A call whose own request was refused fails by itself
      // in moments, saying it did not run; give it that moment before ending the calls that were
      // sent (their streams broke) as gone away.
      if (isRefused(error)) await sleep(REFUSED_GRACE_MS);
      if (!session.closed)
        this.markLost(
          session,
          error instanceof McpError && error.code === ErrorCode.RequestTimeout
            ? new Error(`it did not answer a ping within ${PROBE_TIMEOUT_MS / 1000} s`)
            : error,
        );
    } finally {
      session.probing = false;
    }
  }

  private async closeSession(session: Session, options: { terminate: boolean } = { terminate: true }): Promise<void> {
    session.closed = true;
    try {
      if (options.terminate && session.transport instanceof StreamableHTTPClientTransport && session.transport.sessionId !== undefined) {
        await session.transport.terminateSession().catch(() => undefined);
      }
      await session.client.close();
    } catch (error) {
      this.options.log?.(`closing MCP server "${this.options.name}" failed`, error);
    }
  }

  private async ensureSession(signal: AbortSignal): Promise<Session> {
    if (this.disposed) throw new McpStartError(`The MCP hand "${this.options.name}" was closed.`);
    if (this.session !== null && !this.session.closed) return this.session;
    // One start is shared by every caller, so it is not tied to any caller's signal: a caller
    // that is interrupted stops waiting, and the start carries on for the others.
    this.starting ??= this.open(this.startAbort.signal).finally(() => {
      this.starting = null;
    });
    signal.throwIfAborted();
    const starting = this.starting;
    return new Promise<Session>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new DOMException('interrupted', 'AbortError'));
      signal.addEventListener('abort', onAbort, { once: true });
      starting.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** A secret's value for the server; from now on masked as `[secret “name” redacted]` in all it shows. */
  private async reveal(id: SecretId, purpose: string, usedAs: string): Promise<string> {
    const value = await this.options.secrets.reveal(id, purpose);
    const listed = await this.options.secrets.list?.().catch(() => undefined);
    this.revealed.set(value, listed?.find((secret) => secret.id === id)?.name ?? usedAs);
    this.redactor.setSecrets([...this.revealed].map(([secret, name]) => ({ name, value: secret })));
    return value;
  }

  private async resolveValues(
    values: Record<string, { value: string } | { secret_id: SecretId }>,
    what: string,
  ): Promise<Record<string, string>> {
    const resolved: Record<string, string> = {};
    for (const [key, entry] of Object.entries(values)) {
      resolved[key] =
        'value' in entry ? entry.value : await this.reveal(entry.secret_id, `MCP server "${this.options.name}" ${what} ${key}`, key);
    }
    return resolved;
  }

  private async createTransport(): Promise<Transport> {
    const config = this.options.transport;
    if (config.type === 'stdio') {
      const base: Record<string, string> = {};
      for (const key of ['PATH', 'HOME', 'LANG']) {
        const value = process.env[key];
        if (value !== undefined) base[key] = value;
      }
      const env = { ...base, ...(await this.resolveValues(config.env, 'environment variable')) };
      const transport = new StdioClientTransport({
        command: config.command,
        args: config.args,
        env,
        stderr: 'pipe',
        ...(config.cwd === null ? {} : { cwd: config.cwd }),
      });
      transport.stderr?.on('data', (chunk: Buffer | string) => this.stderr.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
      return transport;
    }
    const headers = await this.resolveValues(config.headers, 'header');
    if (config.bearer_secret_id !== null) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'authorization') delete headers[key];
      headers['Authorization'] =
        `Bearer ${await this.reveal(config.bearer_secret_id, `MCP server "${this.options.name}" bearer token`, 'bearer token')}`;
    }
    return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers } });
  }

  private async open(signal: AbortSignal): Promise<Session> {
    this.currentState = 'provisioning';
    this.currentDetail = this.remote() ? 'Connecting to the MCP server…' : 'Starting the MCP server…';
    if (this.stderr.text() !== '') this.stderr.push(Buffer.from('\n--- restarted ---\n'));
    let session: Session | null = null;
    try {
      const transport = await this.createTransport();
      const client = new Client({ name: `drover-${this.options.name}`, version: '1.0.0' }, { capabilities: {} });
      const opened: Session = { client, transport, closed: false, calls: 0, probing: false };
      session = opened;
      client.onclose = () => {
        opened.closed = true;
        if (this.session === opened) {
          this.session = null;
          this.tools = null;
          this.currentState = 'lost';
          this.currentDetail = this.remote()
            ? 'The connection to the MCP server closed; Drover connects again on the next tool call.'
            : 'The MCP server exited; the next tool call starts it again.';
        }
      };
      client.onerror = (error) => {
        this.options.log?.(`MCP server "${this.options.name}" transport error`, error);
        // A refused connection is a request that never left: that request fails by itself, saying
        // the call did not run. Probing now would race it and call it "went away during the call".
        if (this.remote() && !isRefused(error)) void this.probe(opened);
      };
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        const refresh = this.refreshTools(opened);
        this.refreshing = refresh;
        void refresh.finally(() => {
          if (this.refreshing === refresh) this.refreshing = null;
        });
      });
      await client.connect(transport, { signal, timeout: this.options.startTimeoutMs ?? 30_000 });
      if (opened.closed) throw new Error(this.remote() ? 'the connection closed right after it opened' : 'it exited right after starting');
      this.session = opened;
      this.tools = null;
      this.startCount++;
      this.currentState = 'ready';
      this.currentDetail = 'Running.';
      return opened;
    } catch (error) {
      if (session !== null) await this.closeSession(session);
      if (isAbortError(error, signal)) {
        this.currentState = 'idle';
        this.currentDetail = this.remote()
          ? 'Connecting was interrupted: Drover connects on the next tool call.'
          : 'Starting was interrupted: it starts on the next tool call.';
        throw error;
      }
      this.currentState = 'failed';
      if (this.remote()) {
        const message = `Drover could not connect to the MCP server ${this.label()}: ${describe(error)}.`;
        this.currentDetail = `${message} Check that it is running at that URL and that its headers or token are right; the next tool call tries again.`;
        throw new McpStartError(message, { cause: error });
      }
      const tail = this.stderrTail().trimEnd();
      const message = `The MCP server ${this.label()} could not be started: ${describe(error)}.${tail === '' ? '' : `\nIts last output (stderr):\n${tail.slice(-CRASH_TAIL_CHARS)}`}`;
      this.currentDetail = `${message.split('\n')[0]} Check its command; the next tool call tries again.`;
      throw new McpStartError(message, { cause: error });
    }
  }

  private async refreshTools(session: Session): Promise<void> {
    try {
      const tools = await this.fetchTools(session, AbortSignal.timeout(this.options.startTimeoutMs ?? 30_000));
      if (this.session !== session) return;
      this.tools = tools;
      this.options.onToolsChanged?.(tools);
    } catch (error) {
      this.options.log?.(`refreshing the tools of MCP server "${this.options.name}" failed`, error);
    }
  }

  private async fetchTools(session: Session, signal: AbortSignal): Promise<readonly McpTool[]> {
    const tools: McpTool[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const raw = await session.client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } }, AnyObjectSchema, {
        signal,
      });
      const parsed = ListToolsPageSchema.safeParse(raw);
      if (!parsed.success)
        throw new Error(
          `The MCP server "${this.options.name}" answered tools/list with something invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`,
        );
      for (const item of parsed.data.tools) {
        const tool = ToolSchema.safeParse(item);
        if (!tool.success) {
          this.options.log?.(`MCP server "${this.options.name}": skipped an invalid tool (${tool.error.issues[0]?.message ?? 'unknown'})`);
          continue;
        }
        if (seen.has(tool.data.name)) continue;
        seen.add(tool.data.name);
        const { name, title, description, inputSchema } = tool.data;
        tools.push({ name, ...(title === undefined ? {} : { title }), description: description ?? title ?? '', inputSchema });
      }
      cursor = parsed.data.nextCursor;
      if (cursor === undefined) return tools;
    }
    this.options.log?.(`MCP server "${this.options.name}": tools/list gave more than ${MAX_TOOL_PAGES} pages; using those`);
    return tools;
  }
}

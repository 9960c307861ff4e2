/**
 * What the hand registry (registry.ts) does for MCP servers only: the attach form's "Test" of a
 * server that is not attached, the servers attached before (to offer again), the room a hand's
 * name must leave for its tools' names, and what an MCP hand that is off reports.
 *
 * Never offers again a server from an imported file the user has not approved, and never leaves a
 * tested server running: it is stopped whether the test passed or not.
 *
 * Also what follows a call to an MCP tool the user marked as changing files (`writing_tools`): the
 * session's file hands (Docker, SSH) are told `changed()` then `toolAnswered(seq)` of its result.
 */
import { AppError } from '#shared/errors';
import type { StoredEvent } from '#shared/events';
import { qualifiedToolName, type HandSpec, type McpHandConfig, type McpServerInfo } from '#shared/hands';
import type { SessionStore } from '#services/session/store';
import type { SecretResolver } from '#services/vault/resolver';
import type { ManagedHand } from './hand.ts';
import { McpServerConnection } from './mcp/mcp-client.ts';
import { McpHand } from './mcp/mcp-hand.ts';
import { mapToolNames, toolNameRoom } from './mcp/tool-names.ts';

export interface RecentMcpServer {
  name: string;
  config: McpHandConfig;
  sessionTitle: string;
  attachedAt: string;
}

/** MCP servers attached in any session, latest first, one per command or URL (at most `limit`). */
export function recentMcpServers(store: SessionStore, limit: number): RecentMcpServer[] {
  const found = new Map<string, RecentMcpServer>();
  for (const session of store.listSessions()) {
    // Servers from imported files are offered again only once the user approved them.
    const importedSeq = session.importedSeq ?? 0;
    for (const event of store.getEvents(session.id, { types: ['hand.attached'], afterSeq: importedSeq, limit: 1000 })) {
      if (event.type !== 'hand.attached' || event.payload.config.kind !== 'mcp') continue;
      const key = JSON.stringify(event.payload.config.transport);
      const existing = found.get(key);
      if (existing && existing.attachedAt >= event.ts) continue;
      found.set(key, { name: event.payload.hand_id, config: event.payload.config, sessionTitle: session.title, attachedAt: event.ts });
    }
  }
  return [...found.values()].sort((a, b) => b.attachedAt.localeCompare(a.attachedAt)).slice(0, limit);
}

/** Starts an MCP server that is not attached (the "Test" of the attach form), lists its tools and stops it. */
export async function testMcpServer(
  config: McpHandConfig,
  name: string,
  secrets: SecretResolver,
  log: (message: string, error?: unknown) => void,
): Promise<McpServerInfo> {
  const connection = new McpServerConnection({
    name,
    transport: config.transport,
    secrets,
    startTimeoutMs: 30_000,
    log,
  });
  try {
    const tools = await connection.listTools(AbortSignal.timeout(45_000));
    const names = mapToolNames(
      tools.map((tool) => tool.name),
      toolNameRoom(name),
    );
    const disabled = new Set(config.disabled_tools);
    const server = connection.serverInfo();
    return {
      ok: true,
      message: `${server ? `${server.name} ${server.version}` : 'The server'} ${config.transport.type === 'stdio' ? 'started' : 'answered'} and offers ${tools.length} tool${tools.length === 1 ? '' : 's'}.`,
      server,
      tools: tools.map((tool) => ({
        name: tool.name,
        exposedName: qualifiedToolName(name, names.toExposed(tool.name) ?? tool.name),
        title: tool.title ?? null,
        description: tool.description,
        enabled: !disabled.has(tool.name),
      })),
      stderr: connection.stderrTail(),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message: message.split('\n')[0] ?? message, server: null, tools: [], stderr: connection.stderrTail() };
  } finally {
    await connection.dispose();
  }
}

/** What an MCP hand that is turned off reports instead of its tools (its server is not started for it). */
export function offInfo(hand: McpHand): McpServerInfo {
  return {
    ok: true,
    message:
      hand.config.transport.type === 'stdio'
        ? 'Off: turn it on to start it and see its tools.'
        : 'Off: turn it on to connect to it and see its tools.',
    server: null,
    tools: [],
    stderr: hand.stderrTail(),
  };
}

/** An MCP server's tool names must fit the API's 128 characters after `<hand>__`: its name must leave room. */
export function checkMcpName(spec: HandSpec): void {
  if (spec.config.kind === 'mcp' && toolNameRoom(spec.name) < 20) {
    throw new AppError('invalid-argument', `The name "${spec.name}" is too long for an MCP server's tools to fit. Pick a shorter name.`);
  }
}

type McpCallEvent = Extract<StoredEvent, { type: 'agent.mcp_tool_use' | 'agent.mcp_tool_result' }>;

/**
 * Calls to MCP tools the user marked as changing files (`writing_tools` of the hand's configuration in
 * force when the call was made), from their use until their result. When one is answered, every live hand
 * of the session that checkpoints its files (Docker; SSH when it does) is told `changed()` then
 * `toolAnswered(seq)` — queued at once, as for its own calls, so the checkpoint comes before the hand's
 * next call — and the session's MCP servers hold their next calls until those captures settle, so the
 * checkpoint holds what the marked call did and nothing later. A marked call itself first waits for
 * the work queued on the file hands (their checkpoints after earlier calls), which so hold none of it. A hand whose files did not change
 * records nothing (the manifest equals its parent's). Unmarked tools trigger nothing.
 */
export class WritingMcpCalls {
  /** `agent.mcp_tool_use` ids of this process until their result: whether the tool was marked. */
  private readonly uses = new Map<string, boolean>();

  constructor(
    private readonly store: SessionStore,
    private readonly instances: ReadonlyMap<string, { hand: ManagedHand }>,
    private readonly track: (work: Promise<void>, what: string) => void,
  ) {}

  /** Called synchronously for each MCP tool event the store records. */
  seen(sessionId: string, event: McpCallEvent): void {
    if (event.type === 'agent.mcp_tool_use') {
      const marked = this.marked(sessionId, event.payload.server_name, event.payload.name);
      this.uses.set(event.payload.tool_use_id, marked);
      // A marked call waits for the file hands' work queued before it (their checkpoints after earlier calls),
      // so those checkpoints do not take what it changes, and its own holds exactly that.
      const server = this.instances.get(`${sessionId}/${event.payload.server_name}`)?.hand;
      if (marked && server instanceof McpHand) {
        const fileHands = [...this.instances].filter(([key, { hand }]) => key.startsWith(`${sessionId}/`) && hand.toolAnswered);
        server.holdCallsUntil(Promise.allSettled(fileHands.map(([, { hand }]) => hand.drained?.())));
      }
      return;
    }
    const id = event.payload.tool_use_id;
    const marked = this.uses.get(id) ?? this.markedFromLog(sessionId, id);
    this.uses.delete(id);
    if (!marked) return;
    const session = [...this.instances].filter(([key]) => key.startsWith(`${sessionId}/`));
    const captures: Array<Promise<void>> = [];
    for (const [key, { hand }] of session) {
      if (!hand.toolAnswered) continue;
      hand.changed?.();
      const capture = hand.toolAnswered(event.seq);
      captures.push(capture);
      this.track(capture, `Checkpoint of ${key} after an MCP tool marked as changing files`);
    }
    // The session's MCP servers' next calls wait for these captures, so they hold what the marked call did, not more.
    const all = Promise.allSettled(captures);
    for (const [, { hand }] of session) if (hand instanceof McpHand) hand.holdCallsUntil(all);
  }

  /** Whether `called` (`<server>__<tool>`, as the model called it) is a tool of the server the user marked as changing files. */
  private marked(sessionId: string, server: string, called: string): boolean {
    const hand = this.instances.get(`${sessionId}/${server}`)?.hand;
    if (!(hand instanceof McpHand) || !hand.config.writing_tools?.length) return false;
    const prefix = qualifiedToolName(server, '');
    const exposed = called.startsWith(prefix) ? called.slice(prefix.length) : called;
    return hand.config.writing_tools.includes(hand.serverToolName(exposed) ?? exposed);
  }

  /** A call made by an earlier process (approved since, say): its use from the log, judged by the configuration now. */
  private markedFromLog(sessionId: string, toolUseId: string): boolean {
    const uses = this.store.getEvents(sessionId, { types: ['agent.mcp_tool_use'], direction: 'backward', limit: 1000 });
    const use = uses.find((event) => event.type === 'agent.mcp_tool_use' && event.payload.tool_use_id === toolUseId);
    return use?.type === 'agent.mcp_tool_use' && this.marked(sessionId, use.payload.server_name, use.payload.name);
  }
}

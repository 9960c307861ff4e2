/**
 * The RPC contract between the UI and the main process, the same for every transport
 * (Electron IPC, WebSocket in serve mode).
 *
 * Each method has a kebab-case name with a domain prefix, an argument schema (validated by the
 * dispatcher before any handler runs) and a result schema. Wire envelopes:
 * `{id,name,arg}` → `{id,result}` | `{id,error:{code,message}}`, and pushes `{push,arg}`.
 * Must never import node, electron or DOM code.
 */
import { z } from 'zod';
import { RpcErrorSchema } from './errors.ts';
import {
  ContentBlockSchema,
  CUSTOM_TOOL_LIMITS,
  CustomToolSchema,
  CustomToolsSchema,
  OutcomeDefinitionSchema,
  SessionSettingsChangesSchema,
  SessionSettingsSchema,
  StoredEventSchema,
} from './events.ts';
import {
  HandNameSchema,
  HandProgressSchema,
  HandSpecSchema,
  HandStatusSchema,
  HostKeySchema,
  McpHandConfigSchema,
  McpImportSchema,
  McpServerInfoSchema,
  SshHandConfigSchema,
  SshTestResultSchema,
} from './hands.ts';
import { SshConfigAliasSchema, SshConfigListingSchema } from './ssh.ts';
import {
  TerminalColsSchema,
  TerminalExitSchema,
  TerminalIdSchema,
  TerminalInputSchema,
  TerminalOutputSchema,
  TerminalRowsSchema,
} from './terminals.ts';
import {
  BudgetSchema,
  GuardrailsViewSchema,
  PermissionPolicySchema,
  PolicyChoiceSchema,
  PolicyRuleSchema,
  PolicyToolSchema,
  RuleIdSchema,
  ToolConfirmationSchema,
} from './guardrails.ts';
import { ChangesSchema, FileDiffSchema, RestoredFileSchema } from './changes.ts';
import { LiveUpdateSchema, ModelListSchema, SessionUsageSchema } from './harness.ts';
import { LocalApiNewTokenSchema, LocalApiSettingsSchema, LocalApiStatusSchema } from './local-api.ts';
import { EnvironmentIdSchema, EnvironmentKeyInfoSchema, NewEnvironmentKeySchema, WorkerStatusSchema } from './workers.ts';
import { StorageLimitsSchema, StorageReclaimSchema, StorageThinSchema, StorageThresholdSchema, StorageUsageSchema } from './storage.ts';
import { EngineConfigSchema, EngineIdSchema, EngineTestResultSchema } from './engines.ts';
import { SearchArgSchema, SearchResultSchema, SearchStatusSchema } from './search.ts';
import { SessionThreadsSchema, ThreadSummarySchema } from './thread-view.ts';
import { RosterSchema, SessionThreadIdSchema } from './threads.ts';
import { HandLibraryIdSchema, HandLibraryLabelSchema, HandLibraryListingSchema } from './hand-library.ts';
import { TimeDensityQuerySchema, TimeDensitySchema } from './time-density.ts';
import {
  ApiKeyStatusSchema,
  SecretIdSchema,
  SecretKindSchema,
  SecretMetaSchema,
  SecretNameSchema,
  SecretValueSchema,
  VaultStatusSchema,
} from './vault.ts';
import {
  EventQuerySchema,
  SessionIdSchema,
  SessionSummarySchema,
  SessionTimelineSchema,
  SessionTitleSchema,
  SessionTreeNodeSchema,
} from './sessions.ts';

export const AppInfoSchema = z.strictObject({
  version: z.string(),
  dataDir: z.string(),
  platform: z.string(),
  /** Set when the data folder can be read by other users (group/others permissions): what to do about it. */
  dataDirWarning: z.string().optional(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

const sessionRef = z.strictObject({ sessionId: SessionIdSchema });
/** An event's position in a session's view (0: before the first event). */
const eventSeq = z.number().int('an event number is a whole number').nonnegative('an event number is 0 or more');
/** An absolute path in a hand's files. */
const containerPath = z
  .string()
  .min(2, 'give an absolute path such as /work/a.txt')
  .max(4096, 'a path is at most 4096 characters')
  .regex(/^\/[^\0]*$/, 'give an absolute path such as /work/a.txt (starting with /, no NUL)')
  .refine((path) => !path.split('/').includes('..'), 'a path may not contain ".." (give it as the hand sees it, e.g. /work/a.txt)');

/** What the user types; a message is at most 1 MB of text (imports are held to the same rule). */
export const MessageTextSchema = z
  .string()
  .max(1_000_000, 'a message is at most 1,000,000 characters')
  .refine((text) => text.trim() !== '', 'the message is empty');

/** One answer to a custom tool call: its content (text and images) and whether it is an error. */
export const CustomToolResultSchema = z.strictObject({
  custom_tool_use_id: z.string().min(1).max(256),
  content: z
    .array(ContentBlockSchema)
    .max(CUSTOM_TOOL_LIMITS.resultBlocks, `a result has at most ${CUSTOM_TOOL_LIMITS.resultBlocks} blocks`)
    .default([]),
  is_error: z.boolean().default(false),
});
export type CustomToolResult = z.output<typeof CustomToolResultSchema>;

/** How many hands a session can be launched with. */
export const MAX_LAUNCH_HANDS = 8;

/** Hands to attach at launch: at most 8, each name once. */
const LaunchHandsSchema = z
  .array(HandSpecSchema)
  .max(MAX_LAUNCH_HANDS, `a session has at most ${MAX_LAUNCH_HANDS} hands`)
  .refine((hands) => new Set(hands.map((hand) => hand.name)).size === hands.length, 'two hands have the same name: give each its own');

/** Every RPC method: its argument and result schemas. */
export const rpcMethods = {
  'app-info': { arg: z.undefined(), result: AppInfoSchema },
  'sessions-list': { arg: z.undefined(), result: z.array(SessionSummarySchema) },
  'sessions-create': {
    arg: z.strictObject({ title: SessionTitleSchema }),
    result: SessionSummarySchema,
  },
  /** Creates a session with its settings and, when given, sends the first message (which starts it). */
  'sessions-launch': {
    arg: z.strictObject({
      title: SessionTitleSchema,
      settings: SessionSettingsChangesSchema.optional(),
      /** Attached before the first message; each starts on its first tool call. */
      hands: LaunchHandsSchema.optional(),
      /** What "done" means: graded at each turn end (recorded before the first message). */
      outcome: OutcomeDefinitionSchema.optional(),
      message: MessageTextSchema.optional(),
      /** The new session's budget (forks inherit it); absent: the default budget for new sessions (`budget-default-get`). */
      budget: BudgetSchema.optional(),
      /** Policies for the launch hands' tools (or whole hands), over their kinds' defaults; recorded right after the hands. */
      policies: z.array(PolicyChoiceSchema).max(64, 'at most 64 policies at launch').optional(),
      /** Tools the program driving the session runs itself (see `sessions-custom-tool-result`); recorded before the first message. */
      custom_tools: CustomToolsSchema.optional(),
    }),
    result: SessionSummarySchema,
  },
  /** Defines (or replaces) the session's outcome; it is graded from the next turn end. */
  'sessions-define-outcome': {
    arg: z.strictObject({ sessionId: SessionIdSchema, outcome: OutcomeDefinitionSchema }),
    result: SessionSummarySchema,
  },
  'sessions-get': { arg: sessionRef, result: SessionSummarySchema },
  /** Appends a user message (its text, or its content blocks: text and images); the session wakes to answer it. */
  'sessions-send': {
    arg: z.union([
      z.strictObject({ sessionId: SessionIdSchema, text: MessageTextSchema }),
      z.strictObject({
        sessionId: SessionIdSchema,
        content: z.array(ContentBlockSchema).min(1).max(100, 'a message has at most 100 blocks'),
      }),
    ]),
    result: z.null(),
  },
  /** Stops the running response or tool; the log records what was cut. */
  'sessions-interrupt': {
    /** `sessionThreadId`: stop that thread only (issue 21); absent: every thread. */
    arg: z.strictObject({
      sessionId: SessionIdSchema,
      reason: z.string().max(1000).optional(),
      sessionThreadId: SessionThreadIdSchema.optional(),
    }),
    result: z.null(),
  },
  /** Sets the agents the session's coordinator may start as threads (issue 21); recorded as `session.roster_set`. */
  'sessions-set-roster': { arg: z.strictObject({ sessionId: SessionIdSchema, roster: RosterSchema }), result: RosterSchema },
  /** Replaces the session's custom tools (empty: none); recorded in the log, so forks inherit them; the model sees them from its next request. */
  'sessions-set-custom-tools': {
    arg: z.strictObject({ sessionId: SessionIdSchema, tools: CustomToolsSchema }),
    result: z.array(CustomToolSchema),
  },
  /**
   * Answers custom tool calls (`agent.custom_tool_use`, named by event id or by `tool_use_id`) with
   * their results, one or several at once; when every call of the turn is answered, the session
   * wakes and the model receives them. Unknown or already answered calls are refused, nothing recorded.
   * Returns the recorded `user.custom_tool_result` events.
   */
  'sessions-custom-tool-result': {
    arg: z.strictObject({
      sessionId: SessionIdSchema,
      results: z
        .array(CustomToolResultSchema)
        .min(1, 'answer at least one custom tool call')
        .max(64, 'answer at most 64 custom tool calls at once'),
    }),
    result: z.array(StoredEventSchema),
  },
  /**
   * Records a `system.message` (Managed Agents' privileged mid-session context): from the model's
   * next request on, it is appended to the system prompt. It does not wake the session; send it
   * with (before) the message or result it accompanies. Returns the recorded event.
   */
  'sessions-system-message': {
    arg: z.strictObject({ sessionId: SessionIdSchema, text: MessageTextSchema }),
    result: StoredEventSchema,
  },
  'sessions-settings': { arg: sessionRef, result: SessionSettingsSchema },
  'sessions-configure': {
    arg: z.strictObject({ sessionId: SessionIdSchema, settings: SessionSettingsChangesSchema }),
    result: SessionSettingsSchema,
  },
  'sessions-usage': { arg: sessionRef, result: SessionUsageSchema },
  'models-list': { arg: z.undefined(), result: ModelListSchema },
  /** The session's hands and where each is in its life. */
  'hands-list': { arg: sessionRef, result: z.array(HandStatusSchema) },
  /** Adds a hand (recorded in the log: forks inherit it); it starts on its first tool call. */
  'hands-attach': { arg: z.strictObject({ sessionId: SessionIdSchema, hand: HandSpecSchema }), result: z.array(HandStatusSchema) },
  /**
   * Changes an attached hand's configuration (e.g. an MCP server turned off, or some of its tools):
   * recorded in the log, so forks inherit it; it applies from the next model request.
   */
  'hands-update': { arg: z.strictObject({ sessionId: SessionIdSchema, hand: HandSpecSchema }), result: z.array(HandStatusSchema) },
  /**
   * Turns on a hand that came from an imported file, after the user has seen what it runs. Names
   * the attach event shown (`attachedSeq`), so only that configuration is approved; recorded in
   * the log (the hand is attached again by the user), so forks inherit it.
   */
  'hands-approve': {
    arg: z.strictObject({ sessionId: SessionIdSchema, name: HandNameSchema, attachedSeq: z.number().int().positive() }),
    result: z.array(HandStatusSchema),
  },
  /** An MCP hand's tools (starting its server if needed) and its stderr. */
  'hands-mcp-info': { arg: z.strictObject({ sessionId: SessionIdSchema, name: HandNameSchema }), result: McpServerInfoSchema },
  /** MCP servers attached in any session, latest first, one per command or URL: to add one again in a click. */
  'mcp-recent-servers': {
    arg: z.undefined(),
    result: z.array(
      z.strictObject({ name: HandNameSchema, config: McpHandConfigSchema, sessionTitle: z.string(), attachedAt: z.string() }),
    ),
  },
  /** Starts an MCP server without attaching it: its tools, or why it could not start. */
  'mcp-test-server': { arg: z.strictObject({ config: McpHandConfigSchema }), result: McpServerInfoSchema },
  /**
   * Reads a Claude Desktop style `{"mcpServers": …}` file's text. Values of environment variables
   * and headers that look like credentials are stored in the vault and referred to by id; nothing
   * is attached yet.
   */
  'mcp-import-config': { arg: z.strictObject({ json: z.string().min(1, 'the file is empty').max(1_000_000) }), result: McpImportSchema },
  /** Removes a hand and its container (its snapshots stay for forks). */
  'hands-detach': { arg: z.strictObject({ sessionId: SessionIdSchema, name: HandNameSchema }), result: z.array(HandStatusSchema) },
  /** Whether the Docker engine answers; the reason and what to do when it does not. */
  'docker-status': { arg: z.undefined(), result: z.strictObject({ available: z.boolean(), reason: z.string().nullable() }) },
  /**
   * Connects to a machine (and its jump host) without attaching it: OS, latency, and each host
   * key with whether it is trusted. Never throws for a machine that cannot be reached: `ok: false`
   * and a message say why.
   */
  'ssh-test-connection': { arg: z.strictObject({ config: SshHandConfigSchema }), result: SshTestResultSchema },
  /** Trusts a host key the user checked (the one the last test showed). */
  'ssh-trust-host': { arg: z.strictObject({ hostKey: HostKeySchema }), result: z.null() },
  /** Forgets the trusted key of host:port (after the machine's key legitimately changed). */
  'ssh-forget-host': {
    arg: z.strictObject({ host: z.string().trim().min(1).max(255), port: z.number().int().min(1).max(65_535) }),
    result: z.null(),
  },
  /** The Host aliases of the user's ~/.ssh/config (identity files by file name only). */
  'ssh-config-hosts': { arg: z.undefined(), result: SshConfigListingSchema },
  /**
   * Stores the private key named by the first IdentityFile of a ~/.ssh/config alias in the vault
   * (kind `ssh-private-key`). Takes an alias, never a path; the key never comes back.
   */
  'ssh-import-key': { arg: z.strictObject({ alias: SshConfigAliasSchema, name: SecretNameSchema }), result: SecretMetaSchema },
  'sessions-events': {
    arg: z.strictObject({ sessionId: SessionIdSchema, query: EventQuerySchema.optional() }),
    result: z.array(StoredEventSchema),
  },
  'sessions-fork': {
    arg: z.strictObject({
      sessionId: SessionIdSchema,
      atSeq: z.number().int().nonnegative(),
      title: SessionTitleSchema.optional(),
    }),
    result: SessionSummarySchema,
  },
  /**
   * Continues the conversation from event `atSeq` on a new branch that becomes the one it shows;
   * the later events stay on the old branch. A turn running on the old branch is stopped.
   * `keep` (issue 20): 'both' (default) — conversation and Docker hands' files go back to `atSeq`;
   * 'conversation' — the new branch keeps the files as they are now (recorded as a `hand.checkpoint`
   * with `rewind`); 'files' — no new branch: the running containers' files go back to `atSeq`
   * (refused while a turn runs). The result is the branch the conversation shows.
   */
  'sessions-rewind': {
    arg: z.strictObject({
      sessionId: SessionIdSchema,
      atSeq: z.number().int().nonnegative(),
      keep: z.enum(['both', 'conversation', 'files']).optional(),
    }),
    result: SessionSummarySchema,
  },
  /** Makes this branch the one its conversation shows (one click in the branch tree). */
  'sessions-switch-branch': { arg: sessionRef, result: SessionSummarySchema },
  /** Renames a session's conversation (its branches share the title; forks keep theirs). */
  'sessions-rename': { arg: z.strictObject({ sessionId: SessionIdSchema, title: SessionTitleSchema }), result: SessionSummarySchema },
  'sessions-tree': { arg: sessionRef, result: z.array(SessionTreeNodeSchema) },
  /** Every event's type in order: what the timeline draws before any payload is loaded. */
  'sessions-timeline': { arg: sessionRef, result: SessionTimelineSchema },
  /** Events per slice of time over the whole session (or `from`…`to`) and the turns starting in each: the time scale zoomed out. */
  'sessions-time-density': { arg: TimeDensityQuerySchema, result: TimeDensitySchema },
  /** The session's threads (issue 21: agent, status, tokens, cost) and the thread of every event after `afterSeq` (the timeline's lanes). */
  'sessions-threads': {
    arg: z.strictObject({ sessionId: SessionIdSchema, afterSeq: z.number().int().nonnegative().optional() }),
    result: SessionThreadsSchema,
  },
  /** Archives a thread (not the primary, not running): `session.thread_archived` in the log; archiving it again answers it as it is. */
  'sessions-archive-thread': {
    arg: z.strictObject({ sessionId: SessionIdSchema, sessionThreadId: SessionThreadIdSchema }),
    result: ThreadSummarySchema,
  },
  /** `withDescendants`: also the branches and forks taken from it (else a session they read is refused). */
  'sessions-delete': { arg: z.strictObject({ sessionId: SessionIdSchema, withDescendants: z.boolean().optional() }), result: z.null() },
  'sessions-export': {
    arg: sessionRef,
    result: z.strictObject({ fileName: z.string(), jsonl: z.string() }),
  },
  'sessions-import': {
    arg: z.strictObject({ jsonl: z.string().min(1, 'the file is empty') }),
    result: SessionSummarySchema,
  },
  /** Whether secrets can be stored here, how, and if not why. */
  'vault-status': { arg: z.undefined(), result: VaultStatusSchema },
  /** Names, kinds and use of the stored secrets — never their values. */
  'secrets-list': { arg: z.undefined(), result: z.array(SecretMetaSchema) },
  /** Stores a secret; its value goes in and never comes back out. */
  'secrets-create': {
    arg: z.strictObject({ name: SecretNameSchema, kind: SecretKindSchema, value: SecretValueSchema }),
    result: SecretMetaSchema,
  },
  'secrets-replace': { arg: z.strictObject({ id: SecretIdSchema, value: SecretValueSchema }), result: SecretMetaSchema },
  'secrets-delete': { arg: z.strictObject({ id: SecretIdSchema }), result: z.null() },
  /** Where the Anthropic API key comes from (environment, vault, none) and its last test. */
  'api-key-status': { arg: z.undefined(), result: ApiKeyStatusSchema },
  /** Stores the Anthropic API key in the vault (replacing the stored one) and tests it. */
  'api-key-set': { arg: z.strictObject({ value: SecretValueSchema }), result: ApiKeyStatusSchema },
  /** Tests the key in use against the Models API. */
  'api-key-test': { arg: z.undefined(), result: ApiKeyStatusSchema },
  // Guardrails (issue 18): permission policies, rules, approvals and budgets. Each answers with the
  // session's guardrails as they stand after it.
  /** Answers tool calls that wait for approval, one or several at once: `allow` runs each once; `deny` tells the model why. */
  'sessions-confirm-tool': {
    arg: z.strictObject({
      sessionId: SessionIdSchema,
      confirmations: z
        .array(ToolConfirmationSchema)
        .min(1, 'answer at least one tool call')
        .max(64, 'answer at most 64 tool calls at once'),
    }),
    result: GuardrailsViewSchema,
  },
  /** Sets the policy of one tool of a hand, or (`tool: null`) of the whole hand. */
  'sessions-set-policy': {
    arg: z.strictObject({
      sessionId: SessionIdSchema,
      hand: HandNameSchema,
      tool: PolicyToolSchema.nullable(),
      policy: PermissionPolicySchema,
    }),
    result: GuardrailsViewSchema,
  },
  /** Adds a rule that allows a narrow pattern of a hand's commands that would ask ("Allow similar for this session"). */
  'sessions-add-rule': {
    arg: z.strictObject({ sessionId: SessionIdSchema, hand: HandNameSchema, tool: PolicyToolSchema, rule: PolicyRuleSchema }),
    result: GuardrailsViewSchema,
  },
  'sessions-remove-rule': {
    arg: z.strictObject({ sessionId: SessionIdSchema, ruleId: RuleIdSchema }),
    result: GuardrailsViewSchema,
  },
  /** Sets, raises or (null) removes the session's budget; a cap must be above what is already spent. */
  'sessions-set-budget': {
    arg: z.strictObject({ sessionId: SessionIdSchema, budget: BudgetSchema.nullable() }),
    result: GuardrailsViewSchema,
  },
  /** The session's policies, rules, budget, what it has spent and the tool calls waiting for approval. */
  'sessions-guardrails': { arg: sessionRef, result: GuardrailsViewSchema },
  /** The budget new sessions get when their launch gives none (null: none); kept in the data folder. */
  'budget-default-get': { arg: z.undefined(), result: BudgetSchema.nullable() },
  /** Sets (or, null, removes) the default budget for new sessions; sessions already made keep theirs. */
  'budget-default-set': { arg: z.strictObject({ budget: BudgetSchema.nullable() }), result: BudgetSchema.nullable() },
  // Settings → Local API: the Managed Agents API for programs on this machine (electron/api).
  /** Whether it is on, where, whether it runs (or why not), and the token's last 4 characters — never the token. */
  'local-api-status': { arg: z.undefined(), result: LocalApiStatusSchema },
  /** Turns it on or off, or moves it; a port it cannot listen on is refused in words and nothing is saved. */
  'local-api-configure': { arg: LocalApiSettingsSchema, result: LocalApiStatusSchema },
  /**
   * Makes a new token (the old one stops working at once, open connections included) and returns
   * it: the only answer that ever carries a token to a UI, shown once like a token page on GitHub.
   */
  'local-api-rotate-token': { arg: z.undefined(), result: LocalApiNewTokenSchema },
  // Self-hosted workers (issue 22): a session's worker for the Hands panel; the environments' keys.
  /** The session's self-hosted worker: who holds its work, where, its last heartbeat (none: not self-hosted, or the API is off). */
  'workers-list': { arg: sessionRef, result: z.array(WorkerStatusSchema) },
  /** The self_hosted environments with their key's last 4 characters — never a key. */
  'environment-keys-list': { arg: z.undefined(), result: z.array(EnvironmentKeyInfoSchema) },
  /** Makes the environment's key (its old one stops working at once) and returns it: shown once, never again. */
  'environment-key-make': { arg: z.strictObject({ environmentId: EnvironmentIdSchema }), result: NewEnvironmentKeySchema },
  /** Revokes the environment's key: its workers are refused from their next request. */
  'environment-key-revoke': { arg: z.strictObject({ environmentId: EnvironmentIdSchema }), result: EnvironmentKeyInfoSchema },
  // The changes view (issue 20): a hand's files between two events (its checkpoints then), one file's diff, one-file restore.
  /** Files added, changed, deleted, renamed and mode-changed between events `fromSeq` and `toSeq`, per hand (or `hand` only). */
  'sessions-changes': {
    arg: z.strictObject({ sessionId: SessionIdSchema, fromSeq: eventSeq, toSeq: eventSeq, hand: HandNameSchema.optional() }),
    result: ChangesSchema,
  },
  /** One path's unified diff between two events (binary files and files over 1 MiB summarised). */
  'sessions-file-diff': {
    arg: z.strictObject({ sessionId: SessionIdSchema, hand: HandNameSchema, path: containerPath, fromSeq: eventSeq, toSeq: eventSeq }),
    result: FileDiffSchema,
  },
  /** Puts one path of a hand's running container back as it was at event `atSeq`, then records a `hand.checkpoint`. */
  'hands-restore-file': {
    arg: z.strictObject({ sessionId: SessionIdSchema, hand: HandNameSchema, path: containerPath, atSeq: eventSeq }),
    result: RestoredFileSchema,
  },
  // Settings → Storage (issue 20 item 5).
  /** Bytes per session and per hand (checkpoints, snapshot images, containers), totals, free disk, whether checkpoints are paused. */
  'storage-usage': { arg: z.undefined(), result: StorageUsageSchema },
  /** Removes checkpoint blobs no session's checkpoints reach, and images and containers of deleted sessions; what was freed. */
  'storage-reclaim': { arg: z.undefined(), result: StorageReclaimSchema },
  /** Sets the free-disk threshold under which checkpoints pause; the usage with it in force. */
  'storage-set-threshold': { arg: StorageThresholdSchema, result: StorageUsageSchema },
  /** Sets the caps on checkpoint data and the retention rule's N; sessions over a cap are thinned (or paused); the usage after. */
  'storage-set-limits': { arg: StorageLimitsSchema, result: StorageUsageSchema },
  /** Thins old checkpoints of every session by the retention rule ("Thin old checkpoints"); what was thinned and freed. */
  'storage-thin': { arg: z.undefined(), result: StorageThinSchema },
  // Settings → Engines (issue 22): Docker engines hands can run on (vault secret ids only, never values).
  /** Every engine, this computer's first. */
  'engines-list': { arg: z.undefined(), result: z.array(EngineConfigSchema) },
  /** Adds an engine or replaces the one with its id; the list after. */
  'engines-put': { arg: z.strictObject({ engine: EngineConfigSchema }), result: z.array(EngineConfigSchema) },
  'engines-remove': { arg: z.strictObject({ id: EngineIdSchema }), result: z.array(EngineConfigSchema) },
  /** Connects and reports version, OS/arch, CPUs, memory and images, or why not (an ssh:// engine's host key and trust too). */
  'engines-test': { arg: z.strictObject({ engine: EngineConfigSchema }), result: EngineTestResultSchema },
  /** Full-text search over every session's messages, tool inputs and outputs (see shared/search.ts). */
  search: { arg: SearchArgSchema, result: SearchResultSchema },
  /** How far the search index is behind the log (the search view's "indexing…"). */
  'search-status': { arg: z.undefined(), result: SearchStatusSchema },
  // A terminal on a hand (issue 23, shared/terminals.ts): its output goes only to the connection that opened it
  // (`terminal-output` / `terminal-exit` pushes), and that connection closing closes it.
  /** Opens a terminal on a session's Docker hand or SSH machine (starting it if need be); records `hand.terminal_opened`. */
  'terminal-open': {
    arg: z.strictObject({ sessionId: SessionIdSchema, hand: HandNameSchema, cols: TerminalColsSchema, rows: TerminalRowsSchema }),
    result: z.strictObject({ terminalId: TerminalIdSchema }),
  },
  /** Keys typed or text pasted (at most 64 KiB a message). */
  'terminal-input': { arg: z.strictObject({ terminalId: TerminalIdSchema, data: TerminalInputSchema }), result: z.null() },
  'terminal-resize': {
    arg: z.strictObject({ terminalId: TerminalIdSchema, cols: TerminalColsSchema, rows: TerminalRowsSchema }),
    result: z.null(),
  },
  /** The UI drew this many more characters of output: a terminal paused for its UI to catch up goes on. */
  'terminal-ack': {
    arg: z.strictObject({ terminalId: TerminalIdSchema, chars: z.number().int().positive().max(1_000_000_000) }),
    result: z.null(),
  },
  /** Closes the terminal (hangs its shell up), records `hand.terminal_closed`, then a checkpoint of the hand's files. */
  'terminal-close': { arg: z.strictObject({ terminalId: TerminalIdSchema }), result: z.null() },
  // Settings → Hands library (issue 23): saved hand configurations to attach in any session (secrets by vault id and name only).
  /** The saved hands (with the names of the secrets they use), or why the library file cannot be read. */
  'hand-library-list': { arg: z.undefined(), result: HandLibraryListingSchema },
  /** Saves a hand configuration under a label (unique); the library after. */
  'hand-library-save': { arg: z.strictObject({ label: HandLibraryLabelSchema, hand: HandSpecSchema }), result: HandLibraryListingSchema },
  'hand-library-rename': {
    arg: z.strictObject({ id: HandLibraryIdSchema, label: HandLibraryLabelSchema }),
    result: HandLibraryListingSchema,
  },
  'hand-library-delete': { arg: z.strictObject({ id: HandLibraryIdSchema }), result: HandLibraryListingSchema },
} as const;

export type RpcMethod = keyof typeof rpcMethods;
export type RpcArg<K extends RpcMethod> = z.input<(typeof rpcMethods)[K]['arg']>;
export type RpcResult<K extends RpcMethod> = z.output<(typeof rpcMethods)[K]['result']>;

/** What the UI can call. */
export type Handlers = { [K in RpcMethod]: (arg: RpcArg<K>) => Promise<RpcResult<K>> };

/**
 * The connection a call came on (one window's page, one WebSocket): pushes for it alone (a terminal's
 * output), and its end (its terminals close). Absent for calls from inside the main process.
 */
export interface RpcCaller {
  readonly id: string;
  push(message: PushMessage): void;
  /** Calls `listener` once when the connection ends (at once if it has); returns a removal. */
  onClose(listener: () => void): () => void;
}

/** What the main process implements: arguments arrive already validated; `caller`: the connection the call came on. */
export type HandlerImpl = {
  [K in RpcMethod]: (arg: z.output<(typeof rpcMethods)[K]['arg']>, caller?: RpcCaller) => Promise<RpcResult<K>> | RpcResult<K>;
};

/** What the native menu can ask the window to do; the renderer owns the behaviour. */
export const MenuCommandSchema = z.enum([
  'new-session',
  'import-session',
  'export-session',
  'focus-composer',
  'interrupt',
  'toggle-events',
  'toggle-branches',
  'step-back',
  'step-forward',
  'turn-back',
  'turn-forward',
  'go-live',
  'fork-here',
  'rewind-here',
]);
export type MenuCommand = z.infer<typeof MenuCommandSchema>;

/** Messages pushed from the main process to every UI. */
export const pushEvents = {
  'session-event': z.strictObject({ sessionId: SessionIdSchema, event: StoredEventSchema }),
  /** A session was created, forked, imported or deleted. */
  'sessions-changed': z.strictObject({ sessionId: SessionIdSchema }),
  /** A response streaming right now (never stored token by token). */
  'session-live': z.strictObject({ sessionId: SessionIdSchema, update: LiveUpdateSchema }),
  /** A hand is starting: image pull progress per layer, creating, starting (not stored). */
  'hand-progress': z.strictObject({ sessionId: SessionIdSchema, progress: HandProgressSchema }),
  /** A native menu item or its shortcut was used (Electron only). */
  'menu-command': z.strictObject({ command: MenuCommandSchema }),
  /**
   * A session's turn stopped on a failure its log could not record (e.g. a full disk): what
   * happened and what to do. Not stored; the session's summary says it stopped until it next runs.
   */
  'session-fault': z.strictObject({ sessionId: SessionIdSchema, message: z.string() }),
  /** A terminal's output, to the connection that opened it only (never stored). */
  'terminal-output': TerminalOutputSchema,
  /** A terminal ended (closed, its shell exited, its machine was lost): to the connection that opened it only. */
  'terminal-exit': TerminalExitSchema,
} as const;

export type PushName = keyof typeof pushEvents;
export type PushEvents = { [K in PushName]: z.output<(typeof pushEvents)[K]> };

export function isRpcMethod(name: string): name is RpcMethod {
  return Object.hasOwn(rpcMethods, name);
}

export const RpcRequestSchema = z.strictObject({
  id: z.number().int().nonnegative(),
  name: z.string().min(1).max(100),
  arg: z.unknown().optional(),
});
export type RpcRequest = z.infer<typeof RpcRequestSchema>;

export const RpcReplySchema = z.union([
  z.strictObject({ id: z.number().int().nonnegative(), result: z.unknown() }),
  z.strictObject({ id: z.number().int().nonnegative(), error: RpcErrorSchema }),
]);
export type RpcReply = z.infer<typeof RpcReplySchema>;

/** What the dispatcher returns before a transport adds the request id. */
export type DispatchOutcome = { ok: true; result: unknown } | { ok: false; error: z.infer<typeof RpcErrorSchema> };

/**
 * What the Electron preload exposes to the page as `window.drover`: one fixed call channel and
 * one push subscription, nothing else.
 */
export interface DroverBridge {
  call(name: string, arg: unknown): Promise<DispatchOutcome>;
  onPush(listener: (message: unknown) => void): () => void;
}

export const PushMessageSchema = z.strictObject({ push: z.string(), arg: z.unknown() });
export type PushMessage = { [K in PushName]: { push: K; arg: PushEvents[K] } }[PushName];

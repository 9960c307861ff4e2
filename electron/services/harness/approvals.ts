/**
 * The session's guardrails, read from its log alone: the policies and rules in force, the budget,
 * what was spent, and where each tool use that needed an answer stands. Like state.ts, this is what
 * keeps approvals crash-safe: a pending approval survives any restart because it is only ever
 * derived — an `ask` tool use with neither a confirmation nor a result — and a confirmed tool's
 * `span.tool_run_start` tells "approved, never started" (run it) from "started, then cut" (record
 * it interrupted, never run it again).
 *
 * The fold works on a session's view, so forks and rewinds inherit everything set before their fork
 * point. One fork rule of its own: a tool use allowed before the fork point and not started in the
 * view may have run on the parent's branch after it, so the fork never runs it (`cutByFork`).
 *
 * Events from an imported file (seq ≤ `importedSeq`) are someone else's word: what they restrict
 * is kept (`always_ask` and `deny` policies, denials, budgets), what they would loosen is not —
 * an `always_allow` policy, a rule, an allow, a `trusted` MCP server. So an imported log can never
 * make a tool run on this user's hands without this user's approval.
 *
 * Pure: no I/O, no clock (wall time is computed against a `nowMs` the caller gives).
 */
import type { StoredEvent } from '#shared/events';
import type {
  Budget,
  ConfirmationResult,
  EvaluatedPermission,
  GuardrailsView,
  PendingApproval,
  PolicyEntry,
  RuleEntry,
  Spent,
} from '#shared/guardrails';
import type { HandConfig } from '#shared/hands';
import { requestCostCents } from '#services/guardrails/budget';
import { applyCustomCallEvent, waitingCustomCalls, type CustomCall } from './custom-tools.ts';
import type { ToolUseEvent } from './state.ts';

/** One tool use and what the log says happened to it since. */
export interface ToolUseRecord {
  event: ToolUseEvent;
  /** The hand the model addressed (`hand_id`, or the MCP server's name); null when no hand claimed it. */
  hand: string | null;
  /** What the policies said (absent in logs from before guardrails: `allow`). */
  permission: EvaluatedPermission;
  /** The user's answer (the first one: later ones are refused, and ignored if a log has them). */
  confirmation: { result: ConfirmationResult; denyMessage: string | undefined; seq: number } | null;
  /** `span.tool_run_start` is in the log: the tool may have run. */
  started: boolean;
  /** Its result is in the log: nothing more to do. */
  resulted: boolean;
}

export interface GuardrailsState {
  /** One policy per hand and tool (`tool: null`: the hand's default), the latest set. */
  policies: Map<string, PolicyEntry>;
  /** Rules in force by id, in the order they were added. */
  rules: Map<string, RuleEntry>;
  budget: Budget | null;
  /** The kind of each attached hand, and whether an MCP server is trusted. */
  hands: Map<string, { kind: HandConfig['kind']; trusted: boolean }>;
  usage: Omit<Spent, 'unpriced_models' | 'wall_seconds'> & { unpricedModels: Set<string> };
  /** Time spent running: closed intervals, and the start of the open one (ms since the epoch). */
  running: { closedMs: number; sinceMs: number | null };
  /** Timestamp of the last event folded (ms). */
  lastMs: number | null;
  toolUses: Map<string, ToolUseRecord>;
  /** Seq of the latest `session.forked` in the view, or null. */
  forkedAt: number | null;
  /** The last event of the view that came from an imported file (0: none): see the module comment. */
  importedSeq: number;
  /** Custom tool calls and whether each has the program's result, by event id (custom-tools.ts). */
  customCalls: Map<string, CustomCall>;
}

export function emptyGuardrails(options: { importedSeq?: number } = {}): GuardrailsState {
  return {
    importedSeq: options.importedSeq ?? 0,
    policies: new Map(),
    rules: new Map(),
    budget: null,
    hands: new Map(),
    usage: {
      requests: 0,
      input_tokens: 0,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      list_cost_cents: 0,
      unpricedModels: new Set(),
    },
    running: { closedMs: 0, sinceMs: null },
    lastMs: null,
    toolUses: new Map(),
    forkedAt: null,
    customCalls: new Map(),
  };
}

const policyKey = (hand: string, tool: string | null): string => `${hand}\u0000${tool ?? ''}`;

/** A policy or rule belongs to the hand it was set for: a later hand of the same name starts from its defaults. */
function forgetHand(state: GuardrailsState, hand: string): void {
  for (const [key, entry] of state.policies) if (entry.hand === hand) state.policies.delete(key);
  for (const [id, entry] of state.rules) if (entry.hand === hand) state.rules.delete(id);
}

function closeRunning(state: GuardrailsState, atMs: number | null): void {
  if (state.running.sinceMs === null) return;
  if (atMs !== null) state.running.closedMs += Math.max(0, atMs - state.running.sinceMs);
  state.running.sinceMs = null;
}

/** Folds one event into the state (mutating it: it is rebuilt from the log whenever needed). */
export function applyGuardrailEvent(state: GuardrailsState, event: StoredEvent): void {
  const atMs = Date.parse(event.ts);
  const imported = event.seq <= state.importedSeq;
  switch (event.type) {
    case 'hand.attached': {
      const config = event.payload.config;
      const before = state.hands.get(event.payload.hand_id);
      // Attached again with another kind (a different thing under the same name): its old policies do not carry over.
      if (before !== undefined && before.kind !== config.kind) forgetHand(state, event.payload.hand_id);
      state.hands.set(event.payload.hand_id, { kind: config.kind, trusted: !imported && config.kind === 'mcp' && config.trusted === true });
      break;
    }
    case 'hand.detached':
      state.hands.delete(event.payload.hand_id);
      forgetHand(state, event.payload.hand_id);
      break;
    case 'policy.set':
      if (imported && event.payload.policy === 'always_allow') break;
      state.policies.set(policyKey(event.payload.hand, event.payload.tool), event.payload);
      break;
    case 'policy.rule_added':
      if (!imported) state.rules.set(event.payload.rule_id, event.payload);
      break;
    case 'policy.rule_removed':
      state.rules.delete(event.payload.rule_id);
      break;
    case 'session.budget_set':
      state.budget = event.payload.budget;
      break;
    case 'span.model_request_end': {
      const { usage } = event.payload;
      const cost = requestCostCents(event);
      state.usage.requests++;
      state.usage.input_tokens += usage.input_tokens;
      state.usage.output_tokens += usage.output_tokens;
      state.usage.cache_read_input_tokens += usage.cache_read_input_tokens;
      state.usage.cache_creation_input_tokens += usage.cache_creation_input_tokens;
      state.usage.list_cost_cents += cost.cents;
      if (!cost.priced) state.usage.unpricedModels.add(event.payload.model);
      break;
    }
    case 'session.status_running':
      if (state.running.sinceMs === null) state.running.sinceMs = atMs;
      break;
    case 'session.status_idle':
    case 'session.status_terminated':
      closeRunning(state, atMs);
      break;
    case 'session.forked':
      // Running at the fork point: the parent's run after it is not this view's. Count up to its last event.
      closeRunning(state, state.lastMs);
      state.forkedAt = event.seq;
      break;
    case 'agent.tool_use':
    case 'agent.mcp_tool_use': {
      const hand = event.type === 'agent.tool_use' ? (event.payload.hand_id ?? null) : event.payload.server_name;
      state.toolUses.set(event.payload.tool_use_id, {
        event,
        hand,
        permission: event.payload.evaluated_permission ?? 'allow',
        confirmation: null,
        started: false,
        resulted: false,
      });
      break;
    }
    case 'user.tool_confirmation': {
      const record = state.toolUses.get(event.payload.tool_use_id);
      if (imported && event.payload.result === 'allow') break;
      if (record && record.confirmation === null) {
        record.confirmation = { result: event.payload.result, denyMessage: event.payload.deny_message, seq: event.seq };
      }
      break;
    }
    case 'span.tool_run_start': {
      const record = state.toolUses.get(event.payload.tool_use_id);
      if (record) record.started = true;
      break;
    }
    case 'agent.tool_result':
    case 'agent.mcp_tool_result': {
      const record = state.toolUses.get(event.payload.tool_use_id);
      if (record) record.resulted = true;
      break;
    }
    case 'agent.custom_tool_use':
    case 'user.custom_tool_result':
      applyCustomCallEvent(state.customCalls, event);
      break;
    default:
      break;
  }
  if (Number.isFinite(atMs)) state.lastMs = atMs;
}

export function guardrailsOf(events: Iterable<StoredEvent>, seed: GuardrailsState = emptyGuardrails()): GuardrailsState {
  for (const event of events) applyGuardrailEvent(seed, event);
  return seed;
}

function openRecords(state: GuardrailsState, keep: (record: ToolUseRecord) => boolean): ToolUseRecord[] {
  const list: ToolUseRecord[] = [];
  for (const record of state.toolUses.values()) if (!record.resulted && keep(record)) list.push(record);
  return list.sort((a, b) => a.event.seq - b.event.seq);
}

/** Whether an allow was given before the view's fork point (the parent's branch may have run it since). */
function allowedBeforeFork(state: GuardrailsState, record: ToolUseRecord): boolean {
  return state.forkedAt !== null && record.confirmation !== null && record.confirmation.seq < state.forkedAt;
}

/** Tool uses that asked and wait for the user: no confirmation, no result. In log order. */
export function pendingApprovals(state: GuardrailsState): ToolUseRecord[] {
  return openRecords(state, (record) => record.permission === 'ask' && record.confirmation === null);
}

/** Allowed by the user, not started, no result: to run now (exactly once: its run start goes first). */
export function confirmedToRun(state: GuardrailsState): ToolUseRecord[] {
  return openRecords(state, (record) => record.confirmation?.result === 'allow' && !record.started && !allowedBeforeFork(state, record));
}

/** Allowed before this view's fork point and not started in it: never run here; recorded as cut by the fork. */
export function cutByFork(state: GuardrailsState): ToolUseRecord[] {
  return openRecords(state, (record) => record.confirmation?.result === 'allow' && !record.started && allowedBeforeFork(state, record));
}

/** Denied by the user, no result yet: answer the model with the deny message. */
export function deniedToAnswer(state: GuardrailsState): ToolUseRecord[] {
  return openRecords(state, (record) => record.confirmation?.result === 'deny');
}

/** Denied by a policy (`evaluated_permission: deny`), no result yet: answer the model that it may not. */
export function policyDenied(state: GuardrailsState): ToolUseRecord[] {
  return openRecords(state, (record) => record.permission === 'deny');
}

/** Started (`span.tool_run_start`), no result: it may have run; recorded interrupted, never run again. */
export function startedAndCut(state: GuardrailsState): ToolUseRecord[] {
  return openRecords(state, (record) => record.started);
}

/** Running time in ms as of `nowMs` (an open run counts up to now). */
export function wallMsOf(state: GuardrailsState, nowMs: number): number {
  const open = state.running.sinceMs === null ? 0 : Math.max(0, nowMs - state.running.sinceMs);
  return state.running.closedMs + open;
}

/** Rounds away float noise from summed prices (a sum of many small costs must compare exactly with a cap). */
const roundCents = (cents: number): number => Math.round(cents * 1e9) / 1e9;

export function spentOf(state: GuardrailsState, nowMs: number): Spent {
  const { unpricedModels, ...usage } = state.usage;
  return {
    ...usage,
    list_cost_cents: roundCents(usage.list_cost_cents),
    unpriced_models: [...unpricedModels].sort(),
    wall_seconds: wallMsOf(state, nowMs) / 1000,
  };
}

function pendingOf(record: ToolUseRecord): PendingApproval {
  const { event } = record;
  return {
    event_id: event.id,
    seq: event.seq,
    tool_use_id: event.payload.tool_use_id,
    hand: record.hand,
    name: event.payload.name,
    input: event.payload.input,
  };
}

/** The session's guardrails as `sessions-guardrails` answers. */
export function guardrailsView(state: GuardrailsState, nowMs: number): GuardrailsView {
  return {
    policies: [...state.policies.values()],
    rules: [...state.rules.values()],
    budget: state.budget,
    spent: spentOf(state, nowMs),
    pending: pendingApprovals(state).map(pendingOf),
    custom_pending: waitingCustomCalls(state.customCalls).map(({ event }) => ({
      event_id: event.id,
      seq: event.seq,
      tool_use_id: event.payload.tool_use_id,
      name: event.payload.name,
      input: event.payload.input,
    })),
  };
}

/** The tool use a confirmation names: by its `tool_use_id`, or by its event's id (as Managed Agents clients name it). */
export function toolUseNamed(state: GuardrailsState, id: string): ToolUseRecord | undefined {
  const direct = state.toolUses.get(id);
  if (direct) return direct;
  for (const record of state.toolUses.values()) if (record.event.id === id) return record;
  return undefined;
}

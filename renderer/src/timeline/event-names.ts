/**
 * Events in people's words: "Claude ran a command on box", "Checkpoint", "Outcome: needs revision"
 * beside (never instead of) the raw type, which the UI keeps one hover away. Pure: no DOM, no
 * React; used by the timeline, the Events panel and the transcript.
 *
 * `eventName(type)` needs only the type (what the timeline has before payloads load);
 * `eventName(type, event)` says more once the payload is there (which hand, which tool, which
 * verdict). A type this module does not know yet still gets a readable name from its own words.
 */
import type { StoredEvent } from '#shared/events';

/** What each kind of call does, by the tool's own name (Managed Agents' toolset and Drover's `<hand>__…` tools). */
const TOOL_VERBS: Readonly<Record<string, string>> = {
  bash: 'ran a command',
  editor: 'edited a file',
  read: 'read a file',
  write: 'wrote a file',
  edit: 'edited a file',
  glob: 'listed files',
  grep: 'searched files',
};

/** Names that need no payload. */
const NAMES: Readonly<Record<string, string>> = {
  'user.message': 'You wrote',
  'user.interrupt': 'You interrupted',
  'user.define_outcome': 'Outcome defined',
  'user.tool_confirmation': 'Your answer to a tool call',
  'user.custom_tool_result': 'Custom tool answered',
  'agent.message': 'Claude replied',
  'agent.thinking': 'Claude thought',
  'agent.tool_use': 'Claude used a tool',
  'agent.tool_result': 'Tool result',
  'agent.mcp_tool_use': 'Claude used an MCP tool',
  'agent.mcp_tool_result': 'MCP tool result',
  'agent.custom_tool_use': 'Claude called a custom tool',
  'agent.thread_context_compacted': 'Context compacted',
  'session.status_running': 'Turn started',
  'session.status_idle': 'Turn ended',
  'session.status_terminated': 'Session ended',
  'session.thread_status_idle': 'Thread went idle',
  'session.error': 'Error',
  'session.configured': 'Settings changed',
  'session.custom_tools_set': 'Custom tools set',
  'session.forked': 'Forked',
  'session.usage': 'Usage',
  'session.budget_set': 'Budget set',
  'span.model_request_start': 'Request to Claude',
  'span.model_request_end': 'Claude answered the request',
  'span.tool_run_start': 'Tool started',
  'span.outcome_evaluation_start': 'Outcome check started',
  'span.outcome_evaluation_end': 'Outcome checked',
  'hand.attached': 'Hand attached',
  'hand.detached': 'Hand detached',
  'hand.provisioning': 'Hand starting',
  'hand.ready': 'Hand ready',
  'hand.lost': 'Hand lost',
  'hand.failed': 'Hand failed',
  'hand.snapshot': 'Snapshot',
  'hand.checkpoint': 'Checkpoint',
  'hand.checkpoints_pruned': 'Old checkpoints thinned',
  'hand.terminal_opened': 'Terminal opened',
  'hand.terminal_closed': 'Terminal closed',
  'policy.set': 'Policy set',
  'policy.rule_added': 'Rule added',
  'policy.rule_removed': 'Rule removed',
  'system.message': 'System note',
};

const VERDICTS: Readonly<Record<string, string>> = {
  satisfied: 'done',
  needs_revision: 'needs revision',
  max_iterations_reached: 'out of attempts',
  failed: 'failed',
  interrupted: 'interrupted',
};

/** The human name of an event type, or (with its event) of that event. */
export function eventName(type: string, event?: StoredEvent): string {
  const specific = event !== undefined && event.type === type ? specificName(event) : null;
  return specific ?? NAMES[type] ?? fallbackName(type);
}

/** "hand.terminal_opened" → "Hand: terminal opened": a type added after this module is still readable. */
export function fallbackName(type: string): string {
  const dot = type.indexOf('.');
  const words = (dot < 0 ? type : type.slice(dot + 1)).replaceAll('_', ' ').replaceAll('.', ' ').trim();
  const prefix = dot < 0 ? '' : type.slice(0, dot);
  const area = prefix === '' ? '' : `${prefix[0]?.toUpperCase() ?? ''}${prefix.slice(1)}: `;
  return `${area}${words}` || type;
}

/** The hand and the tool of a call named `<hand>__<tool>` (or an unprefixed toolset tool on `handId`). */
export function toolParts(name: string, handId?: string): { hand: string | null; tool: string } {
  const at = name.indexOf('__');
  if (at > 0) return { hand: name.slice(0, at), tool: name.slice(at + 2) };
  return { hand: handId ?? null, tool: name };
}

/** What Claude did with a tool: "ran a command on box", "used search on docs". */
export function toolCallName(name: string, handId?: string): string {
  const { hand, tool } = toolParts(name, handId);
  const verb = TOOL_VERBS[tool] ?? `used ${tool}`;
  return `Claude ${verb}${hand === null ? '' : ` on ${hand}`}`;
}

function specificName(event: StoredEvent): string | null {
  switch (event.type) {
    case 'agent.tool_use':
      return toolCallName(event.payload.name, event.payload.hand_id);
    case 'agent.mcp_tool_use': {
      const { tool } = toolParts(event.payload.name);
      return `Claude used ${tool} on ${event.payload.server_name}`;
    }
    case 'agent.tool_result':
    case 'agent.mcp_tool_result':
      if (event.payload.status === 'interrupted') return 'Tool cut off';
      if (event.payload.status === 'timed_out') return 'Tool timed out';
      return event.payload.is_error ? 'Tool failed' : 'Tool result';
    case 'span.outcome_evaluation_end':
      return `Outcome: ${VERDICTS[event.payload.result] ?? event.payload.result.replaceAll('_', ' ')}`;
    case 'span.outcome_evaluation_start':
      return `Outcome check #${event.payload.iteration}`;
    case 'user.tool_confirmation':
      return event.payload.result === 'allow' ? 'You allowed a tool call' : 'You denied a tool call';
    case 'hand.attached':
      return `Hand ${event.payload.hand_id} attached`;
    case 'hand.detached':
      return `Hand ${event.payload.hand_id} detached`;
    case 'hand.ready':
      return `${event.payload.hand_id} ready`;
    case 'hand.lost':
      return `${event.payload.hand_id} lost`;
    case 'hand.failed':
      return `${event.payload.hand_id} failed to start`;
    case 'hand.checkpoint':
      return `Checkpoint of ${event.payload.hand_id}`;
    case 'hand.terminal_opened':
      return `Terminal opened on ${event.payload.hand_id}`;
    case 'hand.terminal_closed':
      return `Terminal on ${event.payload.hand_id} closed (opened at #${event.payload.opened_seq})`;
    case 'session.error':
      return event.payload.retry_status.type === 'retrying' ? 'Error (retrying)' : 'Error';
    case 'session.status_idle':
      return event.payload.stop_reason.type === 'end_turn'
        ? 'Turn ended'
        : `Turn stopped: ${event.payload.stop_reason.type.replaceAll('_', ' ')}`;
    default:
      return null;
  }
}

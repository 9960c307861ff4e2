/**
 * The coordinator's tools (issue 21): offered to the primary thread when the session has a roster —
 * `thread_start`, `thread_message`, `thread_wait`, `thread_end` — and `thread_return_hand` to every
 * other thread. They are a hand (`threads`) the harness runs itself: each records what it does as
 * events (a thread's creation, a message pair) before it answers, so a crash between the two leaves
 * the deed in the log and the call recorded interrupted — never done twice.
 *
 * Inputs are checked with zod; a mistake is answered as an error result the model can act on.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ContentBlock, StoredEvent } from '#shared/events';
import { HandAccessModeSchema, SELF_AGENT, SessionThreadIdSchema, THREAD_LIMITS } from '#shared/threads';
import type { ExecuteOptions, Hand, ToolOutcome, ToolSpec } from '#services/hands/hand';
import type { SessionStore } from '#services/session/store';
import { readAll } from './fold-log.ts';
import { grantThreadHands, returnThreadHand, type ThreadHandContext } from './thread-hands.ts';
import { PRIMARY, type ThreadKey, type ThreadsFold } from './thread-view.ts';

/** The coordinator tools' hand id (their tool names carry no prefix). */
export const THREADS_HAND = 'threads';

const WAIT_DEFAULT_SECONDS = 600;
const WAIT_MAX_SECONDS = 3600;

const StartInput = z.strictObject({
  agent: z.string().min(1).max(64),
  task: z.string().trim().min(1, 'give the thread a task').max(THREAD_LIMITS.taskChars),
  hands: z
    .array(z.strictObject({ hand: z.string().min(1).max(128), mode: HandAccessModeSchema }))
    .max(64)
    .optional(),
});
const MessageInput = z.strictObject({
  session_thread_id: SessionThreadIdSchema,
  message: z.string().trim().min(1, 'the message is empty').max(THREAD_LIMITS.messageChars),
});
const WaitInput = z.strictObject({
  session_thread_ids: z.array(SessionThreadIdSchema).max(THREAD_LIMITS.maxAlive).optional(),
  timeout_seconds: z.number().positive().max(WAIT_MAX_SECONDS).optional(),
});
const EndInput = z.strictObject({ session_thread_id: SessionThreadIdSchema });
const ReturnInput = z.strictObject({ hand: z.string().min(1).max(128) });

const threadIdSchema = { type: 'string', description: 'A thread id (sthr_…), as thread_start returned it.' };

export const COORDINATOR_TOOLS: readonly ToolSpec[] = [
  {
    name: 'thread_start',
    description:
      'Starts a thread: an agent from the roster (or "self", a copy of you, when allowed) working on `task` in parallel with you. ' +
      'Its final answer comes back to you as a message. `hands` chooses which of your hands it gets and how ' +
      '(shared: the same one; read_only; fresh: a new copy). Returns {session_thread_id}.',
    input_schema: {
      type: 'object',
      properties: {
        agent: { type: 'string', description: 'The roster agent to run.' },
        task: { type: 'string', description: 'What the thread must do; its first message.' },
        hands: {
          type: 'array',
          items: {
            type: 'object',
            properties: { hand: { type: 'string' }, mode: { type: 'string', enum: ['shared', 'read_only', 'fresh'] } },
            required: ['hand', 'mode'],
          },
        },
      },
      required: ['agent', 'task'],
    },
  },
  {
    name: 'thread_message',
    description: 'Sends a message to a running thread; it reads it in its next turn.',
    input_schema: {
      type: 'object',
      properties: { session_thread_id: threadIdSchema, message: { type: 'string' } },
      required: ['session_thread_id', 'message'],
    },
  },
  {
    name: 'thread_wait',
    description:
      'Waits until a reply arrives from a thread (or every listed thread is idle, or the timeout passes), then says who replied. ' +
      'The replies themselves follow as messages.',
    input_schema: {
      type: 'object',
      properties: {
        session_thread_ids: { type: 'array', items: threadIdSchema, description: 'The threads to wait for; absent: all of yours.' },
        timeout_seconds: { type: 'number', description: `At most ${WAIT_MAX_SECONDS}; default ${WAIT_DEFAULT_SECONDS}.` },
      },
    },
  },
  {
    name: 'thread_end',
    description: 'Ends a thread: it stops at once and takes no more messages.',
    input_schema: { type: 'object', properties: { session_thread_id: threadIdSchema }, required: ['session_thread_id'] },
  },
];

export const THREAD_TOOLS: readonly ToolSpec[] = [
  {
    name: 'thread_return_hand',
    description: 'Gives a hand you were given back to the thread that started you; you can no longer use it.',
    input_schema: { type: 'object', properties: { hand: { type: 'string' } }, required: ['hand'] },
  },
];

export interface CoordinatorContext {
  store: SessionStore;
  sessionId: string;
  /** The thread whose tools these are. */
  caller: ThreadKey;
  /** The run's live fold of every thread. */
  fold: ThreadsFold;
  /** The session's hands (for hand names and `thread_return_hand`). */
  hands: readonly Hand[];
}

function answer(text: string, isError = false): ToolOutcome {
  return { content: [{ type: 'text', text }], isError };
}

function refuse(error: z.ZodError, tool: string): ToolOutcome {
  const issues = error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ');
  return answer(`${tool} was not run: ${issues}. Fix the input and call it again.`, true);
}

/** The coordinator tools (primary) or the thread tools (any other thread) as a hand. */
export function coordinatorHand(context: CoordinatorContext): Hand {
  const tools = context.caller === PRIMARY ? COORDINATOR_TOOLS : THREAD_TOOLS;
  return {
    id: THREADS_HAND,
    concurrent: true,
    tools: () => tools,
    ownToolName: (name) => name,
    execute: (name, input, options) => execute(context, name, input, options),
  };
}

async function execute(
  context: CoordinatorContext,
  name: string,
  input: Record<string, unknown>,
  options: ExecuteOptions,
): Promise<ToolOutcome> {
  switch (name) {
    case 'thread_start':
      return start(context, input);
    case 'thread_message':
      return message(context, input);
    case 'thread_wait':
      return wait(context, input, options.signal);
    case 'thread_end':
      return end(context, input);
    case 'thread_return_hand': {
      const parsed = ReturnInput.safeParse(input);
      if (!parsed.success) return refuse(parsed.error, name);
      if (context.caller === PRIMARY) return answer('The coordinator holds its hands; only a thread can return one.', true);
      const handContext: ThreadHandContext = { sessionId: context.sessionId, hands: context.hands, events: [] };
      const returned = returnThreadHand(context.caller, parsed.data.hand, handContext);
      if (returned.events.length > 0) context.store.emitEvents(context.sessionId, returned.events);
      return answer(returned.message, returned.events.length === 0);
    }
    default:
      return answer(`There is no thread tool named "${name}".`, true);
  }
}

function start(context: CoordinatorContext, input: Record<string, unknown>): ToolOutcome {
  const parsed = StartInput.safeParse(input);
  if (!parsed.success) return refuse(parsed.error, 'thread_start');
  const { agent, task, hands = [] } = parsed.data;
  const roster = context.fold.roster;
  const names = [...(roster?.agents.map((entry) => entry.name) ?? []), ...(roster?.self_copies ? [SELF_AGENT] : [])];
  if (!names.includes(agent)) {
    return answer(
      `thread_start was not run: there is no agent "${agent}" in the roster. Start one of: ${names.join(', ') || 'none'}.`,
      true,
    );
  }
  const alive = context.fold.alive().length;
  if (alive >= THREAD_LIMITS.maxAlive) {
    return answer(
      `thread_start was not run: ${alive} threads are alive, the most a session may have at once. End one (thread_end) first.`,
      true,
    );
  }
  const known = new Set(context.hands.map((hand) => hand.id));
  const unknown = hands.filter((entry) => !known.has(entry.hand));
  if (unknown.length > 0) {
    return answer(
      `thread_start was not run: no hand named ${unknown.map((entry) => `"${entry.hand}"`).join(', ')}. Your hands: ${[...known].join(', ') || 'none'}.`,
      true,
    );
  }
  const id = `sthr_${randomBytes(12).toString('hex')}`;
  // The hands it gets, as `hand.thread_access` grants recorded with it; a hand that cannot go in its mode refuses the start (thread-hands.ts).
  const grantor = context.caller === PRIMARY ? null : context.caller;
  const granted = grantThreadHands(id, grantor, hands, { sessionId: context.sessionId, hands: context.hands, events: [] });
  if ('refused' in granted) return answer(granted.refused, true);
  context.store.emitEvents(context.sessionId, [
    {
      type: 'session.thread_created',
      payload: { session_thread_id: id, agent_name: agent, ...(grantor === null ? {} : { parent_thread_id: grantor }), task, hands },
    },
    ...granted.events,
  ]);
  return answer(JSON.stringify({ session_thread_id: id }));
}

/** The caller's own child thread, or an error result saying why not. */
function child(context: CoordinatorContext, id: string, tool: string): ToolOutcome | null {
  const info = context.fold.threads.get(id);
  if (!info || info.parent !== context.caller) return answer(`${tool} was not run: you have no thread ${id}.`, true);
  if (info.state.terminated) return answer(`${tool} was not run: thread ${id} has ended.`, true);
  return null;
}

function message(context: CoordinatorContext, input: Record<string, unknown>): ToolOutcome {
  const parsed = MessageInput.safeParse(input);
  if (!parsed.success) return refuse(parsed.error, 'thread_message');
  const { session_thread_id: to, message: text } = parsed.data;
  const refused = child(context, to, 'thread_message');
  if (refused) return refused;
  const content: ContentBlock[] = [{ type: 'text', text }];
  const from = context.caller === PRIMARY ? {} : { from_thread_id: context.caller };
  context.store.emitEvents(context.sessionId, [
    {
      type: 'agent.thread_message_sent',
      payload: { ...(context.caller === PRIMARY ? {} : { session_thread_id: context.caller }), to_thread_id: to, content },
    },
    { type: 'agent.thread_message_received', payload: { session_thread_id: to, ...from, content } },
  ]);
  return answer(`Sent to ${to}.`);
}

function end(context: CoordinatorContext, input: Record<string, unknown>): ToolOutcome {
  const parsed = EndInput.safeParse(input);
  if (!parsed.success) return refuse(parsed.error, 'thread_end');
  const id = parsed.data.session_thread_id;
  const refused = child(context, id, 'thread_end');
  if (refused) return refused;
  context.store.emitEvent(context.sessionId, {
    type: 'session.thread_status_terminated',
    payload: { session_thread_id: id, reason: 'Ended by the coordinator.' },
  });
  return answer(`Ended ${id}.`);
}

/**
 * Replies addressed to the caller after its previous `thread_wait` call: read from the log once, when the wait
 * starts, then followed from the events the store hands the wait's subscription (never read again per event).
 */
class Replies {
  /** The senders of the replies so far, in log order (undefined: the coordinator). */
  readonly from: Array<string | undefined> = [];
  private readonly since: number;
  /** The last seq taken: an event the subscription hands again (or one the first read covered) is skipped. */
  private seen = 0;

  constructor(private readonly context: CoordinatorContext) {
    const events = readAll(context.store, context.sessionId, ['agent.tool_use', 'agent.thread_message_received']);
    const waits = events.filter((event) => event.type === 'agent.tool_use' && event.payload.name === 'thread_wait' && this.mine(event));
    // The last wait is this call; replies count from the one before it.
    this.since = waits.length >= 2 ? (waits.at(-2) as StoredEvent).seq : 0;
    for (const event of events) this.follow(event);
    this.seen = Math.max(this.seen, context.store.getSession(context.sessionId).lastSeq);
  }

  /** Takes one event of the log (any type, in order). */
  follow(event: StoredEvent): void {
    if (event.seq <= this.seen) return;
    this.seen = event.seq;
    if (event.type !== 'agent.thread_message_received' || event.seq <= this.since || !this.mine(event)) return;
    this.from.push(event.payload.from_thread_id);
  }

  private mine(event: StoredEvent): boolean {
    return ((event.payload as { session_thread_id?: string }).session_thread_id ?? PRIMARY) === this.context.caller;
  }
}

async function wait(context: CoordinatorContext, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome> {
  const parsed = WaitInput.safeParse(input);
  if (!parsed.success) return refuse(parsed.error, 'thread_wait');
  const children = [...context.fold.threads.values()].filter((info) => info.parent === context.caller).map((info) => info.id);
  const listed = parsed.data.session_thread_ids ?? children;
  const strangers = listed.filter((id) => !children.includes(id));
  if (strangers.length > 0) return answer(`thread_wait was not run: you have no thread ${strangers.join(', ')}.`, true);
  const timeoutMs = (parsed.data.timeout_seconds ?? WAIT_DEFAULT_SECONDS) * 1000;
  const replies = new Replies(context);
  const report = (why: string): ToolOutcome => {
    const from = replies.from.map((sender) => sender ?? 'the coordinator');
    const status = listed.map((id) => {
      const info = context.fold.threads.get(id);
      const state = info?.state.terminated ? 'ended' : context.fold.busy(id) ? 'running' : 'idle';
      return { session_thread_id: id, agent: info?.agent ?? '', status: state };
    });
    return answer(JSON.stringify({ why, replies_from: from, threads: status }));
  };
  const ready = (): string | null => {
    if (replies.from.length > 0) return 'replies arrived (they follow as messages)';
    if (listed.every((id) => !context.fold.busy(id))) return 'every thread is idle or ended';
    return null;
  };
  const now = ready();
  if (now !== null) return report(now);
  return new Promise<ToolOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(report(why));
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => finish('the timeout passed'), timeoutMs);
    // Deferred: the run's fold follows the same notification (subscribed earlier, so it has already applied it).
    const unsubscribe = context.store.subscribe(context.sessionId, (event) => {
      replies.follow(event);
      queueMicrotask(() => {
        const why = ready();
        if (why !== null) finish(why);
      });
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

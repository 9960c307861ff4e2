/**
 * `POST /v1/sessions/{id}/events`: the events a client sends, each validated in the service's
 * shape, the whole batch checked before any of it is recorded, then each recorded through the
 * host's RPC method for it (the same the cockpit calls). The answer is what was recorded, in the
 * service's shape (`BetaManagedAgentsSendSessionEvents`).
 */
import type { BetaManagedAgentsSendSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { z } from 'zod';
import { OutcomeDefinitionSchema, describeIssues, issuesText, type ContentBlock, type StoredEvent } from '#shared/events';
import { MAX_EVENT_BYTES } from '#services/session/store';
import { call, type ApiContext } from './context.ts';
import { invalid, invalidInput } from './errors.ts';
import { eventIndex } from './event-index.ts';
import { sessionApiEventOf } from './session-event-map.ts';
import { internalId } from './ids.ts';
import { checkWorkerResults, deliverWorkerResults, type WorkerResult } from './work-results.ts';

const MAX_TEXT = 1_000_000;

const TextBlock = z.strictObject({
  type: z.literal('text'),
  text: z.string().max(MAX_TEXT, 'a text block is at most 1,000,000 characters'),
});
const ImageBlock = z.strictObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('base64'),
      media_type: z.enum(
        ['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
        'an image is image/png, image/jpeg, image/gif or image/webp',
      ),
      data: z.string().min(1, 'the image data is empty'),
    }),
    z.strictObject({ type: z.literal('url'), url: z.string() }),
    z.strictObject({ type: z.literal('file'), file_id: z.string() }),
  ]),
});
const DocumentBlock = z.looseObject({ type: z.literal('document') });
const RedactedBlock = z.strictObject({ type: z.literal('redacted') });
const MessageBlock = z.discriminatedUnion('type', [TextBlock, ImageBlock, DocumentBlock, RedactedBlock]);

const ResultBlock = z.discriminatedUnion('type', [
  TextBlock,
  ImageBlock,
  DocumentBlock,
  z.looseObject({ type: z.literal('search_result') }),
]);

const SendEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user.message'), content: z.array(MessageBlock).min(1, 'a message has at least one block').max(100) }),
  z.strictObject({ type: z.literal('user.interrupt'), session_thread_id: z.string().nullable().optional() }),
  z.strictObject({
    type: z.literal('user.define_outcome'),
    description: z.string(),
    rubric: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text'), content: z.string().max(262_144) }),
      z.strictObject({ type: z.literal('file'), file_id: z.string() }),
    ]),
    max_iterations: z.number().int().nullable().optional(),
  }),
  z.strictObject({
    type: z.literal('user.tool_confirmation'),
    tool_use_id: z.string().min(1).max(256),
    result: z.enum(['allow', 'deny']),
    deny_message: z.string().max(10_000).nullable().optional(),
  }),
  z.strictObject({
    type: z.literal('user.custom_tool_result'),
    custom_tool_use_id: z.string().min(1).max(256),
    content: z.array(ResultBlock).max(100).optional(),
    is_error: z.boolean().nullable().optional(),
  }),
  z.strictObject({
    type: z.literal('user.tool_result'),
    tool_use_id: z.string().min(1).max(256),
    content: z.array(ResultBlock).max(100).optional(),
    is_error: z.boolean().nullable().optional(),
  }),
  z.strictObject({ type: z.literal('system.message'), content: z.array(TextBlock).min(1).max(100) }),
]);
type SendEvent = z.output<typeof SendEventSchema>;

const SendBodySchema = z.strictObject({
  events: z.array(SendEventSchema).min(1, 'send at least one event').max(64, 'send at most 64 events at once'),
});

const SENDABLE =
  'user.message, user.interrupt, user.define_outcome, user.tool_confirmation, user.custom_tool_result, system.message or (a self-hosted worker) user.tool_result';

/** A checked event, ready to record: what to call, and which types it records. */
type Step =
  | { kind: 'message'; content: ContentBlock[] }
  | { kind: 'interrupt' }
  | { kind: 'outcome'; outcome: z.output<typeof OutcomeDefinitionSchema> }
  | { kind: 'confirm'; confirmations: Array<{ tool_use_id: string; result: 'allow' | 'deny'; deny_message?: string }> }
  | { kind: 'custom'; results: Array<{ custom_tool_use_id: string; content: ContentBlock[]; is_error: boolean }> }
  | { kind: 'tool_result'; results: WorkerResult[] }
  | { kind: 'system'; text: string };

function where(position: number): string {
  return `events[${position}]`;
}

function messageContent(content: z.output<typeof MessageBlock>[] | z.output<typeof ResultBlock>[], at: string): ContentBlock[] {
  return content.map((block, index) => {
    const path = `${at}.content[${index}]`;
    if (block.type === 'text') return { type: 'text', text: block.text };
    if (block.type === 'image') {
      if (block.source.type !== 'base64')
        throw invalid(
          `${path}: Drover takes images as base64 data only (no ${block.source.type} sources): send {type: "base64", media_type, data}.`,
        );
      return { type: 'image', source: block.source };
    }
    throw invalid(`${path}: Drover does not take ${block.type} blocks yet; send the text (or an image as base64) instead.`);
  });
}

/** Room kept in an event for what the store adds around the content (ids, timestamps, keys). */
const EVENT_OVERHEAD_BYTES = 4096;

/** Content the log could not take in one event is refused up front, so nothing of the batch is recorded. */
function checkSize(content: readonly ContentBlock[], at: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(content));
  if (bytes > MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES)
    throw invalid(
      `${at}: its content is ${(bytes / 1024 / 1024).toFixed(1)} MiB; one event holds at most ${MAX_EVENT_BYTES / 1024 / 1024} MiB. Send smaller images, or fewer at once.`,
    );
}

/** Checks one event on its own (the batch's cross-checks come after). */
function stepOf(event: SendEvent, at: string): Step {
  switch (event.type) {
    case 'user.message': {
      const content = messageContent(event.content, at);
      if (content.every((block) => block.type === 'text' && block.text.trim() === ''))
        throw invalid(`${at}: the message is empty. Send some text or an image.`);
      checkSize(content, at);
      return { kind: 'message', content };
    }
    case 'user.interrupt':
      if (event.session_thread_id != null)
        throw invalid(`${at}.session_thread_id: Drover sessions have one thread; leave it out to interrupt the session.`);
      return { kind: 'interrupt' };
    case 'user.define_outcome': {
      if (event.rubric.type === 'file') throw invalid(`${at}.rubric: Drover has no Files API; send the rubric as {type: "text", content}.`);
      const parsed = OutcomeDefinitionSchema.safeParse({
        description: event.description,
        rubric: event.rubric.content,
        ...(event.max_iterations == null ? {} : { max_iterations: event.max_iterations }),
      });
      if (!parsed.success) throw invalid(`${at}: ${issuesText(describeIssues(parsed.error.issues))}.`);
      return { kind: 'outcome', outcome: parsed.data };
    }
    case 'user.tool_confirmation': {
      if (event.deny_message != null && event.result !== 'deny')
        throw invalid(`${at}.deny_message: a deny message goes with result "deny" only.`);
      const uuid = internalId('event', event.tool_use_id);
      if (uuid === null)
        throw invalid(
          `${at}.tool_use_id: ${JSON.stringify(event.tool_use_id.slice(0, 64))} is not an event id: name the agent.tool_use or agent.mcp_tool_use event (sevt_…) listed in the last session.status_idle's stop_reason.event_ids.`,
        );
      return {
        kind: 'confirm',
        confirmations: [
          { tool_use_id: uuid, result: event.result, ...(event.deny_message == null ? {} : { deny_message: event.deny_message }) },
        ],
      };
    }
    case 'user.custom_tool_result': {
      const content = messageContent(event.content ?? [], at);
      checkSize(content, at);
      return {
        kind: 'custom',
        results: [
          {
            custom_tool_use_id: internalId('event', event.custom_tool_use_id) ?? event.custom_tool_use_id,
            content,
            is_error: event.is_error ?? false,
          },
        ],
      };
    }
    case 'user.tool_result': {
      // A self-hosted worker's answer (work.ts checks that the call waits for it).
      const content = messageContent(event.content ?? [], at);
      checkSize(content, at);
      const uuid = internalId('event', event.tool_use_id);
      if (uuid === null)
        throw invalid(
          `${at}.tool_use_id: ${JSON.stringify(event.tool_use_id.slice(0, 64))} is not an event id: a self-hosted worker names the agent.tool_use event (sevt_…) it answers.`,
        );
      return { kind: 'tool_result', results: [{ eventUuid: uuid, content, isError: event.is_error ?? false }] };
    }
    case 'system.message': {
      const text = event.content.map((block) => block.text).join('\n\n');
      if (text.trim() === '') throw invalid(`${at}: the system message is empty.`);
      return { kind: 'system', text };
    }
  }
}

/** Consecutive confirmations (and custom results) become one call, which records them all or none. */
function merged(steps: Step[]): Step[] {
  const out: Step[] = [];
  for (const step of steps) {
    const previous = out.at(-1);
    if (step.kind === 'confirm' && previous?.kind === 'confirm') previous.confirmations.push(...step.confirmations);
    else if (step.kind === 'custom' && previous?.kind === 'custom') previous.results.push(...step.results);
    else if (step.kind === 'tool_result' && previous?.kind === 'tool_result') previous.results.push(...step.results);
    else out.push(step.kind === 'confirm' ? { kind: 'confirm', confirmations: [...step.confirmations] } : step);
  }
  return out;
}

/** Checks what only the session can tell (which tool uses wait for an answer) before anything is recorded. */
async function checkAgainstSession(context: ApiContext, sessionId: string, steps: readonly Step[]): Promise<void> {
  const confirmations = steps.flatMap((step) => (step.kind === 'confirm' ? step.confirmations : []));
  const results = steps.flatMap((step) => (step.kind === 'custom' ? step.results : []));
  checkWorkerResults(
    context,
    sessionId,
    steps.flatMap((step) => (step.kind === 'tool_result' ? step.results : [])),
  );
  if (confirmations.length === 0 && results.length === 0) return;
  const view = await call(context, 'sessions-guardrails', { sessionId });
  const calls = new Set(view.custom_pending.flatMap((pending) => [pending.event_id, pending.tool_use_id]));
  const answered = new Set<string>();
  for (const result of results) {
    const id = result.custom_tool_use_id;
    const shown = id.includes('-') ? `sevt_${id.replaceAll('-', '')}` : id;
    if (answered.has(id)) throw invalid(`The custom tool use ${shown} is answered twice in this batch: answer it once.`);
    answered.add(id);
    if (!calls.has(id))
      throw invalid(
        `The custom tool use ${shown} is not waiting for a result in this session (unknown, or already answered). Answer the agent.custom_tool_use events named by the last session.status_idle's stop_reason.event_ids.`,
      );
  }
  const waiting = new Set(view.pending.map((pending) => pending.event_id));
  const seen = new Set<string>();
  for (const confirmation of confirmations) {
    const id = `sevt_${confirmation.tool_use_id.replaceAll('-', '')}`;
    if (seen.has(confirmation.tool_use_id)) throw invalid(`The tool use ${id} is answered twice in this batch: answer it once.`);
    seen.add(confirmation.tool_use_id);
    if (!waiting.has(confirmation.tool_use_id))
      throw invalid(
        `The tool use ${id} is not waiting for a confirmation in this session (unknown, or already answered). Answer the events named by the last session.status_idle's stop_reason.event_ids.`,
      );
  }
}

const RECORDED: Record<Step['kind'], readonly StoredEvent['type'][]> = {
  message: ['user.message'],
  interrupt: ['user.interrupt'],
  outcome: ['user.define_outcome'],
  confirm: ['user.tool_confirmation'],
  custom: ['user.custom_tool_result'],
  tool_result: ['agent.tool_result'],
  system: ['system.message'],
};

async function record(context: ApiContext, sessionId: string, step: Step): Promise<void> {
  switch (step.kind) {
    case 'message':
      await call(context, 'sessions-send', { sessionId, content: step.content });
      return;
    case 'interrupt':
      await call(context, 'sessions-interrupt', { sessionId });
      return;
    case 'outcome':
      await call(context, 'sessions-define-outcome', { sessionId, outcome: step.outcome });
      return;
    case 'confirm':
      await call(context, 'sessions-confirm-tool', { sessionId, confirmations: step.confirmations });
      return;
    case 'custom':
      await call(context, 'sessions-custom-tool-result', { sessionId, results: step.results });
      return;
    case 'system':
      await call(context, 'sessions-system-message', { sessionId, text: step.text });
      return;
    case 'tool_result':
      await deliverWorkerResults(context, sessionId, step.results);
      return;
  }
}

/** Validates the batch, records it in order, and answers with the recorded events in the service's shape. */
export async function sendEvents(context: ApiContext, sessionId: string, body: unknown): Promise<BetaManagedAgentsSendSessionEvents> {
  if (body === undefined) throw invalid(`Send a JSON body: {"events": [...]}, each event one of ${SENDABLE}.`);
  const parsed = SendBodySchema.safeParse(body);
  if (!parsed.success) {
    const unknownType = parsed.error.issues.find((issue) => issue.code === 'invalid_union' && issue.path.at(-1) === 'type');
    if (unknownType !== undefined) throw invalid(`${unknownType.path.join('.')}: not an event Drover takes. Send ${SENDABLE}.`);
    throw invalidInput('These events are not valid', parsed.error);
  }
  const events = parsed.data.events;
  const ordered = events.map((event, position) => stepOf(event, where(position)));
  const system = events.findIndex((event) => event.type === 'system.message');
  if (system >= 0) {
    // The service's rule: one system.message, last, right after the message or result it accompanies.
    const accompanied = events[system - 1]?.type;
    if (
      events.filter((event) => event.type === 'system.message').length > 1 ||
      system !== events.length - 1 ||
      (accompanied !== 'user.message' && accompanied !== 'user.custom_tool_result')
    )
      throw invalid(
        `${where(system)}: a system.message goes last in its request, right after the user.message or user.custom_tool_result it accompanies (at most one per request).`,
      );
    // Recorded before what it accompanies, so the turn that message starts already has it.
    const [context] = ordered.splice(system, 1);
    if (context !== undefined) ordered.splice(system - 1, 0, context);
  }
  const steps = merged(ordered);
  await checkAgainstSession(context, sessionId, steps);

  // What the calls record, in order (the harness's own events, appended meanwhile, are not ours).
  const expected = new Set(steps.flatMap((step) => RECORDED[step.kind]));
  const recorded: StoredEvent[] = [];
  const unsubscribe = context.store.subscribe(sessionId, (event) => {
    if (expected.has(event.type)) recorded.push(event);
  });
  try {
    for (const step of steps) await record(context, sessionId, step);
  } finally {
    unsubscribe();
  }
  const index = eventIndex(context.store, sessionId);
  const last = recorded.at(-1);
  if (last !== undefined) index.ensure(last.seq);
  const data = recorded.flatMap((event) => {
    const mapped = sessionApiEventOf(sessionId, event, index);
    return mapped === null ? [] : [mapped];
  });
  return { data: data as NonNullable<BetaManagedAgentsSendSessionEvents['data']> };
}

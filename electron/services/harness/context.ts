/**
 * The context builder: a pure function from a session's events (and a token budget) to the
 * Messages API request the model sees. The context window is a *view* of the log: this module
 * decides what enters it — clearing old tool results and starting from the latest compaction
 * summary when the session outgrows the budget — and never changes or deletes an event.
 *
 * It must stay pure (no I/O, no clock): the same events and budget always give the same request,
 * which is what keeps prompt-cache prefixes stable between turns.
 */
import { stripVTControlCharacters } from 'node:util';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { ContentBlock, EventOf, SessionSettings, StoredEvent } from '#shared/events';
import type { ToolSpec } from '#services/hands/hand';
import { systemMessageTexts } from './custom-tools.ts';
import { revisionFeedback } from './grader.ts';
import { usesBudgetedThinking } from './models.ts';

export interface ContextInput {
  /** The session's view in ascending seq order (it may start after a compaction's through_seq). */
  events: readonly StoredEvent[];
  settings: SessionSettings;
  tools: readonly ToolSpec[];
  /** Input tokens the request should stay under. */
  budget: number;
}

export interface ContextView {
  params: MessageCreateParamsStreaming;
  /** Estimated input tokens of `params` (characters / 4; images at their nominal cost). */
  estimatedTokens: number;
  /** Tool results whose output was left out of this request to fit the budget. */
  clearedToolResults: number;
  /** True when the request is over budget even with old tool results cleared: compact first. */
  overBudget: boolean;
}

/** Shown to the model where an old tool result was left out; the log still has it. */
export function clearedResultText(seq: number): string {
  return `[Output cleared to save context. It is kept in the session log as event #${seq}.]`;
}

export const SUMMARY_PREAMBLE = 'This session was compacted to fit the context window. Summary of the conversation before this point:\n\n';

/** Appended (in the view only) when a response must be continued and prefill is not possible. */
export const CONTINUE_PROMPT = 'Your previous response was cut off. Continue exactly where you stopped.';

const IMAGE_TOKENS = 1600;
const BREAKPOINT = { type: 'ephemeral' } as const;

type ResultRef = { block: ToolResultBlockParam; seq: number; tokens: number };
type Turn = { role: 'user' | 'assistant'; content: ContentBlockParam[] };

/** Builds the request for the next model call from the session's events. */
export function buildContext(input: ContextInput): ContextView {
  const { settings, budget } = input;
  const { turns, results } = conversationOf(input.events);
  endWithUser(turns, settings.thinking_budget !== null || !usesBudgetedThinking(settings.model));

  const system: TextBlockParam[] = settings.system.trim() === '' ? [] : [{ type: 'text', text: settings.system }];
  // `system.message`s: privileged context for this request and every later one, after the session's own prompt.
  for (const text of systemMessageTexts(input.events)) system.push({ type: 'text', text });
  const tools: Tool[] = input.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.input_schema,
  }));

  let estimated = estimateTokens(system) + estimateTokens(tools) + turns.reduce((sum, turn) => sum + blocksTokens(turn.content), 0);
  let cleared = 0;
  if (estimated > budget) {
    // Clear in steps of a quarter budget, oldest first, so the cleared prefix (and with it the
    // prompt cache) only moves when the session has grown by another step — not on every turn.
    const step = Math.max(1, Math.floor(budget / 4));
    const target = Math.ceil((estimated - budget) / step) * step;
    const lastUser = turns.at(-1);
    let freed = 0;
    for (const result of results) {
      if (freed >= target) break;
      if (lastUser?.content.includes(result.block)) break; // the model has not seen these yet
      const text = clearedResultText(result.seq);
      result.block.content = [{ type: 'text', text }];
      freed += result.tokens - textTokens(text);
      cleared++;
    }
    estimated -= freed;
  }

  markCacheBreakpoints(system, tools, turns);
  const params: MessageCreateParamsStreaming = {
    model: settings.model,
    max_tokens: settings.max_tokens,
    messages: turns as MessageParam[],
    stream: true,
  };
  if (system.length > 0) params.system = system;
  if (tools.length > 0) params.tools = tools;
  if (settings.thinking_budget !== null) {
    params.thinking = usesBudgetedThinking(settings.model)
      ? { type: 'enabled', budget_tokens: settings.thinking_budget }
      : { type: 'adaptive' };
  }
  return { params, estimatedTokens: estimated, clearedToolResults: cleared, overBudget: estimated > budget };
}

/**
 * Where a compaction should cut: the seq through which events are summarised, chosen just before
 * a model request so the kept part starts with a whole response. Keeps as much recent history as
 * fits in 40 % of the budget (at least the last response); null when there is nothing to fold.
 */
export function compactionCut(events: readonly StoredEvent[], budget: number): number | null {
  const from = latestCompaction(events)?.payload.through_seq ?? 0;
  const starts: number[] = [];
  const tokensAfter: number[] = [];
  let running = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i] as StoredEvent;
    if (event.seq <= from) break;
    running += eventTokens(event);
    if (event.type === 'span.model_request_start' && event.payload.purpose === 'turn') {
      starts.push(event.seq);
      tokensAfter.push(running);
    }
  }
  // starts[] runs newest first; the first start (oldest) keeps everything, so it folds nothing.
  let cut: number | null = null;
  for (let i = 0; i < starts.length; i++) {
    const seq = starts[i] as number;
    if (seq <= from + 1) continue;
    if (cut === null || (tokensAfter[i] as number) <= budget * 0.4) cut = seq - 1;
    else break;
  }
  return cut;
}

export const COMPACTION_SYSTEM =
  'You write the working memory of a coding agent whose conversation no longer fits its context window. ' +
  'Your summary replaces the conversation up to this point, so the agent must be able to carry on from it alone.';

export const COMPACTION_INSTRUCTION =
  'Summarise the conversation so far for your own future use: the task and the user’s requests in their own words, ' +
  'what has been done (commands run, files created or changed, with paths), findings and errors, decisions and why, ' +
  'and what remains to do next. Keep exact identifiers, paths and numbers. Reply with the summary only.';

/** The request that summarises events up to `throughSeq` (a view of them, ending with the instruction). */
export function compactionRequest(input: ContextInput, throughSeq: number): MessageCreateParamsStreaming {
  const prefix = input.events.filter((event) => event.seq <= throughSeq);
  const settings = { ...input.settings, thinking_budget: null, system: COMPACTION_SYSTEM };
  const { params } = buildContext({ ...input, events: prefix, settings });
  const instruction: TextBlockParam = { type: 'text', text: COMPACTION_INSTRUCTION };
  const last = params.messages.at(-1);
  if (last?.role === 'user' && Array.isArray(last.content) && !isContinuePrompt(last.content)) last.content.push(instruction);
  else if (last?.role === 'user') last.content = [instruction];
  else params.messages.push({ role: 'user', content: [instruction] });
  params.max_tokens = Math.min(input.settings.max_tokens, 8192);
  if (params.tools) params.tool_choice = { type: 'none' };
  return params;
}

function isContinuePrompt(content: ContentBlockParam[]): boolean {
  const only = content[0];
  return content.length === 1 && only?.type === 'text' && only.text === CONTINUE_PROMPT;
}

// ------------------------------------------------------------------------------------------------

function latestCompaction(events: readonly StoredEvent[]): EventOf<'agent.thread_context_compacted'> | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i] as StoredEvent;
    if (event.type === 'agent.thread_context_compacted') return event;
  }
  return undefined;
}

/**
 * Folds events into alternating user/assistant turns. Rules:
 * - consecutive agent blocks (also across continued requests) form one assistant message;
 * - tool results and user messages between two responses form one user message, tool results
 *   first and in the order of the tool uses they answer;
 * - a user message logged while a request was in flight enters after that response (the model
 *   had not seen it);
 * - an outcome evaluation that asks for a revision is a user-turn text: the grader's feedback,
 *   which the agent's next turn answers.
 */
function conversationOf(events: readonly StoredEvent[]): { turns: Turn[]; results: ResultRef[] } {
  const compaction = latestCompaction(events);
  const from = compaction?.payload.through_seq ?? 0;
  const turns: Turn[] = [];
  const results: ResultRef[] = [];
  let assistant: Turn | undefined;
  let toolOrder: string[] = [];
  let pendingResults = new Map<string, ToolResultBlockParam>();
  let pendingTexts: ContentBlockParam[] = compaction ? [{ type: 'text', text: SUMMARY_PREAMBLE + compaction.payload.summary }] : [];
  let deferred: ContentBlockParam[] = [];
  let inFlight = false;
  let maxIterations: number | null = null;
  /** Custom tool calls by event id: their answers name the event, the model's blocks the tool_use_id. */
  const customIds = new Map<string, string>();

  const flushUser = (): void => {
    const content: ContentBlockParam[] = [];
    for (const id of toolOrder) {
      content.push(
        pendingResults.get(id) ?? {
          type: 'tool_result',
          tool_use_id: id,
          is_error: true,
          content: [{ type: 'text', text: 'No result was recorded for this tool use.' }],
        },
      );
    }
    content.push(...pendingTexts);
    if (content.length > 0) turns.push({ role: 'user', content });
    toolOrder = [];
    pendingResults = new Map();
    pendingTexts = [];
    assistant = undefined;
  };
  const addAssistant = (block: ContentBlockParam): void => {
    if (assistant === undefined) {
      flushUser();
      if (turns.length === 0) turns.push({ role: 'user', content: [{ type: 'text', text: '(The conversation begins.)' }] });
      assistant = { role: 'assistant', content: [] };
      turns.push(assistant);
    }
    assistant.content.push(block);
  };

  for (const event of events) {
    if (event.seq <= from) continue;
    switch (event.type) {
      case 'span.model_request_start':
        if (event.payload.purpose === 'turn') inFlight = true;
        break;
      case 'span.model_request_end':
        if (event.payload.purpose === 'turn') {
          inFlight = false;
          if (deferred.length > 0) {
            pendingTexts.push(...deferred);
            deferred = [];
            assistant = undefined;
          }
        }
        break;
      case 'user.define_outcome':
        maxIterations = event.payload.max_iterations;
        break;
      case 'span.outcome_evaluation_end':
        if (event.payload.result === 'needs_revision') {
          pendingTexts.push({ type: 'text', text: revisionFeedback(event.payload, maxIterations) });
          assistant = undefined;
        }
        break;
      case 'user.message': {
        const blocks = event.payload.content.map(contentParam);
        (inFlight ? deferred : pendingTexts).push(...blocks);
        if (!inFlight) assistant = undefined;
        break;
      }
      case 'agent.message':
        for (const block of event.payload.content) if (block.text !== '') addAssistant({ type: 'text', text: block.text });
        break;
      case 'agent.thinking':
        addAssistant(
          'redacted' in event.payload
            ? { type: 'redacted_thinking', data: event.payload.data }
            : { type: 'thinking', thinking: event.payload.thinking, signature: event.payload.signature },
        );
        break;
      case 'agent.tool_use':
      case 'agent.mcp_tool_use':
      case 'agent.custom_tool_use':
        addAssistant({ type: 'tool_use', id: event.payload.tool_use_id, name: event.payload.name, input: event.payload.input });
        toolOrder.push(event.payload.tool_use_id);
        if (event.type === 'agent.custom_tool_use') customIds.set(event.id, event.payload.tool_use_id);
        break;
      case 'user.custom_tool_result': {
        const id = customIds.get(event.payload.custom_tool_use_id);
        if (id === undefined) break;
        const content = event.payload.content.map(contentParam) as ToolResultBlockParam['content'] & unknown[];
        const block: ToolResultBlockParam = { type: 'tool_result', tool_use_id: id, content };
        if (event.payload.is_error) block.is_error = true;
        pendingResults.set(id, block);
        results.push({ block, seq: event.seq, tokens: blocksTokens(content) });
        assistant = undefined;
        break;
      }
      case 'agent.tool_result':
      case 'agent.mcp_tool_result': {
        // Tool output keeps its ANSI colours in the log (the UI shows them); the model reads it plain.
        // MCP servers should mirror structured results in their content; when one sends only the
        // structured part, the model reads it as JSON.
        const blocks =
          event.type === 'agent.mcp_tool_result' && event.payload.content.length === 0 && event.payload.structured_content !== undefined
            ? [{ type: 'text' as const, text: JSON.stringify(event.payload.structured_content, null, 2) }]
            : event.payload.content;
        const content = blocks.map((block) =>
          contentParam(block.type === 'text' ? { type: 'text', text: stripVTControlCharacters(block.text) } : block),
        ) as ToolResultBlockParam['content'] & unknown[];
        const block: ToolResultBlockParam = { type: 'tool_result', tool_use_id: event.payload.tool_use_id, content };
        if (event.payload.is_error) block.is_error = true;
        pendingResults.set(event.payload.tool_use_id, block);
        results.push({ block, seq: event.seq, tokens: blocksTokens(content) });
        assistant = undefined;
        break;
      }
      default:
        break;
    }
  }
  pendingTexts.push(...deferred);
  flushUser();
  return { turns, results };
}

/**
 * A request must end with a user turn, or with an assistant turn the model continues (prefill).
 * Prefill is not allowed when the model may think (extended thinking on, or a model that thinks
 * adaptively by default), nor after a thinking-only turn, so those get an explicit continue
 * prompt; prefill text may not end with whitespace.
 */
function endWithUser(turns: Turn[], thinking: boolean): void {
  const last = turns.at(-1);
  if (last?.role !== 'assistant') return;
  const tail = last.content.at(-1);
  if (!thinking && tail?.type === 'text' && tail.text.trimEnd() !== '') {
    tail.text = tail.text.trimEnd();
    return;
  }
  turns.push({ role: 'user', content: [{ type: 'text', text: CONTINUE_PROMPT }] });
}

/**
 * At most four cache breakpoints: tools, system, the end of the previous user turn (what the last
 * request cached) and the end of the conversation (what the next request will read).
 */
function markCacheBreakpoints(system: TextBlockParam[], tools: Tool[], turns: Turn[]): void {
  const lastTool = tools.at(-1);
  if (lastTool) lastTool.cache_control = BREAKPOINT;
  const lastSystem = system.at(-1);
  if (lastSystem) lastSystem.cache_control = BREAKPOINT;
  let marked = 0;
  for (let i = turns.length - 1; i >= 0 && marked < 2; i--) {
    const turn = turns[i] as Turn;
    if (turn.role !== 'user' && i !== turns.length - 1) continue;
    const block = turn.content.at(-1);
    if (block && block.type !== 'thinking' && block.type !== 'redacted_thinking' && 'type' in block) {
      (block as { cache_control?: typeof BREAKPOINT }).cache_control = BREAKPOINT;
      marked++;
    }
  }
}

function contentParam(block: ContentBlock): TextBlockParam | { type: 'image'; source: Extract<ContentBlock, { type: 'image' }>['source'] } {
  return block.type === 'text' ? { type: 'text', text: block.text } : { type: 'image', source: block.source };
}

// ---------------------------------------------------------------------------- token estimates

function textTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function estimateTokens(value: unknown): number {
  return textTokens(JSON.stringify(value) ?? '');
}

function blocksTokens(blocks: readonly unknown[] | string | undefined): number {
  if (blocks === undefined) return 0;
  if (typeof blocks === 'string') return textTokens(blocks);
  let sum = 0;
  for (const block of blocks) sum += blockTokens(block);
  return sum;
}

function blockTokens(block: unknown): number {
  const b = block as { type?: string; text?: string; thinking?: string; content?: unknown[] | string; input?: unknown };
  switch (b.type) {
    case 'text':
      return textTokens(b.text ?? '');
    case 'thinking':
      return textTokens(b.thinking ?? '');
    case 'image':
      return IMAGE_TOKENS;
    case 'tool_result':
      return 8 + blocksTokens(b.content);
    case 'tool_use':
      return 8 + estimateTokens(b.input);
    default:
      return estimateTokens(block);
  }
}

function eventTokens(event: StoredEvent): number {
  switch (event.type) {
    case 'user.message':
    case 'agent.tool_result':
    case 'agent.mcp_tool_result':
    case 'user.custom_tool_result':
    case 'agent.message':
    case 'system.message':
      return blocksTokens(event.payload.content);
    case 'agent.thinking':
      return 'redacted' in event.payload ? textTokens(event.payload.data) : textTokens(event.payload.thinking);
    case 'agent.tool_use':
    case 'agent.mcp_tool_use':
    case 'agent.custom_tool_use':
      return 8 + estimateTokens(event.payload.input);
    case 'span.outcome_evaluation_end':
      return event.payload.result === 'needs_revision' ? textTokens(revisionFeedback(event.payload, null)) : 0;
    default:
      return 0;
  }
}

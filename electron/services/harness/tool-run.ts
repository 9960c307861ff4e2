/**
 * The tools of one wake: which hand offers each tool, running the model's tool uses on them, and
 * recording each result — capped, redacted, and committed with the start of the request that will
 * carry it to the model when that request is certain.
 *
 * A tool runs only after its tool use is durable, and its result is stored when it finishes. A
 * tool use a previous process stored may have run: it is recorded as interrupted and must never
 * be run again. An interrupt must stop the wait for a tool at once, even one whose hand ignores
 * the signal, and raw output must never reach a request before it is redacted.
 */
import { performance } from 'node:perf_hooks';
import type { ContentBlock, NewEvent, StoredEvent } from '#shared/events';
import type { Hand, ToolOutcome, ToolSpec } from '#services/hands/hand';
import { buildContext } from './context.ts';
import { customToolSpec } from './custom-tools.ts';
import { contextBudget } from './models.ts';
import { idle, toolResult, type RunContext } from './run-context.ts';
import { applyEvent, nextStep, type ToolUseEvent } from './state.ts';

/** Tool output kept per result; more is cut with a marker (hands cap well below this). */
const MAX_TOOL_RESULT_CHARS = 200_000;

type ToolRoute = Map<string, Hand>;

export class ToolRun {
  private route: ToolRoute = new Map();
  private tools: ToolSpec[] = [];
  /** The hands the tools came from (an MCP server's tools may change while a turn runs). */
  private hands: readonly Hand[] = [];
  /** The custom tools the last request offered (the program runs them: custom-tools.ts). */
  private custom = new Set<string>();

  constructor(private readonly run: RunContext) {}

  /** The hand that offers the tool `name` in the last request; undefined: none does. */
  handFor(name: string): Hand | undefined {
    return this.route.get(name);
  }

  /** Whether `name` is one of the custom tools the last request offered. */
  isCustom(name: string): boolean {
    return this.custom.has(name);
  }

  /** The names of the tools the last request offered. */
  names(): string[] {
    return [...this.route.keys(), ...this.custom];
  }

  /** The session's tools, and which hand runs each; null (turn ended) when two hands clash. */
  async load(starting: NewEvent[]): Promise<ToolSpec[] | null> {
    const hands = (await this.run.options.handsFor?.(this.run.sessionId, this.run.signal)) ?? [];
    const route: ToolRoute = new Map();
    const tools: ToolSpec[] = [];
    for (const hand of hands) {
      for (const tool of hand.tools()) {
        const other = route.get(tool.name);
        if (other) {
          const message = `Two hands offer a tool named "${tool.name}" (${other.id} and ${hand.id}). Detach one of them, then send a message again.`;
          this.run.emit(
            ...starting,
            { type: 'session.error', payload: { error: { type: 'tool_conflict', message }, retry_status: { type: 'terminal' } } },
            idle('error', message),
          );
          return null;
        }
        route.set(tool.name, hand);
        tools.push(tool);
      }
    }
    const custom = new Set<string>();
    for (const tool of this.run.state.customTools) {
      const hand = route.get(tool.name);
      if (hand) {
        const message = `The custom tool "${tool.name}" has the name of a tool of the hand ${hand.id}. Rename the custom tool (or detach the hand), then send a message again.`;
        this.run.emit(
          ...starting,
          { type: 'session.error', payload: { error: { type: 'tool_conflict', message }, retry_status: { type: 'terminal' } } },
          idle('error', message),
        );
        return null;
      }
      custom.add(tool.name);
      tools.push(customToolSpec(tool));
    }
    this.route = route;
    this.tools = tools;
    this.hands = hands;
    this.custom = custom;
    return tools;
  }

  /** Tool uses a previous process stored and may have started: recorded as interrupted, never re-run. */
  recordLost(uses: ToolUseEvent[]): void {
    const forkedAt = this.run.state.forkedAt;
    this.run.emit(
      ...uses.map((use): NewEvent =>
        toolResult(
          use.payload.tool_use_id,
          forkedAt !== null && forkedAt > use.seq
            ? 'This session was forked before this tool’s result was recorded. The tool was not run in this branch; ' +
                'if the original session ran it, its effects on shared machines may be there. Run it again if you need its result.'
            : 'Drover stopped while this tool was running or about to run, so its outcome is unknown. ' +
                'It was not run again. Check its effects before running it again.',
          true,
          'interrupted',
          use.type === 'agent.mcp_tool_use',
        ),
      ),
    );
  }

  /**
   * Takes the open tool uses that do not wait for the user (see `GuardrailsRun.fate`): answers the
   * denied ones at once, records as interrupted those that may have run, and runs the rest — those
   * this run stored as allowed, and those the user approved (each after its run-start span).
   */
  async handle(uses: readonly ToolUseEvent[], own: ReadonlySet<string>): Promise<void> {
    const answers: NewEvent[] = [];
    const lost: ToolUseEvent[] = [];
    const runs: { use: ToolUseEvent; confirmed: boolean }[] = [];
    for (const use of uses) {
      const fate = this.run.guard.fate(use, own.has(use.payload.tool_use_id));
      if (fate.kind === 'answer') answers.push(fate.event);
      else if (fate.kind === 'lost') lost.push(use);
      else runs.push({ use, confirmed: fate.confirmed });
    }
    if (answers.length > 0) this.run.emit(...answers);
    if (lost.length > 0) this.recordLost(lost);
    if (runs.length === 0 || this.run.stopping) return;
    // A wake for an approval has not loaded the hands yet (no request was made).
    if (runs.some(({ use }) => !this.route.has(use.payload.name))) {
      if ((await this.load([])) === null || this.run.stopping) return;
    }
    const gone = runs.filter(({ use }) => !this.route.has(use.payload.name));
    if (gone.length > 0) {
      this.run.emit(
        ...gone.map(({ use }) =>
          toolResult(
            use.payload.tool_use_id,
            `Not run: no hand offers "${use.payload.name}" any more (it was detached or changed). Use one of the tools offered now.`,
            true,
            'completed',
            use.type === 'agent.mcp_tool_use',
          ),
        ),
      );
    }
    await this.runAll(runs.filter(({ use }) => this.route.has(use.payload.name)));
  }

  /** Runs tool uses: concurrently across hands and within a hand that allows it; each result is stored when it finishes. */
  private async runAll(runs: readonly { use: ToolUseEvent; confirmed: boolean }[]): Promise<void> {
    const signal = this.run.signal;
    const byHand = new Map<Hand, { use: ToolUseEvent; confirmed: boolean }[]>();
    for (const run of runs) {
      const hand = this.route.get(run.use.payload.name) as Hand;
      byHand.set(hand, [...(byHand.get(hand) ?? []), run]);
    }
    await Promise.all(
      [...byHand].map(async ([hand, group]) => {
        if (hand.concurrent) await Promise.all(group.map(({ use, confirmed }) => this.runTool(hand, use, signal, confirmed)));
        else for (const { use, confirmed } of group) await this.runTool(hand, use, signal, confirmed);
      }),
    );
  }

  /** Whether the hands (and the custom tools) still offer exactly the tools the last request offered. */
  private toolsUnchanged(): boolean {
    const now = [
      ...this.hands.flatMap((hand) => hand.tools().map((tool) => tool.name)),
      ...this.run.state.customTools.map((tool) => tool.name),
    ];
    return now.length === this.tools.length && now.every((name, index) => name === this.tools[index]?.name);
  }

  private async runTool(hand: Hand, use: ToolUseEvent, signal: AbortSignal, confirmed: boolean): Promise<void> {
    const id = use.payload.tool_use_id;
    const mcp = use.type === 'agent.mcp_tool_use';
    if (this.run.stopping) return;
    if (signal.aborted) {
      this.run.emit(toolResult(id, 'Not run: the user interrupted before this tool started.', true, 'interrupted', mcp));
      return;
    }
    if (confirmed) {
      // Approved in an earlier step: its start is durable before it runs, so a crash from here on
      // leaves it recorded as started — interrupted by the next wake, never run twice.
      const running: NewEvent[] = this.run.state.running ? [] : [{ type: 'session.status_running', payload: {} }];
      this.run.emit(...running, { type: 'span.tool_run_start', payload: { tool_use_id: id } });
      if (this.run.stopping) return;
    }
    const started = performance.now();
    let outcome: ToolOutcome;
    let status: 'completed' | 'interrupted' | 'timed_out' = 'completed';
    try {
      outcome = await untilAborted(
        hand.execute(use.payload.name, use.payload.input, {
          signal,
          onProgress: (text) => this.run.live({ type: 'tool_progress', tool_use_id: id, text }),
        }),
        signal,
      );
    } catch (error) {
      if (this.run.stopping) return;
      if (signal.aborted) {
        status = 'interrupted';
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        outcome = {
          isError: true,
          content: [
            {
              type: 'text',
              text: `Interrupted by the user after ${seconds} s; the tool was told to stop. Whatever it did before that stays done.`,
            },
          ],
        };
      } else {
        outcome = {
          isError: true,
          content: [{ type: 'text', text: `The tool failed: ${error instanceof Error ? error.message : String(error)}` }],
        };
      }
    }
    if (this.run.stopping) return;
    const payload = {
      tool_use_id: id,
      content: capContent(outcome.content),
      is_error: outcome.isError,
      status: outcome.status ?? status,
      duration_ms: performance.now() - started,
    };
    this.emitToolResult(
      mcp
        ? {
            type: 'agent.mcp_tool_result',
            payload: {
              ...payload,
              ...(outcome.structuredContent === undefined ? {} : { structured_content: capStructured(outcome.structuredContent) }),
            },
          }
        : { type: 'agent.tool_result', payload },
    );
  }

  /**
   * Stores a tool result. The last result of a step, when the request that will carry it to the
   * model is certain (no interrupt, no compaction needed), is left to the run: it sends that request
   * and commits the result with the request's start while the request is on its way, so the commit's
   * fsync hides behind the model's time (session-run.ts `sendPrepared`). Its view is built now, from
   * the log as it will be after that commit.
   */
  private emitToolResult(raw: NewEvent): void {
    // The view below is built before the result is stored: build it from what will be stored
    // (secrets in the output already replaced), never from the raw output.
    const result = { ...raw, payload: this.run.store.redacted(raw.payload) } as NewEvent;
    const last = this.run.events.at(-1)?.seq ?? 0;
    const probeEvent = { ...result, seq: last + 1, id: '', ts: '' } as StoredEvent;
    const probe = structuredClone(this.run.state);
    applyEvent(probe, probeEvent);
    const next = nextStep(probe);
    if (
      next.kind !== 'request' ||
      next.compact ||
      !probe.running ||
      this.run.signal.aborted ||
      !this.toolsUnchanged() ||
      this.run.guard.budgetStop(this.run.settings.model) !== null
    ) {
      this.run.emit(result);
      return;
    }
    const settings = this.run.settings;
    const view = buildContext({ events: [...this.run.events, probeEvent], settings, tools: this.tools, budget: contextBudget(settings) });
    if (view.overBudget) {
      this.run.emit(result);
      return;
    }
    // Committed by the run right after it sends the request (session-run.ts `sendPrepared`).
    this.run.prepared = {
      commit: [result, { type: 'span.model_request_start', payload: { model: settings.model, purpose: 'turn' } }],
      builtAfter: last,
      model: settings.model,
      view,
    };
  }
}

/** Settles with the work, or rejects as soon as `signal` aborts (a hand that ignores the signal cannot hold the turn). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Structured content too large to keep whole is replaced by a note (its text content still carries the result). */
function capStructured(value: Record<string, unknown>): Record<string, unknown> {
  const size = JSON.stringify(value).length;
  if (size <= MAX_TOOL_RESULT_CHARS) return value;
  return { drover_note: `The structured result (${size} characters) was too large to keep; its text content was kept.` };
}

function capContent(content: ContentBlock[]): ContentBlock[] {
  let budget = MAX_TOOL_RESULT_CHARS;
  return content.map((block) => {
    if (block.type !== 'text') return block;
    if (block.text.length <= budget) {
      budget -= block.text.length;
      return block;
    }
    const kept = block.text.slice(0, Math.max(0, budget));
    const cut = block.text.length - kept.length;
    budget = 0;
    return { type: 'text', text: `${kept}\n[… ${cut} more characters not kept: the output was too long …]` };
  });
}

/**
 * A hand for tests and benchmarks only: real local functions (arithmetic, and a wait that honours
 * its abort signal) behind the real Hand interface, so tool routing, concurrency, ordering and
 * interrupts are exercised without a container. Never shipped in the app.
 *
 * `journal`, when given, gets one durable line per run ("start <id>" before, "end <id>" after),
 * so a crash test can tell which tool runs really happened.
 */
import { appendFileSync, closeSync, fsyncSync, openSync } from 'node:fs';
import { z } from 'zod';
import type { ExecuteOptions, Hand, ToolOutcome, ToolSpec } from '#services/hands/hand';

const Pair = z.strictObject({ a: z.number(), b: z.number() });
const Wait = z.strictObject({ ms: z.number().int().nonnegative().max(600_000) });

const TOOLS: ToolSpec[] = [
  {
    name: 'add',
    description: 'Adds two numbers.',
    input_schema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
  {
    name: 'multiply',
    description: 'Multiplies two numbers.',
    input_schema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
  {
    name: 'wait',
    description: 'Waits for ms milliseconds.',
    input_schema: { type: 'object', properties: { ms: { type: 'integer' } }, required: ['ms'] },
  },
];

export interface MathHandOptions {
  id?: string;
  concurrent?: boolean;
  /** File that records each run durably (fsync) — for crash tests. */
  journal?: string;
  /** Called when a run starts (after the journal line), e.g. to hold it at a barrier. */
  onStart?: (name: string, toolUseId: string | undefined) => Promise<void> | void;
  /** Prefix for tool names (two math hands on one session need distinct names). */
  prefix?: string;
}

export class MathHand implements Hand {
  readonly id: string;
  readonly concurrent: boolean;
  /** Every run, in start order: name, input, and whether it saw its abort signal. */
  readonly runs: Array<{ name: string; input: Record<string, unknown>; aborted: boolean }> = [];
  private readonly options: MathHandOptions;

  constructor(options: MathHandOptions = {}) {
    this.options = options;
    this.id = options.id ?? 'math';
    this.concurrent = options.concurrent ?? true;
  }

  tools(): readonly ToolSpec[] {
    const prefix = this.options.prefix ?? '';
    return TOOLS.map((tool) => ({ ...tool, name: `${prefix}${tool.name}` }));
  }

  async execute(name: string, input: Record<string, unknown>, { signal }: ExecuteOptions): Promise<ToolOutcome> {
    const bare = name.slice((this.options.prefix ?? '').length);
    const run = { name: bare, input, aborted: false };
    this.runs.push(run);
    const marker = typeof input['marker'] === 'string' ? input['marker'] : undefined;
    this.record(`start ${marker ?? bare}`);
    await this.options.onStart?.(bare, marker);
    let outcome: ToolOutcome;
    if (bare === 'wait') {
      const parsed = Wait.safeParse(stripMarker(input));
      if (!parsed.success) return invalid(parsed.error);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          run.aborted = true;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(resolve, parsed.data.ms);
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
      });
      outcome = text(run.aborted ? 'stopped early' : `waited ${parsed.data.ms} ms`);
    } else {
      const parsed = Pair.safeParse(stripMarker(input));
      if (!parsed.success) return invalid(parsed.error);
      const { a, b } = parsed.data;
      if (bare === 'add') outcome = text(String(a + b));
      else if (bare === 'multiply') outcome = text(String(a * b));
      else return { isError: true, content: [{ type: 'text', text: `unknown tool ${name}` }] };
    }
    this.record(`end ${marker ?? bare}`);
    return outcome;
  }

  private record(line: string): void {
    const file = this.options.journal;
    if (!file) return;
    appendFileSync(file, `${line}\n`);
    const fd = openSync(file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function stripMarker(input: Record<string, unknown>): Record<string, unknown> {
  const { marker: _marker, ...rest } = input;
  return rest;
}

function text(value: string): ToolOutcome {
  return { isError: false, content: [{ type: 'text', text: value }] };
}

function invalid(error: z.ZodError): ToolOutcome {
  return {
    isError: true,
    content: [
      { type: 'text', text: `Invalid input: ${error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}` },
    ],
  };
}

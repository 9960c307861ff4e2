/**
 * The outcome grader's side of the conversation: the request that asks a separate model call
 * whether the agent's work meets the session's outcome, and the reading of its answer. The grader
 * gets its own context — the task, the user's words, the rubric and the evidence — never the
 * agent's conversation or tools: it judges the work, it does not continue it.
 *
 * Pure: no I/O, no clock. The harness runs the verification command and the request; this module
 * decides what they say and what the answer means.
 */
import { stripVTControlCharacters } from 'node:util';
import type { MessageCreateParamsStreaming, Tool } from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import type { EventOf, OutcomeDefinition, OutcomeResult, SessionSettings, StoredEvent } from '#shared/events';
import type { CompletedBlock } from './model-client.ts';

export const VERDICT_TOOL = 'record_verdict';

/** Evidence kept from the turn's tool results (newest first, older ones left out). */
export const MAX_TOOL_EVIDENCE_CHARS = 60_000;
/** Per tool result: more is cut in the middle (the start and the end say most). */
export const MAX_RESULT_EVIDENCE_CHARS = 8_000;
/** The user's messages, newest kept. */
export const MAX_USER_CONTEXT_CHARS = 30_000;
/** The verification command's output as the grader sees it (and the log keeps), its end kept. */
export const MAX_VERIFICATION_CHARS = 20_000;
/** The grader's answer is a short structured verdict; it never needs the agent's full output budget. */
export const GRADER_MAX_TOKENS = 8_192;

export const GRADER_SYSTEM =
  'You are an independent grader. An AI agent was given a task and says it has finished. ' +
  'You did not do the work and you cannot change it: you check it against the outcome it must achieve. ' +
  'Judge only from the evidence given (the agent’s final message, the output of the tools it ran, and a verification command’s output when there is one); ' +
  'a claim in the agent’s message that the evidence does not back is not met. Be strict but fair: do not invent requirements beyond the task and rubric. ' +
  `Record your judgement by calling the ${VERDICT_TOOL} tool once.`;

/** The forced tool the grader answers with. */
export const VERDICT_TOOL_SPEC: Tool = {
  name: VERDICT_TOOL,
  description:
    'Records your verdict on the agent’s work: each rubric criterion with whether the evidence shows it met and a short note why, ' +
    'then the overall verdict and an explanation the agent can act on if it must revise.',
  input_schema: {
    type: 'object',
    properties: {
      criteria: {
        type: 'array',
        description: 'One entry per rubric criterion (or per requirement of the task when there is no rubric).',
        items: {
          type: 'object',
          properties: {
            criterion: { type: 'string', description: 'The criterion, in a few words.' },
            met: { type: 'boolean', description: 'true only if the evidence shows it is met.' },
            note: { type: 'string', description: 'Why: what in the evidence shows it, or what is missing or wrong.' },
          },
          required: ['criterion', 'met', 'note'],
        },
      },
      verdict: { type: 'string', enum: ['satisfied', 'needs_revision'], description: 'satisfied only when every criterion is met.' },
      explanation: { type: 'string', description: 'The reasoning in a few sentences; for needs_revision, what the agent must fix.' },
    },
    required: ['criteria', 'verdict', 'explanation'],
  },
};

/** What the grader's tool input must be. Lengths are clipped afterwards, not refused: a long note is still an answer. */
const VerdictSchema = z.object({
  criteria: z.array(z.object({ criterion: z.string(), met: z.boolean(), note: z.string().default('') })),
  verdict: z.enum(['satisfied', 'needs_revision']),
  explanation: z.string().trim().min(1, 'the explanation is empty'),
});

export interface Criterion {
  criterion: string;
  met: boolean;
  note: string;
}

export interface VerificationRun {
  hand_id: string;
  command: string;
  output: string;
  is_error: boolean;
}

export interface GraderInput {
  /** The session's view (what the harness holds), in seq order. */
  events: readonly StoredEvent[];
  outcome: OutcomeDefinition;
  settings: SessionSettings;
  verification: VerificationRun | null;
}

/** The model that grades: the outcome's own choice, else the session's model. */
export function graderModel(outcome: OutcomeDefinition, settings: SessionSettings): string {
  return outcome.grader_model ?? settings.model;
}

/** The grader's request: its own system prompt and context, one forced tool, thinking off (forced tool use does not allow it). */
export function graderRequest(input: GraderInput): MessageCreateParamsStreaming {
  return {
    model: graderModel(input.outcome, input.settings),
    max_tokens: Math.min(input.settings.max_tokens, GRADER_MAX_TOKENS),
    system: GRADER_SYSTEM,
    messages: [{ role: 'user', content: [{ type: 'text', text: graderPrompt(input) }] }],
    tools: [VERDICT_TOOL_SPEC],
    tool_choice: { type: 'tool', name: VERDICT_TOOL },
    thinking: { type: 'disabled' },
    stream: true,
  };
}

/** The grader's one user message: the task, the user's words, the rubric and the evidence, each in its own tag. */
export function graderPrompt({ events, outcome, verification }: GraderInput): string {
  const rubric = outcome.rubric.trim();
  const parts = [
    `<task>\n${outcome.description}\n</task>`,
    `<user_messages>\nWhat the user asked in this session, oldest first (context for the task):\n\n${userMessages(events)}\n</user_messages>`,
    rubric === ''
      ? '<rubric>\nNo rubric was given: judge against the task itself, one criterion per requirement it states.\n</rubric>'
      : `<rubric>\n${rubric}\n</rubric>`,
    '<evidence>',
    `<final_message>\n${finalMessage(events) || '(The agent ended its turn without a message.)'}\n</final_message>`,
    `<tool_results>\n${toolEvidence(events)}\n</tool_results>`,
  ];
  if (verification) {
    parts.push(
      `<verification hand="${verification.hand_id}" command=${JSON.stringify(verification.command)}${verification.is_error ? ' failed="true"' : ''}>\n${stripVTControlCharacters(verification.output)}\n</verification>`,
    );
  }
  parts.push('</evidence>');
  parts.push(
    `Check the agent’s work against the task and every rubric criterion, using only the evidence above${verification ? ' (the verification output was produced just now, after the agent finished)' : ''}. ` +
      `Then call ${VERDICT_TOOL}: verdict "satisfied" only if every criterion is met, otherwise "needs_revision" with an explanation that tells the agent what to fix.`,
  );
  return parts.join('\n\n');
}

export type Verdict =
  { ok: true; verdict: 'satisfied' | 'needs_revision'; explanation: string; criteria: Criterion[] } | { ok: false; explanation: string };

/** Reads the grader's answer; an unusable one is `ok: false` with what was wrong, in words for the log. */
export function parseVerdict(blocks: readonly CompletedBlock[], stopReason: string | null): Verdict {
  const call = blocks.find(
    (block): block is Extract<CompletedBlock, { type: 'tool_use' }> => block.type === 'tool_use' && block.name === VERDICT_TOOL,
  );
  if (!call) {
    const said = blocks
      .flatMap((block) => (block.type === 'text' ? [block.text] : []))
      .join(' ')
      .trim();
    return {
      ok: false,
      explanation: `The grader did not record a verdict (stop reason ${stopReason ?? 'none'})${said ? `; it said: ${clip(said, 500)}` : ''}. The outcome stays open and is checked again at the next turn end.`,
    };
  }
  if (call.inputError !== undefined) {
    const cut = stopReason === 'max_tokens' ? ' (its answer was cut off by the output limit)' : '';
    return {
      ok: false,
      explanation: `The grader’s verdict could not be read${cut}: ${call.inputError}. The outcome stays open and is checked again at the next turn end.`,
    };
  }
  const parsed = VerdictSchema.safeParse(call.input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
    return {
      ok: false,
      explanation: `The grader’s verdict was not usable (${issues}). The outcome stays open and is checked again at the next turn end.`,
    };
  }
  const criteria = parsed.data.criteria
    .slice(0, 100)
    .map((c) => ({ criterion: clip(c.criterion, 2000), met: c.met, note: clip(c.note, 10_000) }));
  let { verdict, explanation } = parsed.data;
  // "Satisfied" with a criterion marked unmet contradicts itself: the criteria are the finer judgement.
  if (verdict === 'satisfied' && criteria.some((c) => !c.met)) {
    verdict = 'needs_revision';
    explanation = `${explanation}\n(The grader said satisfied but marked criteria unmet, so this counts as needing revision.)`;
  }
  return { ok: true, verdict, explanation, criteria };
}

/** The evaluation's result: a revision is only asked for while iterations are left. */
export function resultOf(verdict: 'satisfied' | 'needs_revision', iteration: number, maxIterations: number): OutcomeResult {
  if (verdict === 'satisfied') return 'satisfied';
  return iteration >= maxIterations ? 'max_iterations_reached' : 'needs_revision';
}

/**
 * The grader's feedback as the agent reads it in its next turn (context.ts renders a
 * `needs_revision` evaluation with this). `maxIterations` is null when the definition is no
 * longer in the view (compacted away).
 */
export function revisionFeedback(end: EventOf<'span.outcome_evaluation_end'>['payload'], maxIterations: number | null): string {
  const check = maxIterations === null ? `check ${end.iteration}` : `check ${end.iteration} of ${maxIterations}`;
  const unmet = (end.criteria ?? []).filter((c) => !c.met);
  const lines = [`An independent check of your work against the outcome found it not done yet (${check}): ${end.explanation}`];
  if (unmet.length > 0) lines.push('', 'Criteria not met:', ...unmet.map((c) => `- ${c.criterion}: ${c.note}`));
  if (end.verification)
    lines.push(
      '',
      `The check ran \`${end.verification.command}\` on ${end.verification.hand_id}${end.verification.is_error ? ' (it failed)' : ''}.`,
    );
  lines.push('', 'Revise your work, then finish your turn.');
  return lines.join('\n');
}

/** A verification command's output as kept: its end (where results and errors are), with the cut said. */
export function capVerificationOutput(output: string): string {
  if (output.length <= MAX_VERIFICATION_CHARS) return output;
  return `[… the first ${output.length - MAX_VERIFICATION_CHARS} characters are left out …]\n${output.slice(-MAX_VERIFICATION_CHARS)}`;
}

// ------------------------------------------------------------------------------------------------

function textOf(content: ReadonlyArray<{ type: string; text?: string }>): string {
  return content.flatMap((block) => (block.type === 'text' ? [block.text ?? ''] : ['[image]'])).join('\n');
}

function userMessages(events: readonly StoredEvent[]): string {
  const messages: string[] = [];
  let budget = MAX_USER_CONTEXT_CHARS;
  for (let i = events.length - 1; i >= 0 && budget > 0; i--) {
    const event = events[i] as StoredEvent;
    if (event.type !== 'user.message') continue;
    const text = clip(textOf(event.payload.content), budget);
    budget -= text.length;
    messages.unshift(`- ${text}`);
  }
  return messages.length > 0 ? messages.join('\n') : '(none in view)';
}

/** Where the agent's latest work starts: after the user's last message. */
function lastUserIndex(events: readonly StoredEvent[]): number {
  for (let i = events.length - 1; i >= 0; i--) if ((events[i] as StoredEvent).type === 'user.message') return i;
  return -1;
}

/** The agent's text since the last thing it was told or shown (the final message of its turn). */
function finalMessage(events: readonly StoredEvent[]): string {
  const texts: string[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i] as StoredEvent;
    if (event.type === 'agent.message') texts.unshift(textOf(event.payload.content));
    else if (
      event.type === 'user.message' ||
      event.type === 'agent.tool_result' ||
      event.type === 'agent.mcp_tool_result' ||
      event.type === 'user.custom_tool_result' ||
      event.type === 'span.outcome_evaluation_end'
    )
      break;
  }
  return texts.join('\n').trim();
}

/** Tool uses since the last user message with their results, newest kept within the budget. */
function toolEvidence(events: readonly StoredEvent[]): string {
  const from = lastUserIndex(events) + 1;
  const uses = new Map<string, { name: string; input: unknown }>();
  const entries: string[] = [];
  for (const event of events.slice(from)) {
    if (event.type === 'agent.tool_use' || event.type === 'agent.mcp_tool_use')
      uses.set(event.payload.tool_use_id, { name: event.payload.name, input: event.payload.input });
    // A custom tool's answer names its call's event (the program ran it: its result is evidence too).
    if (event.type === 'agent.custom_tool_use') uses.set(event.id, { name: event.payload.name, input: event.payload.input });
    if (event.type === 'agent.tool_result' || event.type === 'agent.mcp_tool_result' || event.type === 'user.custom_tool_result') {
      const use = uses.get(event.type === 'user.custom_tool_result' ? event.payload.custom_tool_use_id : event.payload.tool_use_id);
      const head = `### ${use?.name ?? 'tool'} ${clip(JSON.stringify(use?.input ?? {}), 1000)}${event.payload.is_error ? ' (error)' : ''}`;
      // Terminal colours stay in the log for the UI; the grader reads plain text.
      entries.push(`${head}\n${middleCut(stripVTControlCharacters(textOf(event.payload.content)), MAX_RESULT_EVIDENCE_CHARS)}`);
    }
  }
  if (entries.length === 0) return '(The agent ran no tools since the user’s last message.)';
  const kept: string[] = [];
  let budget = MAX_TOOL_EVIDENCE_CHARS;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i] as string;
    if (entry.length > budget) break;
    budget -= entry.length;
    kept.unshift(entry);
  }
  const left = entries.length - kept.length;
  return `${left > 0 ? `[${left} older tool result${left === 1 ? '' : 's'} left out to save space]\n\n` : ''}${kept.join('\n\n')}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

function middleCut(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters left out …]\n${text.slice(-half)}`;
}

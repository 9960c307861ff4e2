/**
 * An outcome as typed, in the launch dialog and in the session's "Outcome" dialog: the draft, the
 * definition built from it (with the problems found before asking the main process) and the
 * fields a problem can land on. No DOM and no React, so it is tested in node; OutcomeFields.tsx
 * renders it. The limits are the schema's own (shared/events.ts), never retyped.
 */
import { OUTCOME_LIMITS, type OutcomeDefinitionInput } from '#shared/events';
import { wholeNumber } from '#renderer/ui/problems.ts';

/** The outcome schema's limits (shared/events.ts), said before asking. */
export const MAX_OUTCOME_ITERATIONS = OUTCOME_LIMITS.maxIterations;
export const DEFAULT_OUTCOME_ITERATIONS = OUTCOME_LIMITS.defaultIterations;
const MAX_OUTCOME_DESCRIPTION_CHARS = OUTCOME_LIMITS.descriptionChars;
const MAX_OUTCOME_RUBRIC_CHARS = OUTCOME_LIMITS.rubricChars;
const MAX_VERIFY_COMMAND_CHARS = OUTCOME_LIMITS.verifyCommandChars;

/**
 * An outcome as typed, in the launch dialog and in the session's "Outcome" dialog: strings as
 * they are in the fields. The verification's hand is a choice among `OutcomeHandChoice`s, kept
 * by their `id` (a launch row's key, or an attached hand's name) so renaming a row keeps it.
 */
export interface OutcomeDraft {
  description: string;
  /** Markdown; may be empty (the description alone is then the standard). */
  rubric: string;
  maxIterations: string;
  /** Run a command on a hand before each check (its output is evidence for the grader). */
  verify: boolean;
  verifyHand: string;
  verifyCommand: string;
  /** The model the grader asks; '' for the session's own. */
  graderModel: string;
}

export const EMPTY_OUTCOME_DRAFT: Readonly<OutcomeDraft> = {
  description: '',
  rubric: '',
  maxIterations: String(DEFAULT_OUTCOME_ITERATIONS),
  verify: false,
  verifyHand: '',
  verifyCommand: '',
  graderModel: '',
};

/** A hand a verification command can run on: `id` is what the draft keeps, `name` what the RPC takes. */
export interface OutcomeHandChoice {
  id: string;
  name: string;
}

/** The fields of an outcome draft a problem can be shown under, by their path in the RPC argument. */
export const OUTCOME_FIELD = {
  section: 'outcome',
  description: 'outcome.description',
  rubric: 'outcome.rubric',
  maxIterations: 'outcome.max_iterations',
  verifyHand: 'outcome.verification.hand_id',
  verifyCommand: 'outcome.verification.command',
  graderModel: 'outcome.grader_model',
} as const;

/** The draft as an existing definition reads (the session's "Outcome" dialog, replacing one). */
export function outcomeDraftOf(outcome: OutcomeDefinitionInput): OutcomeDraft {
  return {
    description: outcome.description,
    rubric: outcome.rubric ?? '',
    maxIterations: String(outcome.max_iterations ?? DEFAULT_OUTCOME_ITERATIONS),
    verify: outcome.verification !== undefined,
    verifyHand: outcome.verification?.hand_id ?? '',
    verifyCommand: outcome.verification?.command ?? '',
    graderModel: outcome.grader_model ?? '',
  };
}

export type OutcomeBuild = { ok: true; outcome: OutcomeDefinitionInput } | { ok: false; fields: Record<string, string> };

/**
 * The outcome for a draft, or its problems by field (keys of OUTCOME_FIELD) in the user's words.
 * `hands` are the hands a verification may run on; a chosen hand no longer among them (its row
 * was removed) is a problem, not a silent change. The main process checks everything again.
 */
export function buildOutcome(draft: OutcomeDraft, hands: readonly OutcomeHandChoice[]): OutcomeBuild {
  const fields: Record<string, string> = {};
  const description = draft.description.trim();
  if (description === '') fields[OUTCOME_FIELD.description] = 'Describe the outcome: what must be true when Claude is done.';
  else if (description.length > MAX_OUTCOME_DESCRIPTION_CHARS) {
    fields[OUTCOME_FIELD.description] =
      `A description is at most ${MAX_OUTCOME_DESCRIPTION_CHARS.toLocaleString('en-US')} characters (this one has ${description.length.toLocaleString('en-US')}).`;
  }
  const rubric = draft.rubric.trim();
  if (rubric.length > MAX_OUTCOME_RUBRIC_CHARS) {
    fields[OUTCOME_FIELD.rubric] =
      `A rubric is at most ${MAX_OUTCOME_RUBRIC_CHARS.toLocaleString('en-US')} characters (this one has ${rubric.length.toLocaleString('en-US')}).`;
  }
  const maxIterations = wholeNumber(draft.maxIterations);
  if (maxIterations === null || maxIterations < 1 || maxIterations > MAX_OUTCOME_ITERATIONS) {
    fields[OUTCOME_FIELD.maxIterations] = `Max iterations is a whole number from 1 to ${MAX_OUTCOME_ITERATIONS}.`;
  }

  let verification: OutcomeDefinitionInput['verification'];
  if (draft.verify) {
    const hand = hands.find((choice) => choice.id === draft.verifyHand);
    if (hands.length === 0)
      fields[OUTCOME_FIELD.verifyHand] = 'A verification command runs on one of the session’s hands: add a hand, or turn verification off.';
    else if (draft.verifyHand === '') fields[OUTCOME_FIELD.verifyHand] = 'Choose the hand to run the command on.';
    else if (hand === undefined) fields[OUTCOME_FIELD.verifyHand] = 'That hand is gone: choose another one.';
    const command = draft.verifyCommand.trim();
    if (command === '') fields[OUTCOME_FIELD.verifyCommand] = 'Give the command to run before each check, e.g. npm test.';
    else if (command.length > MAX_VERIFY_COMMAND_CHARS)
      fields[OUTCOME_FIELD.verifyCommand] = `A command is at most ${MAX_VERIFY_COMMAND_CHARS.toLocaleString('en-US')} characters.`;
    if (hand !== undefined && command !== '') verification = { hand_id: hand.name.trim(), command };
  }

  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return {
    ok: true,
    outcome: {
      description,
      rubric,
      max_iterations: maxIterations ?? DEFAULT_OUTCOME_ITERATIONS,
      grader_model: draft.graderModel.trim() === '' ? null : draft.graderModel.trim(),
      ...(verification !== undefined ? { verification } : {}),
    },
  };
}

/** The fields whose problem a change to an outcome draft may have fixed (verification's fields go together). */
export function outcomeFieldsFixedBy(before: OutcomeDraft, after: OutcomeDraft): string[] {
  const fixed: string[] = [OUTCOME_FIELD.section];
  if (before.description !== after.description) fixed.push(OUTCOME_FIELD.description);
  if (before.rubric !== after.rubric) fixed.push(OUTCOME_FIELD.rubric);
  if (before.maxIterations !== after.maxIterations) fixed.push(OUTCOME_FIELD.maxIterations);
  if (before.graderModel !== after.graderModel) fixed.push(OUTCOME_FIELD.graderModel);
  if (before.verify !== after.verify) fixed.push(OUTCOME_FIELD.verifyHand, OUTCOME_FIELD.verifyCommand, 'outcome.verification');
  if (before.verifyHand !== after.verifyHand) fixed.push(OUTCOME_FIELD.verifyHand, 'outcome.verification');
  if (before.verifyCommand !== after.verifyCommand) fixed.push(OUTCOME_FIELD.verifyCommand, 'outcome.verification');
  return fixed;
}

/** Every place in an outcome form a problem can be shown. */
export const OUTCOME_FIELD_KEYS: ReadonlySet<string> = new Set([...Object.values(OUTCOME_FIELD), 'outcome.verification']);

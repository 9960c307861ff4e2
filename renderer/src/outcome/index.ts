/**
 * The outcome feature's public surface: what other features may import from outcome/ (the import
 * rules reject any other path into it). The session header's "Outcome…" control, the outcome
 * fields the launch dialog reuses, and the outcome draft they edit.
 */
export { OutcomeControl, type OutcomeControlProps } from './OutcomeDialog.tsx';
export { OutcomeFields, type OutcomeFieldsProps } from './OutcomeFields.tsx';
export {
  DEFAULT_OUTCOME_ITERATIONS,
  EMPTY_OUTCOME_DRAFT,
  MAX_OUTCOME_ITERATIONS,
  OUTCOME_FIELD,
  OUTCOME_FIELD_KEYS,
  buildOutcome,
  outcomeDraftOf,
  outcomeFieldsFixedBy,
  type OutcomeBuild,
  type OutcomeDraft,
  type OutcomeHandChoice,
} from './outcome-draft.ts';

/**
 * An outcome's fields: what "done" means (description), the rubric the grader checks (markdown),
 * how many checks at most, and an optional command run on one of the session's hands before each
 * check. Shared by the launch dialog and the session's "Outcome" dialog; the draft and its
 * problems are plain data (launch-form.ts), so nothing typed is lost while a problem is shown.
 */
import { useId } from 'react';
import { FieldError, LaunchField } from '#renderer/ui/fields.tsx';
import { MAX_OUTCOME_ITERATIONS, OUTCOME_FIELD, outcomeFieldsFixedBy, type OutcomeDraft, type OutcomeHandChoice } from './outcome-draft.ts';
import './outcome.css';

const RUBRIC_PLACEHOLDER = `For example:
- \`npm test\` passes, with no test skipped
- The README explains the new --dry-run flag
- No file outside src/ changed`;

export interface OutcomeFieldsProps {
  draft: OutcomeDraft;
  /** The new draft and the problems' field keys it may have fixed. */
  onChange: (next: OutcomeDraft, fixedFields: string[]) => void;
  /** Problems by field key (OUTCOME_FIELD). */
  problems: Readonly<Record<string, string>>;
  /** The hands a verification can run on; null while they load. */
  hands: readonly OutcomeHandChoice[] | null;
  /** Said under the hand choice when there is none to choose. */
  noHandsNote: string;
  /** Models the grader may use (besides the session's own); null while they load. */
  models: ReadonlyArray<{ id: string; displayName: string }> | null;
}

export function OutcomeFields({ draft, onChange, problems, hands, noHandsNote, models }: OutcomeFieldsProps) {
  const id = useId();
  function update(patch: Partial<OutcomeDraft>): void {
    const next = { ...draft, ...patch };
    onChange(next, outcomeFieldsFixedBy(draft, next));
  }
  const chosen = hands?.some((hand) => hand.id === draft.verifyHand) ?? false;
  return (
    <div className="outcome-fields">
      <LaunchField id={`${id}-description`} label="What must be true when Claude is done" error={problems[OUTCOME_FIELD.description]}>
        {(props) => (
          <textarea
            {...props}
            className="input launch-textarea"
            value={draft.description}
            onChange={(event) => update({ description: event.target.value })}
            rows={2}
            placeholder="e.g. The flaky checkout test passes 20 runs in a row, and the fix is explained in the PR description."
          />
        )}
      </LaunchField>
      <LaunchField
        id={`${id}-rubric`}
        label="Rubric"
        error={problems[OUTCOME_FIELD.rubric]}
        note="Optional, markdown: the criteria the grader checks one by one."
      >
        {(props) => (
          <textarea
            {...props}
            className="input launch-textarea"
            value={draft.rubric}
            onChange={(event) => update({ rubric: event.target.value })}
            rows={4}
            spellCheck={false}
            placeholder={RUBRIC_PLACEHOLDER}
          />
        )}
      </LaunchField>
      <LaunchField
        id={`${id}-iterations`}
        label="Max iterations"
        error={problems[OUTCOME_FIELD.maxIterations]}
        note={`Checks at most (1 to ${MAX_OUTCOME_ITERATIONS}); each “needs revision” sends the grader’s feedback back to Claude.`}
      >
        {(props) => (
          <input
            {...props}
            className="input launch-number"
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_OUTCOME_ITERATIONS}
            step={1}
            value={draft.maxIterations}
            onChange={(event) => update({ maxIterations: event.target.value })}
          />
        )}
      </LaunchField>
      <LaunchField
        id={`${id}-grader`}
        label="Grader model"
        error={problems[OUTCOME_FIELD.graderModel]}
        note="The model that checks the work; a smaller one costs less per check."
      >
        {(props) => (
          <select {...props} className="input" value={draft.graderModel} onChange={(event) => update({ graderModel: event.target.value })}>
            <option value="">Same as the session</option>
            {draft.graderModel !== '' && !(models ?? []).some((model) => model.id === draft.graderModel) && (
              <option value={draft.graderModel}>{draft.graderModel}</option>
            )}
            {(models ?? []).map((model) => (
              <option key={model.id} value={model.id}>
                {model.displayName}
              </option>
            ))}
          </select>
        )}
      </LaunchField>
      <label className="checkbox">
        <input type="checkbox" checked={draft.verify} onChange={(event) => update({ verify: event.target.checked })} />
        Run a command before each check
      </label>
      {draft.verify && (
        <div className="outcome-verify">
          <LaunchField
            id={`${id}-hand`}
            label="On hand"
            error={problems[OUTCOME_FIELD.verifyHand]}
            note={hands !== null && hands.length === 0 && problems[OUTCOME_FIELD.verifyHand] === undefined ? noHandsNote : undefined}
          >
            {(props) => (
              <select
                {...props}
                className="input"
                value={chosen || hands === null ? draft.verifyHand : ''}
                onChange={(event) => update({ verifyHand: event.target.value })}
              >
                {hands === null ? (
                  <option value={draft.verifyHand}>Loading hands…</option>
                ) : (
                  <>
                    <option value="">{hands.length === 0 ? 'No hand' : 'Choose a hand'}</option>
                    {hands.map((hand) => (
                      <option key={hand.id} value={hand.id}>
                        {hand.name.trim() || '(unnamed hand)'}
                      </option>
                    ))}
                  </>
                )}
              </select>
            )}
          </LaunchField>
          <LaunchField
            id={`${id}-command`}
            label="Command"
            error={problems[OUTCOME_FIELD.verifyCommand]}
            note="Its output (and whether it failed) is evidence for the grader."
          >
            {(props) => (
              <input
                {...props}
                className="input"
                value={draft.verifyCommand}
                onChange={(event) => update({ verifyCommand: event.target.value })}
                placeholder="e.g. npm test"
                spellCheck={false}
                autoCapitalize="off"
              />
            )}
          </LaunchField>
        </div>
      )}
      <FieldError id={`${id}-error`} message={problems[OUTCOME_FIELD.section] ?? problems['outcome.verification']} />
    </div>
  );
}

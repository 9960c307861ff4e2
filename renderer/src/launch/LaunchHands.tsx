/**
 * The "Hands" section of the "New session" dialog (LaunchDialog.tsx): the Docker hands the session
 * starts with, one row each (name, image, repository and the rest of DockerHandFields), with the
 * problems found on each row, a note when Docker is not available, and "Add Docker hand".
 *
 * It holds no state of its own: the dialog owns the form and its problems, so a hand's problem
 * must never outlive the row it was found on (the dialog drops them when a row is removed).
 */
import { useId } from 'react';
import type { EngineConfig } from '#shared/engines';
import type { SecretMeta } from '#shared/vault';
import { DockerHandFields, fieldsFixedBy, handNameProblems, type useDockerStatus } from '#renderer/hands/index.ts';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import { FIELD, MAX_HANDS, handField, handProblems, type HandDraft } from './launch-form.ts';

export interface LaunchHandsProps {
  /** The dialog's id prefix, for the section's heading and error. */
  id: string;
  hands: readonly HandDraft[];
  docker: ReturnType<typeof useDockerStatus>;
  /** The form's problems by field key. */
  problems: Record<string, string>;
  credentials: readonly SecretMeta[] | null | undefined;
  /** Settings → Engines: with more than this computer's, each hand can name one or state requirements. */
  engines?: readonly EngineConfig[] | null | undefined;
  imageRef: (key: string, element: HTMLInputElement | null) => void;
  onChange: (key: string, patch: Partial<HandDraft>, ...fixedFields: string[]) => void;
  onRemove: (key: string) => void;
  onAdd: () => void;
}

export function LaunchHands({ id, hands, docker, problems, credentials, engines, imageRef, onChange, onRemove, onAdd }: LaunchHandsProps) {
  const liveNameProblems = handNameProblems(hands.map((hand) => hand.name));
  return (
    <section className="launch-hands" aria-labelledby={`${id}-hands`}>
      <div className="launch-hands-header">
        <h3 id={`${id}-hands`} className="launch-label">
          Hands
        </h3>
        <p className="launch-note">Computers Claude works on; each starts on its first tool call.</p>
      </div>
      {docker !== null && !docker.available && (
        <p className="hands-warning" role="note">
          <strong>Docker is not available.</strong> {docker.reason ?? 'The Docker engine did not answer.'} You can still add hands: they
          start on their first tool call, once Docker answers.
        </p>
      )}
      {hands.length > 0 && (
        <ul className="launch-hand-list">
          {hands.map((hand, index) => (
            <HandRow
              key={hand.key}
              hand={hand}
              index={index}
              nameProblem={problems[handField(index, 'name')] ?? liveNameProblems[index] ?? undefined}
              problems={problems}
              credentials={credentials}
              engines={engines}
              imageRef={(element) => imageRef(hand.key, element)}
              onChange={(patch, ...fixed) => onChange(hand.key, patch, ...fixed)}
              onRemove={() => onRemove(hand.key)}
            />
          ))}
        </ul>
      )}
      <FieldError id={`${id}-hands-error`} message={problems[FIELD.hands]} />
      <div className="launch-hands-actions">
        <button type="button" className="button button-small" disabled={hands.length >= MAX_HANDS} onClick={onAdd}>
          Add Docker hand
        </button>
        {hands.length >= MAX_HANDS && <span className="launch-note">A session has at most {MAX_HANDS} hands.</span>}
      </div>
    </section>
  );
}

interface HandRowProps {
  hand: HandDraft;
  index: number;
  nameProblem: string | undefined;
  problems: Record<string, string>;
  credentials: readonly SecretMeta[] | null | undefined;
  /** Settings → Engines: with more than this computer's, each hand can name one or state requirements. */
  engines?: readonly EngineConfig[] | null | undefined;
  imageRef: (element: HTMLInputElement | null) => void;
  onChange: (patch: Partial<HandDraft>, ...fixedFields: string[]) => void;
  onRemove: () => void;
}

function HandRow({ hand, index, nameProblem, problems, credentials, engines, imageRef, onChange, onRemove }: HandRowProps) {
  const id = useId();
  const label = `Hand ${hand.name.trim() || index + 1}`;
  const rowProblem = problems[handField(index, 'row')];
  return (
    <li className="launch-hand">
      <div role="group" aria-label={label}>
        <div className="launch-hand-header">
          <span className="launch-hand-kind">Docker hand</span>
          <button
            type="button"
            className="button button-quiet button-small"
            onClick={onRemove}
            aria-label={`Remove ${label.toLowerCase()}`}
          >
            Remove
          </button>
        </div>
        <DockerHandFields
          value={hand}
          onChange={(next) => {
            onChange(next, handField(index, 'row'), ...fieldsFixedBy(hand, next).map((field) => handField(index, field)));
          }}
          errors={handProblems(problems, index)}
          credentials={credentials}
          engines={engines}
          imageRef={imageRef}
          leading={
            <div className="field">
              <label className="field-label" htmlFor={`${id}-name`}>
                Hand name
              </label>
              <input
                id={`${id}-name`}
                className="input"
                value={hand.name}
                onChange={(event) => onChange({ name: event.target.value }, handField(index, 'name'), handField(index, 'row'))}
                maxLength={32}
                spellCheck={false}
                autoCapitalize="off"
                {...invalidProps(nameProblem, `${id}-name-error`)}
              />
              <FieldError id={`${id}-name-error`} message={nameProblem} />
            </div>
          }
        />
        <FieldError id={`${id}-row-error`} message={rowProblem} />
      </div>
    </li>
  );
}

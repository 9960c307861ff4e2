/**
 * The "Hands" section of the "New session" dialog (LaunchDialog.tsx): the Docker hands the session
 * starts with, one row each (name, image, repository and the rest of DockerHandFields), with the
 * problems found on each row, a note when Docker is not available, and "Add Docker hand".
 *
 * It holds no state of its own: the dialog owns the form and its problems, so a hand's problem
 * must never outlive the row it was found on (the dialog drops them when a row is removed).
 */
import { useId, useState, type ReactNode } from 'react';
import type { EngineConfig } from '#shared/engines';
import { describeLibraryHand, type HandLibraryItem } from '#shared/hand-library';
import type { SecretMeta } from '#shared/vault';
import { DockerHandFields, fieldsFixedBy, handNameProblems, type useDockerStatus } from '#renderer/hands/index.ts';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import { FIELD, MAX_HANDS, handField, handProblems, type HandDraft, type SavedHandDraft } from './launch-form.ts';

export interface LaunchHandsProps {
  /** The dialog's id prefix, for the section's heading and error. */
  id: string;
  hands: readonly HandDraft[];
  /** Hands from the library (after the Docker rows). */
  saved: readonly SavedHandDraft[];
  /** The hand library's entries (null: not loaded, or it could not be: `libraryError`). */
  library: readonly HandLibraryItem[] | null;
  libraryError: string | null;
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
  onAddSaved: (item: HandLibraryItem) => void;
  onRenameSaved: (key: string, name: string) => void;
}

export function LaunchHands({
  id,
  hands,
  saved,
  library,
  libraryError,
  docker,
  problems,
  credentials,
  engines,
  imageRef,
  onChange,
  onRemove,
  onAdd,
  onAddSaved,
  onRenameSaved,
}: LaunchHandsProps) {
  const liveNameProblems = handNameProblems([...hands, ...saved].map((hand) => hand.name));
  const [chosen, setChosen] = useState('');
  const full = hands.length + saved.length >= MAX_HANDS;
  const choice = library?.find((item) => item.id === chosen);
  // Machines and MCP servers need no Docker: its absence matters only where a Docker hand is (or may be) added.
  const onlyWithoutDocker = hands.length === 0 && saved.length > 0 && saved.every((hand) => hand.config.kind !== 'docker');
  return (
    <section className="launch-hands" aria-labelledby={`${id}-hands`}>
      <div className="launch-hands-header">
        <h3 id={`${id}-hands`} className="launch-label">
          Hands
        </h3>
        <p className="launch-note">Computers Claude works on; each starts on its first tool call.</p>
      </div>
      {docker !== null && !docker.available && !onlyWithoutDocker && (
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
      {saved.length > 0 && (
        <ul className="launch-hand-list">
          {saved.map((hand, offset) => (
            <SavedRow
              key={hand.key}
              hand={hand}
              nameProblem={problems[handField(hands.length + offset, 'name')] ?? liveNameProblems[hands.length + offset] ?? undefined}
              rowProblem={problems[handField(hands.length + offset, 'row')]}
              onName={(name) => onRenameSaved(hand.key, name)}
              onRemove={() => onRemove(hand.key)}
            />
          ))}
        </ul>
      )}
      <FieldError id={`${id}-hands-error`} message={problems[FIELD.hands]} />
      <div className="launch-hands-actions">
        <button type="button" className="button button-small" disabled={full} onClick={onAdd}>
          Add Docker hand
        </button>
        {library !== null && library.length > 0 && (
          <span className="launch-library">
            <label className="visually-hidden" htmlFor={`${id}-library`}>
              Saved hand
            </label>
            <select id={`${id}-library`} className="input" value={chosen} onChange={(event) => setChosen(event.target.value)}>
              <option value="">From the hand library…</option>
              {library.map((item) => (
                <option key={item.id} value={item.id}>
                  {item.label} ({describeLibraryHand(item.hand.config)})
                </option>
              ))}
            </select>
            <button
              type="button"
              className="button button-small"
              disabled={full || choice === undefined}
              onClick={() => {
                if (choice === undefined) return;
                onAddSaved(choice);
                setChosen('');
              }}
            >
              Add saved hand
            </button>
          </span>
        )}
        {full && <span className="launch-note">A session has at most {MAX_HANDS} hands.</span>}
      </div>
      {libraryError !== null && <p className="launch-note">The hand library could not be read: {libraryError}</p>}
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

/** A hand row's kind and its Remove button. */
function RowHeader({ label, onRemove, children }: { label: string; onRemove: () => void; children: ReactNode }) {
  return (
    <div className="launch-hand-header">
      <span className="launch-hand-kind">{children}</span>
      <button type="button" className="button button-quiet button-small" onClick={onRemove} aria-label={`Remove ${label.toLowerCase()}`}>
        Remove
      </button>
    </div>
  );
}

function HandRow({ hand, index, nameProblem, problems, credentials, engines, imageRef, onChange, onRemove }: HandRowProps) {
  const id = useId();
  const label = `Hand ${hand.name.trim() || index + 1}`;
  const rowProblem = problems[handField(index, 'row')];
  return (
    <li className="launch-hand">
      <div role="group" aria-label={label}>
        <RowHeader label={label} onRemove={onRemove}>
          Docker hand
        </RowHeader>
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

interface SavedRowProps {
  hand: SavedHandDraft;
  nameProblem: string | undefined;
  rowProblem: string | undefined;
  onName: (name: string) => void;
  onRemove: () => void;
}

/** A hand from the library: attached at launch exactly as saved; only its name here can change. */
function SavedRow({ hand, nameProblem, rowProblem, onName, onRemove }: SavedRowProps) {
  const id = useId();
  const kind = hand.config.kind === 'docker' ? 'Docker hand' : hand.config.kind === 'ssh' ? 'Machine' : 'MCP server';
  const label = `Hand ${hand.name.trim() || hand.label}`;
  return (
    <li className="launch-hand">
      <div role="group" aria-label={label}>
        <RowHeader label={label} onRemove={onRemove}>
          {kind} from the library: {hand.label}
        </RowHeader>
        <div className="field launch-saved-name">
          <label className="field-label" htmlFor={`${id}-name`}>
            Hand name
          </label>
          <input
            id={`${id}-name`}
            className="input"
            value={hand.name}
            onChange={(event) => onName(event.target.value)}
            maxLength={32}
            spellCheck={false}
            autoCapitalize="off"
            {...invalidProps(nameProblem, `${id}-name-error`)}
          />
          <FieldError id={`${id}-name-error`} message={nameProblem} />
        </div>
        <p className="launch-note">
          {describeLibraryHand(hand.config)}
          {hand.config.kind === 'ssh' ? ' — the host key it was saved with must still be trusted; it connects on its first tool call.' : ''}
        </p>
        <FieldError id={`${id}-row-error`} message={rowProblem} />
      </div>
    </li>
  );
}

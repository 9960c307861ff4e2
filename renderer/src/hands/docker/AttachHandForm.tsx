/**
 * "Add a Docker hand": name, image, network, at most one host folder and at most one git
 * repository. The obvious mistakes are named before asking; the main process checks everything,
 * and what it refuses is shown here, next to the fields it names, in its own words.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useFocusFirstProblem, HandNameField, type AttachFormProps } from '#renderer/hands/attach-form.tsx';
import type { HandSpecInput } from '#shared/hands';
import { DockerHandFields } from './DockerHandFields.tsx';
import { useEngines } from './use-engines.ts';
import {
  dockerConfigOf,
  dockerDraftProblems,
  EMPTY_DOCKER_DRAFT,
  fieldsFixedBy,
  nextFreeName,
  placeAttachIssues,
  type DockerFieldProblems,
  type DockerHandDraft,
} from './docker-draft.ts';
import { RpcCallError } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';
import { useCredentials } from '#renderer/hands/useHands.ts';

export type AttachHandFormProps = AttachFormProps;

type FormProblems = DockerFieldProblems & { name?: string };

export function AttachHandForm({ transport, existingNames, onAttach, onClose, submitLabel }: AttachHandFormProps) {
  const [name, setName] = useState(() => nextFreeName(existingNames));
  const [config, setConfig] = useState<DockerHandDraft>(EMPTY_DOCKER_DRAFT);
  const credentials = useCredentials(transport);
  // Settings → Engines (issue 22): with engines besides this computer's, the hand can run on one.
  const engines = useEngines(transport);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<FormProblems>({});
  /** Counts refused attempts: each one moves focus to the first field with a problem. */
  const [attempts, setAttempts] = useState(0);
  const id = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const errorRef = useRef<HTMLParagraphElement>(null);

  // The form is mounted when opened: a token added in Settings since the last time is listed.

  // The panel scrolls: a refusal must not land out of sight.
  useEffect(() => {
    if (error !== null) errorRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);

  useFocusFirstProblem(formRef, attempts);

  function changeConfig(next: DockerHandDraft): void {
    const fixed = fieldsFixedBy(config, next);
    setConfig(next);
    if (fixed.some((field) => field in problems)) {
      setProblems((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !(fixed as string[]).includes(field))));
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (busy) return;
    const found = dockerDraftProblems(config);
    if (Object.keys(found).length > 0) {
      setProblems(found);
      setError(null);
      setAttempts((count) => count + 1);
      return;
    }
    const hand: HandSpecInput = { name: name.trim(), config: dockerConfigOf(config) };
    setBusy(true);
    setError(null);
    setProblems({});
    try {
      await onAttach(hand);
      onClose();
    } catch (reason) {
      if (reason instanceof RpcCallError && reason.issues !== undefined && reason.issues.length > 0) {
        const placed = placeAttachIssues(reason.issues);
        setProblems(placed.fields);
        setError(placed.general.length > 0 || Object.keys(placed.fields).length === 0 ? reason.message : null);
        setAttempts((count) => count + 1);
      } else {
        setError(messageOf(reason));
      }
      setBusy(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLFormElement>): void {
    if (event.key === 'Escape') onClose();
  }

  const { name: nameProblem, ...fieldProblems } = problems;

  return (
    <form
      ref={formRef}
      className="attach-hand"
      onSubmit={(event) => void submit(event)}
      onKeyDown={onKeyDown}
      aria-labelledby={`${id}-title`}
    >
      <h4 id={`${id}-title`} className="attach-hand-title">
        Add a Docker hand
      </h4>
      <DockerHandFields
        value={config}
        onChange={changeConfig}
        errors={fieldProblems}
        credentials={credentials}
        engines={engines}
        leading={
          <HandNameField
            id={id}
            value={name}
            onChange={(next) => {
              setName(next);
              if (nameProblem !== undefined) setProblems(({ name: _fixed, ...rest }) => rest);
            }}
            problem={nameProblem}
          />
        }
      />
      {error !== null && (
        <p className="hands-error" role="alert" ref={errorRef}>
          {error}
        </p>
      )}
      <div className="attach-hand-actions">
        <button type="submit" className="button button-primary button-small" disabled={busy}>
          {busy ? (submitLabel?.busy ?? 'Attaching…') : (submitLabel?.idle ?? 'Attach')}
        </button>
        <button type="button" className="button button-quiet button-small" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

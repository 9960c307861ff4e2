/**
 * "Add a Docker hand": name, image, network and at most one host folder. The main process checks
 * everything; what it refuses is shown here, next to the fields, in its own words.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { HandSpecInput } from '#shared/hands';
import { DockerHandFields } from './DockerHandFields.tsx';
import { dockerConfigOf, EMPTY_DOCKER_DRAFT, nextFreeName, type DockerHandDraft } from './launch-form.ts';
import { messageOf } from './useHands.ts';

export interface AttachHandFormProps {
  /** Names taken in this session (the default name is the next free one). */
  existingNames: readonly string[];
  /** Rejects with the RPC error when the hand is refused. */
  onAttach: (hand: HandSpecInput) => Promise<void>;
  onClose: () => void;
}

export function AttachHandForm({ existingNames, onAttach, onClose }: AttachHandFormProps) {
  const [name, setName] = useState(() => nextFreeName(existingNames));
  const [config, setConfig] = useState<DockerHandDraft>(EMPTY_DOCKER_DRAFT);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const errorRef = useRef<HTMLParagraphElement>(null);

  // The panel scrolls: a refusal must not land out of sight.
  useEffect(() => {
    if (error !== null) errorRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (busy) return;
    const hand: HandSpecInput = { name: name.trim(), config: dockerConfigOf(config) };
    setBusy(true);
    setError(null);
    try {
      await onAttach(hand);
      onClose();
    } catch (reason) {
      setError(messageOf(reason));
      setBusy(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLFormElement>): void {
    if (event.key === 'Escape') onClose();
  }

  return (
    <form className="attach-hand" onSubmit={(event) => void submit(event)} onKeyDown={onKeyDown} aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`} className="attach-hand-title">
        Add a Docker hand
      </h4>
      <DockerHandFields
        value={config}
        onChange={setConfig}
        leading={
          <label className="field">
            <span className="field-label">Name</span>
            <input className="input" value={name} onChange={(event) => setName(event.target.value)} maxLength={32} autoFocus spellCheck={false} />
          </label>
        }
      />
      {error !== null && (
        <p className="hands-error" role="alert" ref={errorRef}>
          {error}
        </p>
      )}
      <div className="attach-hand-actions">
        <button type="submit" className="button button-primary button-small" disabled={busy}>
          {busy ? 'Attaching…' : 'Attach'}
        </button>
        <button type="button" className="button button-quiet button-small" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

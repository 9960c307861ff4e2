/**
 * "Add a Docker hand": name, image, network and at most one host folder. The main process checks
 * everything; what it refuses is shown here, next to the fields, in its own words.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { DockerHandConfig, HandSpecInput } from '#shared/hands';
import { messageOf } from './useHands.ts';

export interface AttachHandFormProps {
  /** Names taken in this session (the default name is the next free one). */
  existingNames: readonly string[];
  /** Rejects with the RPC error when the hand is refused. */
  onAttach: (hand: HandSpecInput) => Promise<void>;
  onClose: () => void;
}

type Network = DockerHandConfig['network'];

export function AttachHandForm({ existingNames, onAttach, onClose }: AttachHandFormProps) {
  const [name, setName] = useState(() => nextFreeName(existingNames));
  const [image, setImage] = useState('');
  const [network, setNetwork] = useState<Network>('bridge');
  const [hostPath, setHostPath] = useState('');
  const [containerPath, setContainerPath] = useState('');
  const [readOnly, setReadOnly] = useState(true);
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
    const withMount = hostPath.trim() !== '' || containerPath.trim() !== '';
    const hand: HandSpecInput = {
      name: name.trim(),
      config: {
        kind: 'docker',
        image: image.trim(),
        network,
        ...(withMount ? { mounts: [{ host_path: hostPath.trim(), container_path: containerPath.trim(), read_only: readOnly }] } : {}),
      },
    };
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
      <div className="attach-hand-fields">
        <label className="field">
          <span className="field-label">Name</span>
          <input className="input" value={name} onChange={(event) => setName(event.target.value)} maxLength={32} autoFocus spellCheck={false} />
        </label>
        <label className="field field-wide">
          <span className="field-label">Image</span>
          <input className="input" value={image} onChange={(event) => setImage(event.target.value)} placeholder="debian:bookworm" spellCheck={false} />
        </label>
        <label className="field">
          <span className="field-label">Network</span>
          <select className="input" value={network} onChange={(event) => setNetwork(event.target.value === 'none' ? 'none' : 'bridge')}>
            <option value="bridge">Network on</option>
            <option value="none">No network</option>
          </select>
        </label>
      </div>
      <fieldset className="attach-hand-mount">
        <legend className="visually-hidden">A folder from this computer, shown in the container</legend>
        <label className="field field-wide">
          <span className="field-label">Host folder (optional)</span>
          <input className="input" value={hostPath} onChange={(event) => setHostPath(event.target.value)} placeholder="/home/me/project" spellCheck={false} />
        </label>
        <label className="field field-wide">
          <span className="field-label">Container path</span>
          <input className="input" value={containerPath} onChange={(event) => setContainerPath(event.target.value)} placeholder="/workspace/project" spellCheck={false} />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={readOnly} onChange={(event) => setReadOnly(event.target.checked)} />
          Read-only
        </label>
      </fieldset>
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

/** "box", else "box-2", "box-3"…: the first name no hand of the session has. */
export function nextFreeName(taken: readonly string[]): string {
  const names = new Set(taken);
  if (!names.has('box')) return 'box';
  for (let n = 2; ; n++) if (!names.has(`box-${n}`)) return `box-${n}`;
}

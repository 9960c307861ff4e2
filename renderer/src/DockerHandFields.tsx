/**
 * The fields of a Docker hand's configuration — image, network, at most one folder from this
 * computer — shared by the hands panel's "Add a Docker hand" form and the launch dialog. Holds no
 * state: the parent owns the draft (`DockerHandDraft`) and turns it into the RPC's configuration
 * with `dockerConfigOf` (launch-form.ts). The hand's name is the parent's: it comes in `leading`.
 */
import { useId, type ReactNode, type Ref } from 'react';
import type { DockerHandDraft } from './launch-form.ts';

/** A problem per field, shown under it. */
export type DockerHandFieldErrors = Partial<Record<'image' | 'network' | 'hostPath' | 'containerPath', string>>;

export interface DockerHandFieldsProps {
  value: DockerHandDraft;
  onChange: (next: DockerHandDraft) => void;
  /** Shown first on the row of fields: the hand's name field, labelled as its form needs. */
  leading?: ReactNode;
  errors?: DockerHandFieldErrors;
  imageRef?: Ref<HTMLInputElement>;
}

export function DockerHandFields({ value, onChange, leading, errors = {}, imageRef }: DockerHandFieldsProps) {
  const id = useId();

  function set<K extends keyof DockerHandDraft>(key: K, next: DockerHandDraft[K]): void {
    onChange({ ...value, [key]: next });
  }

  return (
    <>
      <div className="attach-hand-fields">
        {leading}
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-image`}>
            Image
          </label>
          <input
            id={`${id}-image`}
            ref={imageRef}
            className="input"
            value={value.image}
            onChange={(event) => set('image', event.target.value)}
            placeholder="debian:bookworm"
            spellCheck={false}
            {...invalidProps(errors.image, `${id}-image-error`)}
          />
          <FieldError id={`${id}-image-error`} message={errors.image} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-network`}>
            Network
          </label>
          <select
            id={`${id}-network`}
            className="input"
            value={value.network}
            onChange={(event) => set('network', event.target.value === 'none' ? 'none' : 'bridge')}
            {...invalidProps(errors.network, `${id}-network-error`)}
          >
            <option value="bridge">Network on</option>
            <option value="none">No network</option>
          </select>
          <FieldError id={`${id}-network-error`} message={errors.network} />
        </div>
      </div>
      <fieldset className="attach-hand-mount">
        <legend className="visually-hidden">A folder from this computer, shown in the container</legend>
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-host`}>
            Host folder (optional)
          </label>
          <input
            id={`${id}-host`}
            className="input"
            value={value.hostPath}
            onChange={(event) => set('hostPath', event.target.value)}
            placeholder="/home/me/project"
            spellCheck={false}
            {...invalidProps(errors.hostPath, `${id}-host-error`)}
          />
          <FieldError id={`${id}-host-error`} message={errors.hostPath} />
        </div>
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-container`}>
            Container path
          </label>
          <input
            id={`${id}-container`}
            className="input"
            value={value.containerPath}
            onChange={(event) => set('containerPath', event.target.value)}
            placeholder="/workspace/project"
            spellCheck={false}
            {...invalidProps(errors.containerPath, `${id}-container-error`)}
          />
          <FieldError id={`${id}-container-error`} message={errors.containerPath} />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={value.readOnly} onChange={(event) => set('readOnly', event.target.checked)} />
          Read-only
        </label>
      </fieldset>
    </>
  );
}

/** `aria-invalid` and `aria-describedby` for a field with this problem (none without one). */
export function invalidProps(message: string | undefined, errorId: string): { 'aria-invalid'?: true; 'aria-describedby'?: string } {
  return message ? { 'aria-invalid': true, 'aria-describedby': errorId } : {};
}

/** A field's problem, under it; the field points at it with `aria-describedby`. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="field-error">
      {message}
    </p>
  );
}

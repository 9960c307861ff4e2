/**
 * The launch and outcome dialogs' shared pieces. A labelled field as they lay it out: label, the control (which gets
 * the id and the aria links to its note and its problem), a note, and the problem in words; and
 * their keys.
 */
import type { KeyboardEvent, ReactNode } from 'react';
import { FieldError } from '../hands/docker/DockerHandFields.tsx';

export interface FieldControlProps {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

export function LaunchField({ id, label, error, note, children }: { id: string; label: string; error?: string | undefined; note?: string | undefined; children: (props: FieldControlProps) => ReactNode }) {
  const describedBy = [error ? `${id}-error` : null, note ? `${id}-note` : null].filter((part) => part !== null).join(' ');
  return (
    <div className="launch-field">
      <label className="launch-label" htmlFor={id}>
        {label}
      </label>
      {children({ id, ...(error ? { 'aria-invalid': true } : {}), ...(describedBy !== '' ? { 'aria-describedby': describedBy } : {}) })}
      {note !== undefined && (
        <p id={`${id}-note`} className="launch-note">
          {note}
        </p>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

/**
 * Ctrl/Cmd+Enter submits from anywhere in the dialog; a plain Enter in a one-line field does
 * nothing (it must not submit a half-filled form: only the button and the shortcut do).
 */
export function dialogSubmitKeys(submit: () => void): (event: KeyboardEvent<HTMLDialogElement>) => void {
  return (event) => {
    if (event.key !== 'Enter' || event.nativeEvent.isComposing) return;
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      submit();
    } else if (event.target instanceof HTMLInputElement) {
      event.preventDefault();
    }
  };
}

/**
 * A labelled field as the launch and outcome dialogs lay it out: label, the control (which gets
 * the id and the aria links to its note and its problem), a note, and the problem in words.
 */
import type { ReactNode } from 'react';
import { FieldError } from './DockerHandFields.tsx';

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

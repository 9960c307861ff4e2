/**
 * Form fields every feature uses: a field's problem under it (`FieldError`) and the aria links
 * that point the field at it (`invalidProps`); and a labelled field as the launch and outcome
 * dialogs lay it out (`LaunchField`): label, the control (which gets the id and the aria links to
 * its note and its problem), a note, and the problem in words. Imports no feature.
 */
import type { ReactNode } from 'react';
import './dialog.css';

export interface FieldControlProps {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

export function LaunchField({
  id,
  label,
  error,
  note,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  note?: string | undefined;
  children: (props: FieldControlProps) => ReactNode;
}) {
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

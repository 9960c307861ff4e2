/**
 * A secret chosen from Settings → Credentials by id (never by value): a select of the stored
 * secrets, with "none", a stored choice that has since been deleted kept visible and said so, a
 * note and the field's problem.
 */
import { useId } from 'react';
import type { SecretMeta } from '#shared/vault';
import { FieldError } from './fields.tsx';

export interface SecretSelectProps {
  label: string;
  /** Part of a jump host's fields (its accessible name says so). */
  jump?: boolean;
  value: string;
  onChange: (id: string) => void;
  choices: readonly SecretMeta[];
  none: string;
  problem: string | undefined;
  note?: string | undefined;
}

export function SecretSelect({ label, jump = false, value, onChange, choices, none, problem, note }: SecretSelectProps) {
  const id = useId();
  const known = value === '' || choices.some((secret) => secret.id === value);
  const describedBy = [problem ? `${id}-error` : null, note !== undefined || !known ? `${id}-note` : null]
    .filter((part) => part !== null)
    .join(' ');
  return (
    <div className="field field-wide">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <select
        id={id}
        className="input"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-label={jump ? `Jump ${label.toLowerCase()}` : undefined}
        aria-invalid={problem ? true : undefined}
        aria-describedby={describedBy === '' ? undefined : describedBy}
      >
        <option value="">{none}</option>
        {!known && <option value={value}>(no longer stored)</option>}
        {choices.map((secret) => (
          <option key={secret.id} value={secret.id}>
            {secret.name}
          </option>
        ))}
      </select>
      <FieldError id={`${id}-error`} message={problem} />
      {(note !== undefined || !known) && (
        <p id={`${id}-note`} className="machine-note">
          {known ? note : 'This secret is no longer in Settings → Credentials: choose another.'}
        </p>
      )}
    </div>
  );
}

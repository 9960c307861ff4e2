/**
 * Host, port, user and how to log in (a key or a password from the vault, or ssh-agent): the same
 * fields for the machine and its jump host, in "Attach a machine". Secrets are chosen by id.
 */
import { useId } from 'react';
import type { SecretMeta } from '#shared/vault';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import { SecretSelect } from '#renderer/ui/SecretSelect.tsx';
import { SECRET_KINDS_FOR, secretChoices, type AuthMethod, type EndpointDraft } from './machine-form.ts';

export interface EndpointProblems {
  host: string | undefined;
  port: string | undefined;
  user: string | undefined;
  keyId: string | undefined;
  passphraseId: string | undefined;
  passwordId: string | undefined;
}

interface EndpointFieldsProps {
  value: EndpointDraft;
  onChange: (next: EndpointDraft) => void;
  credentials: readonly SecretMeta[] | null;
  problems: EndpointProblems;
  /** The jump host's fields: their accessible names start with "Jump". */
  jump: boolean;
}

/** Host, port, user and how to log in: the same for the machine and its jump host. */
export function EndpointFields({ value, onChange, credentials, problems, jump }: EndpointFieldsProps) {
  const id = useId();
  const named = (label: string) => (jump ? { 'aria-label': `Jump ${label.toLowerCase()}` } : {});
  const set = <K extends keyof EndpointDraft>(key: K, next: EndpointDraft[K]) => onChange({ ...value, [key]: next });
  const keys = secretChoices(credentials, SECRET_KINDS_FOR.key);
  const passphrases = secretChoices(credentials, SECRET_KINDS_FOR.passphrase);
  const passwords = secretChoices(credentials, SECRET_KINDS_FOR.password);
  const methods: Array<{ method: AuthMethod; label: string }> = [
    { method: 'key', label: 'SSH key' },
    { method: 'password', label: 'Password' },
    { method: 'agent', label: 'ssh-agent' },
  ];
  const noVault = credentials === null ? 'Credentials cannot be read right now: use ssh-agent, or try again later.' : null;

  return (
    <>
      <div className="attach-hand-fields">
        <div className="field field-wide">
          <label className="field-label" htmlFor={`${id}-host`}>
            Host
          </label>
          <input
            id={`${id}-host`}
            className="input"
            value={value.host}
            onChange={(event) => set('host', event.target.value)}
            placeholder={jump ? 'bastion.example.com' : 'build.example.com or 192.168.1.20'}
            spellCheck={false}
            autoCapitalize="off"
            {...named('Host')}
            {...invalidProps(problems.host, `${id}-host-error`)}
          />
          <FieldError id={`${id}-host-error`} message={problems.host} />
        </div>
        <div className="field machine-port">
          <label className="field-label" htmlFor={`${id}-port`}>
            Port
          </label>
          <input
            id={`${id}-port`}
            className="input"
            value={value.port}
            onChange={(event) => set('port', event.target.value)}
            inputMode="numeric"
            {...named('Port')}
            {...invalidProps(problems.port, `${id}-port-error`)}
          />
          <FieldError id={`${id}-port-error`} message={problems.port} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-user`}>
            User
          </label>
          <input
            id={`${id}-user`}
            className="input"
            value={value.user}
            onChange={(event) => set('user', event.target.value)}
            spellCheck={false}
            autoCapitalize="off"
            {...named('User')}
            {...invalidProps(problems.user, `${id}-user-error`)}
          />
          <FieldError id={`${id}-user-error`} message={problems.user} />
        </div>
      </div>
      <div className="machine-auth" role="radiogroup" aria-labelledby={`${id}-auth-label`}>
        <span id={`${id}-auth-label`} className="field-label">
          {jump ? 'Jump authentication' : 'Authentication'}
        </span>
        {methods.map(({ method, label }) => (
          <label key={method} className="checkbox">
            <input type="radio" name={`${id}-auth`} value={method} checked={value.auth === method} onChange={() => set('auth', method)} />
            {label}
          </label>
        ))}
      </div>
      {value.auth === 'key' && (
        <div className="attach-hand-fields">
          <SecretSelect
            label="Key"
            jump={jump}
            value={value.keyId}
            onChange={(next) => set('keyId', next)}
            choices={keys}
            none="Choose a key…"
            problem={problems.keyId}
            note={
              noVault ??
              (credentials !== null && keys.length === 0
                ? 'No SSH key stored yet: import one from ~/.ssh/config above, or add it in Settings → Credentials.'
                : undefined)
            }
          />
          <SecretSelect
            label="Passphrase"
            jump={jump}
            value={value.passphraseId}
            onChange={(next) => set('passphraseId', next)}
            choices={passphrases}
            none="None (the key is not encrypted)"
            problem={problems.passphraseId}
          />
        </div>
      )}
      {value.auth === 'password' && (
        <div className="attach-hand-fields">
          <SecretSelect
            label="Password"
            jump={jump}
            value={value.passwordId}
            onChange={(next) => set('passwordId', next)}
            choices={passwords}
            none="Choose a password…"
            problem={problems.passwordId}
            note={
              noVault ??
              (credentials !== null && passwords.length === 0
                ? 'No password stored yet: add one in Settings → Credentials (kind: password).'
                : undefined)
            }
          />
        </div>
      )}
      {value.auth === 'agent' && (
        <p className="machine-note">Uses the keys loaded in the ssh-agent that Drover was started with (SSH_AUTH_SOCK).</p>
      )}
    </>
  );
}

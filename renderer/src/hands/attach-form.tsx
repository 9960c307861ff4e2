/**
 * What the Hands panel's attach forms (a Docker hand, a machine, an MCP server) share: their
 * props, focusing the first field with a problem after a refused attempt, and their keys
 * (Escape closes, Ctrl/Cmd+Enter attaches), and the hand's name field.
 */
import { useCallback, useEffect, type KeyboardEvent, type RefObject } from 'react';
import type { HandSpecInput } from '#shared/hands';
import { FieldError, invalidProps } from '#renderer/ui/fields.tsx';
import { isSubmitShortcut } from '#renderer/ui/keys.ts';
import type { Transport } from '#renderer/client/transport.ts';

export interface AttachFormProps {
  /** Lists the vault's secrets (metadata only) for the form's pickers, and tests. */
  transport: Transport;
  /** Names taken in this session (the default name is the next free one). */
  existingNames: readonly string[];
  /** Rejects with the RPC error when the hand is refused. */
  onAttach: (hand: HandSpecInput) => Promise<void>;
  onClose: () => void;
  /** The submit button's words (default Attach / Attaching…): Settings → Hands library adds to the library instead. */
  submitLabel?: { idle: string; busy: string };
}

/** After each refused attempt (`attempts` counts them), the first field marked invalid gets focus. */
export function useFocusFirstProblem(formRef: RefObject<HTMLFormElement | null>, attempts: number): void {
  useEffect(() => {
    if (attempts === 0) return;
    const field = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    field?.scrollIntoView({ block: 'nearest' });
    field?.focus();
  }, [formRef, attempts]);
}

/** Escape closes the form (and only it); Ctrl/Cmd+Enter submits it from any field. */
export function useAttachFormKeys(
  formRef: RefObject<HTMLFormElement | null>,
  onClose: () => void,
): (event: KeyboardEvent<HTMLElement>) => void {
  return useCallback(
    (event: KeyboardEvent<HTMLElement>) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        onClose();
      } else if (isSubmitShortcut(event)) {
        event.preventDefault();
        formRef.current?.requestSubmit();
      }
    },
    [formRef, onClose],
  );
}

/** The hand's name: the first field of every attach form, focused when the form opens. */
export function HandNameField({
  id,
  value,
  onChange,
  problem,
  wide = false,
}: {
  id: string;
  value: string;
  onChange: (name: string) => void;
  problem: string | undefined;
  wide?: boolean;
}) {
  return (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label className="field-label" htmlFor={`${id}-name`}>
        Name
      </label>
      <input
        id={`${id}-name`}
        className="input"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        maxLength={32}
        autoFocus
        spellCheck={false}
        autoCapitalize="off"
        {...invalidProps(problem, `${id}-name-error`)}
      />
      <FieldError id={`${id}-name-error`} message={problem} />
    </div>
  );
}

/**
 * "Rewind to here" with a choice (issue 20): the conversation and the files together (the default,
 * first), the conversation only (the files stay as they are now), or the files only (the
 * conversation stays). A menu button: Enter, Space or ↓ opens it on the first choice, ↑/↓/Home/End
 * move, Enter picks, Escape closes and gives the focus back to the button.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { RpcArg } from '#shared/rpc';
import './timeline.css';

export type RewindKeep = NonNullable<RpcArg<'sessions-rewind'>['keep']>;

export const REWIND_CHOICES: ReadonlyArray<{ keep: RewindKeep; label: string; hint: string }> = [
  {
    keep: 'both',
    label: 'Conversation and files',
    hint: 'Continue from here on a new branch; Docker hands, and SSH machines’ working folders (nothing outside them), get their files as they were here.',
  },
  {
    keep: 'conversation',
    label: 'Conversation only — keep the files as they are',
    hint: 'Continue from here on a new branch; Docker hands and SSH machines’ working folders keep the files they have now.',
  },
  {
    keep: 'files',
    label: 'Files only — keep the conversation',
    hint: 'No new branch: the running Docker hands’ files, and connected SSH machines’ working folders (nothing outside them), go back to how they were here. Not while Claude is working.',
  },
];

export interface RewindMenuProps {
  onRewind: (keep: RewindKeep) => void;
  busy: boolean;
  disabled: boolean;
  /** Open from the start (tests render it statically). */
  initiallyOpen?: boolean;
}

export function RewindMenu({ onRewind, busy, disabled, initiallyOpen = false }: RewindMenuProps) {
  const [open, setOpen] = useState(initiallyOpen);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const items = useRef<Array<HTMLButtonElement | null>>([]);

  useEffect(() => {
    if (open) items.current[active]?.focus();
  }, [open, active]);

  const close = (): void => {
    setOpen(false);
    button.current?.focus();
  };
  const pick = (keep: RewindKeep): void => {
    setOpen(false);
    onRewind(keep);
  };
  const onMenuKey = (event: KeyboardEvent): void => {
    const last = REWIND_CHOICES.length - 1;
    const moves: Record<string, number> = {
      ArrowDown: active === last ? 0 : active + 1,
      ArrowUp: active === 0 ? last : active - 1,
      Home: 0,
      End: last,
    };
    const to = moves[event.key];
    if (to !== undefined) {
      event.preventDefault();
      setActive(to);
    } else if (event.key === 'Escape' || event.key === 'Tab') {
      event.preventDefault();
      close();
    }
  };

  return (
    <div
      className="rewind-menu"
      onBlur={(event) => {
        if (open && !event.currentTarget.contains(event.relatedTarget as Node | null)) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className="button button-primary"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="rewind-menu-list"
        disabled={disabled}
        onClick={() => {
          setActive(0);
          setOpen(!open);
        }}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown') {
            event.preventDefault();
            setActive(0);
            setOpen(true);
          }
        }}
        title="Continue from here: the conversation, the files, or both"
      >
        {busy ? 'Rewinding…' : 'Rewind to here'}
        <span aria-hidden="true"> ▾</span>
      </button>
      {open && (
        <div id="rewind-menu-list" className="rewind-menu-list" role="menu" aria-label="Rewind to here" onKeyDown={onMenuKey}>
          {REWIND_CHOICES.map((choice, index) => (
            <button
              key={choice.keep}
              ref={(element) => {
                items.current[index] = element;
              }}
              type="button"
              role="menuitem"
              tabIndex={index === active ? 0 : -1}
              className="rewind-menu-item"
              data-keep={choice.keep}
              onClick={() => pick(choice.keep)}
            >
              <span className="rewind-menu-label">{choice.label}</span>
              <span className="rewind-menu-hint">{choice.hint}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

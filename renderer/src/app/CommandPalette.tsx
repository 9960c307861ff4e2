/**
 * The command palette (Ctrl/Cmd+K): every registered command (ui/commands.ts) and every session by
 * title, filtered as you type (fuzzy), run with Enter. Keyboard only works: ↑/↓ (and PageUp/PageDown)
 * move, Enter runs, Esc closes. A modal <dialog> holding a combobox and its listbox; focus returns
 * where it was when it closes, then the chosen command runs.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { rankCommands, type Command, type CommandRegistry } from '#renderer/ui/commands.ts';
import { useRegisteredCommands } from '#renderer/ui/commands-context.tsx';
import './palette.css';

const PAGE = 8;

export interface CommandPaletteProps {
  registry: CommandRegistry;
  /** The palette closed (after running its command, if one was chosen). */
  onClose: () => void;
}

/** Mounted while open: each opening starts with an empty query. */
export function CommandPalette({ registry, onClose }: CommandPaletteProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const chosen = useRef<Command | null>(null);
  const commands = useRegisteredCommands(registry);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const ranked = useMemo(() => rankCommands(commands, query), [commands, query]);
  const id = useId();
  const listId = `${id}-list`;
  const optionId = (index: number) => `${id}-option-${index}`;
  const current = Math.min(active, Math.max(0, ranked.length - 1));

  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
  }, []);

  const activeId = ranked.length === 0 ? undefined : optionId(current);
  useEffect(() => {
    if (activeId !== undefined) document.getElementById(activeId)?.scrollIntoView({ block: 'nearest' });
  }, [activeId]);

  function choose(index: number): void {
    const command = ranked[index]?.command;
    if (command === undefined || command.disabledReason !== undefined) return;
    chosen.current = command;
    dialog.current?.close();
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>): void {
    const count = ranked.length;
    let next: number | null = null;
    if (event.key === 'ArrowDown') next = count === 0 ? 0 : (current + 1) % count;
    else if (event.key === 'ArrowUp') next = count === 0 ? 0 : (current - 1 + count) % count;
    else if (event.key === 'PageDown') next = Math.min(count - 1, current + PAGE);
    else if (event.key === 'PageUp') next = Math.max(0, current - PAGE);
    else if (event.key === 'Enter' && !event.nativeEvent.isComposing) {
      event.preventDefault();
      choose(current);
      return;
    }
    if (next === null) return;
    event.preventDefault();
    setActive(Math.max(0, next));
  }

  return (
    <dialog
      ref={dialog}
      className="palette"
      aria-modal="true"
      aria-labelledby={`${id}-title`}
      data-testid="command-palette"
      onClose={() => {
        // Closed (focus is back where it was): now the chosen command runs.
        const command = chosen.current;
        chosen.current = null;
        onClose();
        command?.run();
      }}
      onClick={(event) => {
        // A click on the backdrop (the dialog element itself, outside its box) closes it.
        if (event.target === dialog.current) dialog.current.close();
      }}
    >
      <h2 id={`${id}-title`} className="visually-hidden">
        Command palette
      </h2>
      <input
        className="palette-input"
        type="text"
        role="combobox"
        aria-expanded="true"
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={activeId}
        aria-label="Run a command or open a session: type to filter"
        placeholder="Type a command or a session’s title…"
        value={query}
        autoFocus
        spellCheck={false}
        autoComplete="off"
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <ul id={listId} className="palette-list" role="listbox" aria-label="Commands and sessions">
        {ranked.map(({ command, matches }, index) => (
          <li
            key={command.id}
            id={optionId(index)}
            role="option"
            aria-selected={index === current}
            aria-disabled={command.disabledReason === undefined ? undefined : true}
            className="palette-option"
            data-command={command.id}
            onMouseMove={() => {
              if (index !== current) setActive(index);
            }}
            onClick={() => choose(index)}
          >
            <span className="palette-group">{command.group}</span>
            <span className="palette-title">
              {highlighted(command.title, matches)}
              {command.disabledReason !== undefined && <span className="palette-reason"> — {command.disabledReason}</span>}
            </span>
            {command.shortcut !== undefined && <kbd className="palette-shortcut">{command.shortcut}</kbd>}
          </li>
        ))}
      </ul>
      {ranked.length === 0 && <p className="palette-empty">No command or session matches “{query}”.</p>}
      <p className="visually-hidden" role="status">
        {ranked.length === 1 ? '1 result' : `${ranked.length} results`}
      </p>
      <p className="palette-hint" aria-hidden="true">
        <kbd>↑</kbd> <kbd>↓</kbd> to move · <kbd>Enter</kbd> to run · <kbd>Esc</kbd> to close
      </p>
    </dialog>
  );
}

/** The title with the matched letters marked. */
function highlighted(title: string, matches: readonly number[]): ReactNode {
  if (matches.length === 0) return title;
  const marked = new Set(matches);
  const parts: ReactNode[] = [];
  let run = '';
  let inMatch = false;
  const flush = (key: number) => {
    if (run === '') return;
    parts.push(inMatch ? <mark key={key}>{run}</mark> : run);
    run = '';
  };
  for (let index = 0; index < title.length; index++) {
    const isMatch = marked.has(index);
    if (isMatch !== inMatch) {
      flush(index);
      inMatch = isMatch;
    }
    run += title[index];
  }
  flush(title.length);
  return parts;
}

/**
 * The keyboard shortcuts, one "?" away (or from the sidebar). A native <dialog>: Escape closes it
 * and focus returns where it was.
 */
import { useEffect, useRef } from 'react';

const MOD = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

const SHORTCUTS: ReadonlyArray<readonly [keys: string, what: string]> = [
  [`${MOD}+K`, 'Command palette: every action, and every session by title'],
  [`${MOD}+Shift+F`, 'Search every session: messages, commands and output'],
  [`${MOD}+Enter`, 'Send the message, or launch from the New session dialog'],
  ['← / →', 'Previous / next event on the timeline'],
  ['Shift+← / Shift+→', 'Previous / next turn'],
  ['Home / End', 'First event / back to live (on the timeline)'],
  ['PageUp / PageDown', 'Jump 5% of the session (on the timeline)'],
  ['↑ / ↓', 'Move through the Events list'],
  ['← / → on a panel’s edge', 'Resize the sidebar or side panel (↑ / ↓ for the timeline; Tab to the edge first)'],
  ['Esc', 'Close a dialog'],
  ['?', 'Show these shortcuts'],
];

export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  return (
    <dialog ref={dialog} className="shortcuts-dialog" aria-labelledby="shortcuts-title" aria-modal="true" onClose={onClose}>
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <p className="empty-note">Timeline keys work anywhere but in a text field. The app menu (Electron) lists more.</p>
      <dl className="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys} className="shortcut">
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <form method="dialog" className="shortcuts-actions">
        <button type="submit" className="button" autoFocus>
          Close
        </button>
      </form>
    </dialog>
  );
}

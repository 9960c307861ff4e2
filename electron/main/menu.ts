/**
 * The native application menu and its shortcuts, as a template for `Menu.buildFromTemplate`.
 *
 * Pure (only the TYPE comes from 'electron') so it is unit-tested under plain Node. Drover's own
 * items only name a MenuCommand; the renderer owns what it does. Shortcuts must never take keys
 * the page needs: Escape closes dialogs, and the arrow keys move the caret in text fields and step
 * the timeline when it has focus, so no accelerator here is a bare arrow key, Escape, or a key a
 * text field uses (Ctrl+End, Ctrl+←…).
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '#shared/rpc';

/** Help's support items, done by the main process itself (not commands for the window). */
export interface SupportActions {
  checkForUpdates: () => void;
  openLogsFolder: () => void;
  copyDiagnostics: () => void;
}

interface MenuOptions {
  /** A packaged build has no Reload or developer tools: they are for working on Drover, not with it. */
  isPackaged: boolean;
  /** Help → Check for Updates…, Open Logs Folder, Copy Diagnostics (a Help menu on macOS too). */
  support?: SupportActions;
}

/** The menu bar for `platform`; each Drover item calls `send` with its command. */
export function menuTemplate(
  platform: NodeJS.Platform,
  send: (command: MenuCommand) => void,
  { isPackaged, support }: MenuOptions,
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const command = (label: string, id: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    id,
    label,
    ...(accelerator === undefined ? {} : { accelerator }),
    click: () => send(id),
  });
  const separator: MenuItemConstructorOptions = { type: 'separator' };

  const appMenu: MenuItemConstructorOptions = {
    label: 'Drover',
    submenu: [
      { role: 'about' },
      separator,
      { role: 'services' },
      separator,
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      separator,
      { role: 'quit' },
    ],
  };

  const fileMenu: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      command('New Session', 'new-session', 'CmdOrCtrl+N'),
      separator,
      command('Import Session…', 'import-session', 'CmdOrCtrl+O'),
      // Not CmdOrCtrl+S: nothing needs saving (every event is stored as it happens); this makes a copy.
      command('Export Session…', 'export-session', 'CmdOrCtrl+Shift+S'),
      separator,
      // macOS keeps Quit in the app menu, and Close Window (⌘W) in File as its users expect.
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  };

  const editMenu: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      separator,
      { role: 'selectAll' },
    ],
  };

  const sessionMenu: MenuItemConstructorOptions = {
    label: 'Session',
    submenu: [
      command('Focus Message Box', 'focus-composer', 'CmdOrCtrl+L'),
      command('Stop Claude', 'interrupt', 'CmdOrCtrl+.'),
      separator,
      command('Fork Here', 'fork-here', 'CmdOrCtrl+Shift+F'),
      command('Rewind Here', 'rewind-here', 'CmdOrCtrl+Shift+R'),
    ],
  };

  const timelineMenu: MenuItemConstructorOptions = {
    label: 'Timeline',
    submenu: [
      // The timeline itself takes ←/→ and Shift+←/→ when focused; these work from anywhere.
      command('Previous Event', 'step-back', 'CmdOrCtrl+['),
      command('Next Event', 'step-forward', 'CmdOrCtrl+]'),
      command('Previous Turn', 'turn-back', 'CmdOrCtrl+Shift+['),
      command('Next Turn', 'turn-forward', 'CmdOrCtrl+Shift+]'),
      separator,
      // Not CmdOrCtrl+End: in a text field that moves the caret to the end.
      command('Back to Live', 'go-live', 'CmdOrCtrl+Shift+L'),
    ],
  };

  const viewMenu: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      command('Show or Hide Events', 'toggle-events', 'CmdOrCtrl+E'),
      command('Show or Hide Branches', 'toggle-branches', 'CmdOrCtrl+B'),
      separator,
      // No forceReload: its Shift+CmdOrCtrl+R is Rewind Here.
      ...(isPackaged ? [] : ([{ role: 'reload' }, { role: 'toggleDevTools' }, separator] satisfies MenuItemConstructorOptions[])),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
    ],
  };

  const windowMenu: MenuItemConstructorOptions = mac
    ? { label: 'Window', role: 'window', submenu: [{ role: 'minimize' }, { role: 'zoom' }, separator, { role: 'front' }] }
    : { label: 'Window', submenu: [{ role: 'minimize' }, { role: 'close' }] };

  const supportItems: MenuItemConstructorOptions[] =
    support === undefined
      ? []
      : [
          { id: 'support:check-for-updates', label: 'Check for Updates…', click: () => support.checkForUpdates() },
          separator,
          { id: 'support:open-logs-folder', label: 'Open Logs Folder', click: () => support.openLogsFolder() },
          { id: 'support:copy-diagnostics', label: 'Copy Diagnostics', click: () => support.copyDiagnostics() },
        ];
  if (mac) {
    const macHelp: MenuItemConstructorOptions[] = supportItems.length === 0 ? [] : [{ label: 'Help', role: 'help', submenu: supportItems }];
    return [appMenu, fileMenu, editMenu, sessionMenu, timelineMenu, viewMenu, windowMenu, ...macHelp];
  }
  // On macOS About is in the app menu. No links out: nothing leaves the app unasked.
  const helpMenu: MenuItemConstructorOptions = {
    label: 'Help',
    submenu: [...supportItems, ...(supportItems.length === 0 ? [] : [separator]), { role: 'about', label: 'About Drover' }],
  };
  return [fileMenu, editMenu, sessionMenu, timelineMenu, viewMenu, windowMenu, helpMenu];
}

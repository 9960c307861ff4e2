import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { MenuCommandSchema, type MenuCommand } from '#shared/rpc';
import { menuTemplate } from './menu.ts';

const platforms = ['darwin', 'linux', 'win32'] as const;
type Platform = (typeof platforms)[number];

/** Every item of the template, submenus included. */
function allItems(items: readonly MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? allItems(item.submenu) : [])]);
}

/**
 * The accelerators Electron gives roles that do not set one (electron/lib/browser/api/menu-item-roles.ts):
 * they take keys too, so they count when looking for clashes.
 */
function roleAccelerator(role: string, platform: Platform): string | undefined {
  const mac = platform === 'darwin';
  const defaults: Record<string, string | undefined> = {
    close: 'CommandOrControl+W',
    copy: 'CommandOrControl+C',
    cut: 'CommandOrControl+X',
    forcereload: 'Shift+CmdOrCtrl+R',
    hide: 'Command+H',
    hideothers: 'Command+Alt+H',
    minimize: 'CommandOrControl+M',
    paste: 'CommandOrControl+V',
    pasteandmatchstyle: mac ? 'Cmd+Option+Shift+V' : 'Shift+CommandOrControl+V',
    quit: platform === 'win32' ? undefined : 'CommandOrControl+Q',
    redo: platform === 'win32' ? 'Control+Y' : 'Shift+CommandOrControl+Z',
    reload: 'CmdOrCtrl+R',
    resetzoom: 'CommandOrControl+0',
    selectall: 'CommandOrControl+A',
    toggledevtools: mac ? 'Alt+Command+I' : 'Ctrl+Shift+I',
    togglefullscreen: mac ? 'Control+Command+F' : 'F11',
    undo: 'CommandOrControl+Z',
    zoomin: 'CommandOrControl+Plus',
    zoomout: 'CommandOrControl+-',
  };
  return defaults[role.toLowerCase()];
}

function effectiveAccelerator(item: MenuItemConstructorOptions, platform: Platform): string | undefined {
  if (typeof item.accelerator === 'string') return item.accelerator;
  return item.role === undefined ? undefined : roleAccelerator(item.role, platform);
}

/** One spelling per key combination: modifiers resolved for the platform and sorted. */
function normalize(accelerator: string, platform: Platform): string {
  const mac = platform === 'darwin';
  const aliases: Record<string, string> = {
    cmdorctrl: mac ? 'Cmd' : 'Ctrl',
    commandorcontrol: mac ? 'Cmd' : 'Ctrl',
    cmd: 'Cmd',
    command: 'Cmd',
    ctrl: 'Ctrl',
    control: 'Ctrl',
    alt: 'Alt',
    option: 'Alt',
    shift: 'Shift',
    super: 'Super',
    meta: 'Super',
  };
  const parts = accelerator.split('+');
  const key = parts.pop()!;
  const modifiers = parts.map((part) => {
    const alias = aliases[part.toLowerCase()];
    if (alias === undefined) throw new Error(`unknown modifier ${part} in ${accelerator}`);
    return alias;
  });
  return [...new Set(modifiers)].sort().concat(key.toUpperCase()).join('+');
}

function accelerators(platform: Platform, isPackaged = false): Array<{ label: string; accelerator: string }> {
  return allItems(menuTemplate(platform, () => {}, { isPackaged })).flatMap((item) => {
    const accelerator = effectiveAccelerator(item, platform);
    return accelerator === undefined ? [] : [{ label: item.label ?? item.role ?? '?', accelerator }];
  });
}

describe.each(platforms)('menuTemplate on %s', (platform) => {
  it('gives every shortcut to one item only', () => {
    for (const isPackaged of [false, true]) {
      const seen = new Map<string, string>();
      for (const { label, accelerator } of accelerators(platform, isPackaged)) {
        const key = normalize(accelerator, platform);
        expect(seen.get(key), `${label} and ${seen.get(key)} both use ${accelerator}`).toBeUndefined();
        seen.set(key, label);
      }
    }
  });

  it('never takes an arrow key, Escape, or another key that moves the caret in a text field', () => {
    // Arrows (bare or with Shift) step the focused timeline and move the caret; Escape closes dialogs;
    // Home/End/PageUp/PageDown with any modifier are text navigation (Ctrl+End, Shift+Home).
    const reserved = /^(Up|Down|Left|Right|Escape|Esc|Home|End|PageUp|PageDown|Backspace|Delete|Tab|Enter|Return|Space)$/i;
    for (const { label, accelerator } of accelerators(platform)) {
      const parts = accelerator.split('+');
      expect(parts.at(-1), `${label}: ${accelerator}`).not.toMatch(reserved);
      // A letter, digit or punctuation key without Cmd/Ctrl would eat typing.
      const modifiers = parts.slice(0, -1).map((part) => normalize(`${part}+X`, platform).split('+')[0]);
      if (parts.at(-1)!.length === 1)
        expect(
          modifiers.some((m) => m === 'Cmd' || m === 'Ctrl'),
          `${label}: ${accelerator}`,
        ).toBe(true);
    }
  });

  it('reaches every MenuCommand from exactly one item, and clicking it sends that command', () => {
    const send = vi.fn<(command: MenuCommand) => void>();
    const support = { checkForUpdates: () => {}, openLogsFolder: () => {}, copyDiagnostics: () => {} };
    const items = allItems(menuTemplate(platform, send, { isPackaged: true, support })).filter(
      (item) => item.click !== undefined && !item.id?.startsWith('support:'),
    );
    const commands = items.map((item) => item.id);
    expect([...commands].sort()).toEqual([...MenuCommandSchema.options].sort());
    for (const item of items) {
      send.mockClear();
      // The arguments Electron passes are not used; the click handler ignores them.
      (item.click as () => void)();
      expect(send).toHaveBeenCalledTimes(1);
      expect(send).toHaveBeenCalledWith(item.id);
    }
  });

  it('gives every Drover command a shortcut and a label', () => {
    for (const item of allItems(menuTemplate(platform, () => {}, { isPackaged: true })).filter((entry) => entry.click !== undefined)) {
      expect(item.label, item.id).toBeTruthy();
      expect(item.accelerator, item.label).toBeTruthy();
    }
  });

  it('steps the timeline with CmdOrCtrl+[ and ], and whole turns with Shift', () => {
    const byCommand = new Map(allItems(menuTemplate(platform, () => {}, { isPackaged: true })).map((item) => [item.id, item.accelerator]));
    expect(byCommand.get('step-back')).toBe('CmdOrCtrl+[');
    expect(byCommand.get('step-forward')).toBe('CmdOrCtrl+]');
    expect(byCommand.get('turn-back')).toBe('CmdOrCtrl+Shift+[');
    expect(byCommand.get('turn-forward')).toBe('CmdOrCtrl+Shift+]');
  });

  it('offers Reload and the developer tools only in a build that is not packaged', () => {
    const roles = (isPackaged: boolean) => allItems(menuTemplate(platform, () => {}, { isPackaged })).map((item) => item.role);
    expect(roles(false)).toEqual(expect.arrayContaining(['reload', 'toggleDevTools']));
    expect(roles(true)).not.toContain('reload');
    expect(roles(true)).not.toContain('toggleDevTools');
    expect(roles(false)).not.toContain('forceReload');
  });

  it('keeps the standard editing roles so copy and paste work in text fields', () => {
    const edit = menuTemplate(platform, () => {}, { isPackaged: true }).find((menu) => menu.label === 'Edit');
    const roles = (edit?.submenu as MenuItemConstructorOptions[]).map((item) => item.role).filter(Boolean);
    expect(roles).toEqual(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll']);
  });

  it('has no item that opens a link', () => {
    for (const item of allItems(menuTemplate(platform, () => {}, { isPackaged: false }))) {
      expect(JSON.stringify(item)).not.toMatch(/https?:/);
    }
  });
});

describe('menuTemplate: macOS against Windows and Linux', () => {
  const labels = (platform: Platform) => menuTemplate(platform, () => {}, { isPackaged: true }).map((menu) => menu.label);
  const roles = (platform: Platform) => allItems(menuTemplate(platform, () => {}, { isPackaged: true })).map((item) => item.role);
  const fileRoles = (platform: Platform) =>
    (
      menuTemplate(platform, () => {}, { isPackaged: true }).find((menu) => menu.label === 'File')?.submenu as MenuItemConstructorOptions[]
    ).map((item) => item.role);

  it('puts an app menu with About, Hide and Quit first on macOS, and no Help menu', () => {
    expect(labels('darwin')).toEqual(['Drover', 'File', 'Edit', 'Session', 'Timeline', 'View', 'Window']);
    const appMenu = menuTemplate('darwin', () => {}, { isPackaged: true })[0]!.submenu as MenuItemConstructorOptions[];
    expect(appMenu.map((item) => item.role)).toEqual(expect.arrayContaining(['about', 'hide', 'hideOthers', 'unhide', 'quit']));
    expect(fileRoles('darwin')).toContain('close');
    expect(fileRoles('darwin')).not.toContain('quit');
    expect(roles('darwin')).toEqual(expect.arrayContaining(['zoom', 'front']));
  });

  it.each(['linux', 'win32'] as const)('on %s: no app menu, Quit in File, About in Help, Close in Window', (platform) => {
    expect(labels(platform)).toEqual(['File', 'Edit', 'Session', 'Timeline', 'View', 'Window', 'Help']);
    expect(fileRoles(platform)).toContain('quit');
    expect(roles(platform)).not.toContain('hide');
    expect(roles(platform)).not.toContain('services');
    expect(roles(platform)).toEqual(expect.arrayContaining(['about', 'close', 'minimize']));
  });
});

describe.each(platforms)('menuTemplate on %s: Help’s support items', (platform) => {
  const support = { checkForUpdates: vi.fn(), openLogsFolder: vi.fn(), copyDiagnostics: vi.fn() };
  const help = () => menuTemplate(platform, () => {}, { isPackaged: true, support }).find((menu) => menu.label === 'Help');

  it('has Check for Updates…, Open Logs Folder and Copy Diagnostics in Help, each doing its own action', () => {
    const items = (help()?.submenu as MenuItemConstructorOptions[]).filter((item) => item.click !== undefined);
    expect(items.map((item) => item.label)).toEqual(['Check for Updates…', 'Open Logs Folder', 'Copy Diagnostics']);
    const actions = {
      'Check for Updates…': support.checkForUpdates,
      'Open Logs Folder': support.openLogsFolder,
      'Copy Diagnostics': support.copyDiagnostics,
    };
    for (const item of items) {
      for (const action of Object.values(support)) action.mockClear();
      (item.click as () => void)();
      for (const [label, action] of Object.entries(actions))
        expect(action, `${item.label} → ${label}`).toHaveBeenCalledTimes(label === item.label ? 1 : 0);
    }
  });

  it('takes no shortcut and sends no window command with them', () => {
    const send = vi.fn<(command: MenuCommand) => void>();
    const items = allItems(menuTemplate(platform, send, { isPackaged: true, support })).filter((item) => item.id?.startsWith('support:'));
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item.accelerator).toBeUndefined();
      (item.click as () => void)();
    }
    expect(send).not.toHaveBeenCalled();
  });
});

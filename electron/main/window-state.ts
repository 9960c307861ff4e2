/**
 * The main window's size, position and maximized/full-screen state, kept across launches in
 * `<dataDir>/window-state.json`.
 *
 * Pure Node (no 'electron' import) so it is unit-tested under plain Node; index.ts hands it the
 * displays' work areas. Loading must never throw and never put the window where the user cannot
 * reach it: a bad file gives the defaults, a rectangle on a monitor that is gone loses its position.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** What is saved. No x/y means "let the OS centre it". */
const WindowStateSchema = z.object({
  x: z.number().optional(),
  y: z.number().optional(),
  width: z.number().positive(),
  height: z.number().positive(),
  maximized: z.boolean(),
  fullScreen: z.boolean(),
});
export type WindowState = z.infer<typeof WindowStateSchema>;

/** A display's work area (screen minus task bar, dock and menu bar), as Electron reports it. */
export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_SIZE = { width: 1280, height: 820 } as const;
/** Below this the layout (sidebar + conversation + timeline) stops working; the window's minimum too. */
export const MIN_SIZE = { width: 760, height: 480 } as const;

/**
 * How much of the window's top edge must lie on one work area for it to count as visible: enough
 * title bar to grab with the mouse and drag the window back.
 */
const GRAB_WIDTH = 100;
const GRAB_HEIGHT = 40;

/** The state file inside the data folder. */
export function windowStatePath(dataDir: string): string {
  return path.join(dataDir, 'window-state.json');
}

/**
 * The state to open the window with. `displays` are the work areas of every display, the one the
 * OS opens a window on first (the primary): a window without a position is sized to fit it.
 * A missing, unreadable, corrupt or invalid file gives the defaults; this never throws.
 */
export function loadWindowState(file: string, displays: readonly Rectangle[]): WindowState {
  return fitToDisplays(readSaved(file), displays);
}

/**
 * Writes the state atomically (a temporary file in the same folder, then a rename), so a crash
 * or a full disk mid-write leaves the previous file, never half of one. Throws when it cannot
 * write; the caller decides whether that matters (closing the window must still close it).
 */
export function saveWindowState(file: string, state: WindowState): void {
  const valid = WindowStateSchema.parse(state);
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The saved state, or the defaults when there is none that parses. */
function readSaved(file: string): WindowState {
  const defaults: WindowState = { ...DEFAULT_SIZE, maximized: false, fullScreen: false };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return defaults;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return defaults;
  }
  const parsed = WindowStateSchema.safeParse(json);
  return parsed.success ? parsed.data : defaults;
}

/**
 * Keeps the position only when the window's title bar is on some display, and clamps the size
 * to the minimum and to the display it will open on.
 */
function fitToDisplays(state: WindowState, displays: readonly Rectangle[]): WindowState {
  const { maximized, fullScreen } = state;
  const width = Math.round(state.width);
  const height = Math.round(state.height);
  if (state.x !== undefined && state.y !== undefined) {
    const position = { x: Math.round(state.x), y: Math.round(state.y) };
    const display = displays.find((area) => titleBarVisible({ ...position, width, height }, area));
    if (display !== undefined) return { ...position, ...clampSize(width, height, display), maximized, fullScreen };
  }
  // No position, half a position, or one on a display that is gone: the OS centres the window.
  return { ...clampSize(width, height, displays[0]), maximized, fullScreen };
}

function titleBarVisible(window: Rectangle, area: Rectangle): boolean {
  const overlap = Math.min(window.x + window.width, area.x + area.width) - Math.max(window.x, area.x);
  return overlap >= GRAB_WIDTH && window.y >= area.y && window.y <= area.y + area.height - GRAB_HEIGHT;
}

/** At least MIN_SIZE (the window's own minimum wins over a tiny display), at most the display. */
function clampSize(width: number, height: number, display: Rectangle | undefined): { width: number; height: number } {
  const maxWidth = display?.width ?? Number.POSITIVE_INFINITY;
  const maxHeight = display?.height ?? Number.POSITIVE_INFINITY;
  return {
    width: Math.max(MIN_SIZE.width, Math.min(width, maxWidth)),
    height: Math.max(MIN_SIZE.height, Math.min(height, maxHeight)),
  };
}

/**
 * The window's preferences: the theme and the sizes of the resizable panels. They are UI choices,
 * never secrets, kept in the page's localStorage under `drover.*` keys. Pure: every function takes
 * the storage it reads, so a test gives it a Map; anything stored that is malformed or out of range
 * reads as the default (a hand-edited or older value never breaks the layout).
 */

export const THEME_PREFERENCES = ['system', 'light', 'dark'] as const;
export type ThemePreference = (typeof THEME_PREFERENCES)[number];
export type Theme = 'light' | 'dark';

export const THEME_LABELS: Readonly<Record<ThemePreference, string>> = {
  system: 'Same as the system',
  light: 'Light',
  dark: 'Dark',
};

export const THEME_KEY = 'drover.theme';

/** What a preference is read from and written to (localStorage, or a Map-backed stand-in). */
export interface PreferenceStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function readTheme(storage: PreferenceStorage): ThemePreference {
  const saved = safeGet(storage, THEME_KEY);
  return THEME_PREFERENCES.find((theme) => theme === saved) ?? 'system';
}

export function writeTheme(storage: PreferenceStorage, theme: ThemePreference): void {
  safeSet(storage, THEME_KEY, theme);
}

/** The theme shown: the choice, or the system's when the choice is "system". */
export function resolveTheme(preference: ThemePreference, systemDark: boolean): Theme {
  if (preference === 'system') return systemDark ? 'dark' : 'light';
  return preference;
}

/** A resizable panel's size in CSS pixels: where it is kept, its bounds and its size at first. */
export interface SizeSpec {
  key: string;
  min: number;
  max: number;
  /** Its size until the user resizes it; null: the layout's own (CSS), e.g. a share of the window. */
  initial: number | null;
  /** One arrow-key press on its separator; Shift+arrow moves four times as far. */
  step: number;
}

/** The session's side panel (Hands, Events, Branches, Changes): its width. */
export const SIDE_PANEL_WIDTH: SizeSpec = { key: 'drover.layout.side-panel', min: 280, max: 760, initial: null, step: 16 };
/** The conversations sidebar: its width. */
export const SIDEBAR_WIDTH: SizeSpec = { key: 'drover.layout.sidebar', min: 200, max: 480, initial: 300, step: 16 };
/** The timeline's tape (its ticks): its height. */
export const TIMELINE_HEIGHT: SizeSpec = { key: 'drover.layout.timeline', min: 18, max: 160, initial: 26, step: 8 };

export function clampSize(spec: SizeSpec, value: number): number {
  if (!Number.isFinite(value)) return spec.min;
  return Math.min(spec.max, Math.max(spec.min, Math.round(value)));
}

/** The remembered size, or the first one (null: the layout's own) when none is or it is malformed. */
export function readSize(storage: PreferenceStorage, spec: SizeSpec): number | null {
  const saved = safeGet(storage, spec.key);
  if (saved === null || !/^\d{1,5}$/.test(saved)) return spec.initial;
  return clampSize(spec, Number(saved));
}

/** Remembers a size (within bounds); null forgets it (back to the first size). */
export function writeSize(storage: PreferenceStorage, spec: SizeSpec, value: number | null): number | null {
  if (value === null) {
    try {
      storage.removeItem(spec.key);
    } catch {
      // Not forgotten; the first size still applies to this window.
    }
    return spec.initial;
  }
  const size = clampSize(spec, value);
  safeSet(storage, spec.key, String(size));
  return size;
}

/**
 * The size after a key on the panel's separator, or null for a key it does not take. `grows` is
 * the arrow that makes the panel bigger (a panel on the right grows leftwards: 'ArrowLeft').
 */
export function sizeAfterKey(
  spec: SizeSpec,
  size: number,
  key: string,
  shiftKey: boolean,
  grows: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown',
): number | null {
  const step = spec.step * (shiftKey ? 4 : 1);
  const shrinks = ({ ArrowLeft: 'ArrowRight', ArrowRight: 'ArrowLeft', ArrowUp: 'ArrowDown', ArrowDown: 'ArrowUp' } as const)[grows];
  if (key === grows) return clampSize(spec, size + step);
  if (key === shrinks) return clampSize(spec, size - step);
  if (key === 'Home') return spec.min;
  if (key === 'End') return spec.max;
  return null;
}

// A storage that refuses (a private window, a full quota) must not stop the app: the default is used.
function safeGet(storage: PreferenceStorage, key: string): string | null {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function safeSet(storage: PreferenceStorage, key: string, value: string): void {
  try {
    storage.setItem(key, value);
  } catch {
    // Not remembered; the choice still applies to this window.
  }
}

/**
 * The theme the window shows: the user's choice (system / light / dark, remembered in localStorage)
 * resolved against the system's `prefers-color-scheme` and written to `<html data-theme>`, which
 * selects styles.css's colour variables. One store for the window: Settings and the command palette
 * change it, every `useThemePreference` follows, and canvases that read the variables (the timeline)
 * listen for THEME_CHANGE_EVENT to read them again.
 */
import { useSyncExternalStore } from 'react';
import { readTheme, resolveTheme, writeTheme, type Theme, type ThemePreference } from './preferences.ts';

/** Dispatched on `window` after the shown theme changed (the choice, or the system's under "system"). */
export const THEME_CHANGE_EVENT = 'drover-theme-change';

const DARK_QUERY = '(prefers-color-scheme: dark)';
const listeners = new Set<() => void>();
let preference: ThemePreference | null = null;
let watching = false;

function current(): ThemePreference {
  preference ??= readTheme(window.localStorage);
  return preference;
}

/** Writes the shown theme to the document; call once before the first render (main.tsx). */
export function applyTheme(): Theme {
  const query = window.matchMedia(DARK_QUERY);
  if (!watching) {
    watching = true;
    // Under "system", the OS switching to dark (or back) switches the window with it.
    query.addEventListener('change', () => {
      if (current() === 'system') show();
    });
  }
  return show();
}

function show(): Theme {
  const theme = resolveTheme(current(), window.matchMedia(DARK_QUERY).matches);
  const root = document.documentElement;
  const changed = root.dataset.theme !== theme;
  root.dataset.theme = theme;
  if (changed) window.dispatchEvent(new Event(THEME_CHANGE_EVENT));
  return theme;
}

export function setThemePreference(next: ThemePreference): void {
  preference = next;
  writeTheme(window.localStorage, next);
  show();
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The user's theme choice, and how to change it. */
export function useThemePreference(): [ThemePreference, (next: ThemePreference) => void] {
  const value = useSyncExternalStore(subscribe, current);
  return [value, setThemePreference];
}

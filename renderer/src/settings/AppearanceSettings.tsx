/**
 * Settings → Appearance: the theme (the system's, light or dark), applied at once and remembered
 * in this window's storage (ui/theme.ts). The command palette offers the same three.
 */
import { useId } from 'react';
import { THEME_LABELS, THEME_PREFERENCES } from '#renderer/ui/preferences.ts';
import { useThemePreference } from '#renderer/ui/theme.ts';
import './appearance.css';

export function AppearanceSettings() {
  const [theme, setTheme] = useThemePreference();
  const id = useId();
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`} data-testid="appearance-settings">
      <h3 id={`${id}-title`}>Appearance</h3>
      <fieldset className="theme-choice">
        <legend className="launch-label">Theme</legend>
        {THEME_PREFERENCES.map((choice) => (
          <label key={choice} className="checkbox">
            <input type="radio" name={`${id}-theme`} value={choice} checked={theme === choice} onChange={() => setTheme(choice)} />{' '}
            {THEME_LABELS[choice]}
          </label>
        ))}
      </fieldset>
      <p className="launch-note">
        Panel sizes are remembered too: drag the edge of the sidebar, the side panel or the timeline (or focus it and use the arrow keys).
        Press Ctrl+K (⌘K on a Mac) for every command.
      </p>
    </section>
  );
}

/**
 * Settings' sections by their headings, for the command palette's "Settings: …" commands, and how
 * to bring one into view once the page shows. A section added to SettingsView adds its heading here.
 */

export const SETTINGS_SECTIONS: readonly string[] = [
  'Appearance',
  'Anthropic API key',
  'Guardrails',
  'Local API',
  'Storage',
  'Hands library',
  'Engines',
  'Credentials',
];

/**
 * Scrolls Settings to the section headed `title` and moves focus to its heading, waiting (up to
 * about a second) for the page to render it.
 */
export function revealSettingsSection(title: string): void {
  let frames = 60;
  const look = () => {
    const heading = [...document.querySelectorAll<HTMLElement>('[data-testid="settings"] h3')].find(
      (element) => element.textContent?.trim() === title,
    );
    if (heading === undefined) {
      if (--frames > 0) requestAnimationFrame(look);
      return;
    }
    heading.tabIndex = -1;
    heading.scrollIntoView({ block: 'start' });
    heading.focus({ preventScroll: true });
  };
  requestAnimationFrame(look);
}

/**
 * The app's own commands for the palette: new session, import, Settings and each of its sections,
 * the theme, the shortcuts, and every conversation by title (opening the branch it shows, as the
 * sidebar does). A session's commands (fork, rewind…) are registered by the session view.
 */
import { useMemo } from 'react';
import type { SessionSummary } from '#shared/sessions';
import type { Command } from '#renderer/ui/commands.ts';
import { useCommands } from '#renderer/ui/commands-context.tsx';
import { THEME_LABELS, THEME_PREFERENCES } from '#renderer/ui/preferences.ts';
import { setThemePreference, useThemePreference } from '#renderer/ui/theme.ts';
import { SETTINGS_SECTIONS, revealSettingsSection } from '#renderer/settings/index.ts';
import { conversationsOf } from './Sidebar.tsx';

export interface AppCommandActions {
  newSession: () => void;
  importSession: () => void;
  openSettings: () => void;
  showShortcuts: () => void;
  openSession: (sessionId: string) => void;
}

export function useAppCommands(sessions: readonly SessionSummary[] | null, actions: AppCommandActions): void {
  const [theme] = useThemePreference();
  const { newSession, importSession, openSettings, showShortcuts, openSession } = actions;

  const commands = useMemo<Command[]>(
    () => [
      { id: 'app.new-session', group: 'Session', title: 'New session…', keywords: ['launch', 'start', 'create'], run: newSession },
      { id: 'app.import', group: 'Session', title: 'Import a session…', keywords: ['jsonl', 'open file'], run: importSession },
      { id: 'app.settings', group: 'Settings', title: 'Open Settings', keywords: ['preferences', 'options'], run: openSettings },
      ...SETTINGS_SECTIONS.map((section): Command => ({
        id: `settings.${section.toLowerCase().replaceAll(' ', '-')}`,
        group: 'Settings',
        title: `Settings: ${section}`,
        run: () => {
          openSettings();
          revealSettingsSection(section);
        },
      })),
      ...THEME_PREFERENCES.map((choice): Command => ({
        id: `theme.${choice}`,
        group: 'Theme',
        title: `Theme: ${THEME_LABELS[choice]}${choice === theme ? ' (current)' : ''}`,
        keywords: ['appearance', 'colour', 'color', `${choice} mode`],
        run: () => setThemePreference(choice),
      })),
      { id: 'help.shortcuts', group: 'Help', title: 'Keyboard shortcuts', keywords: ['keys', 'help'], shortcut: '?', run: showShortcuts },
      ...conversationsOf(sessions ?? []).map(({ head, shown }): Command => ({
        id: `go.${head.id}`,
        group: 'Go to session',
        title: head.title,
        run: () => openSession(shown.id),
      })),
    ],
    [sessions, theme, newSession, importSession, openSettings, showShortcuts, openSession],
  );
  useCommands('app', commands);
}

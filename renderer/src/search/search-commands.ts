/** "Search sessions…" in the command palette (Ctrl/Cmd+Shift+F outside it). */
import { useMemo } from 'react';
import type { Command } from '#renderer/ui/commands.ts';
import { useCommands } from '#renderer/ui/commands-context.tsx';

const MOD = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

export function useSearchCommand(openSearch: () => void): void {
  const commands = useMemo<Command[]>(
    () => [
      {
        id: 'app.search',
        group: 'Session',
        title: 'Search sessions…',
        keywords: ['find', 'full text', 'grep', 'command', 'output'],
        shortcut: `${MOD}+Shift+F`,
        run: openSearch,
      },
    ],
    [openSearch],
  );
  useCommands('search', commands);
}

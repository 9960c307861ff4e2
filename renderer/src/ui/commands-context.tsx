/**
 * The command registry (commands.ts) for React: the app provides one, and a feature adds its
 * commands with `useCommands(source, commands)` — they are listed while it is mounted and follow
 * its state (pass a memoized list: a new list replaces the old one).
 */
import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from 'react';
import type { Command, CommandRegistry } from './commands.ts';

const RegistryContext = createContext<CommandRegistry | null>(null);

export function CommandsProvider({ registry, children }: { registry: CommandRegistry; children: ReactNode }) {
  return <RegistryContext.Provider value={registry}>{children}</RegistryContext.Provider>;
}

/** Lists `commands` under `source` while the caller is mounted. Without a provider (a test render), nothing. */
export function useCommands(source: string, commands: readonly Command[]): void {
  const registry = useContext(RegistryContext);
  useEffect(() => registry?.register(source, commands), [registry, source, commands]);
}

/** Every command registered now. */
export function useRegisteredCommands(registry: CommandRegistry): readonly Command[] {
  return useSyncExternalStore(registry.subscribe, registry.list);
}

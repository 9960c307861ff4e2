// The command palette's registry and its fuzzy ranking (ui/commands.ts).
import { describe, expect, it } from 'vitest';
import { CommandRegistry, fuzzyMatch, rankCommands, type Command } from './commands.ts';

const command = (id: string, title: string, group = 'App', extra: Partial<Command> = {}): Command => ({
  id,
  title,
  group,
  run: () => undefined,
  ...extra,
});

describe('CommandRegistry', () => {
  it('lists every source’s commands in registration order, and a source replaces its own list', () => {
    const registry = new CommandRegistry();
    registry.register('app', [command('app.new', 'New session'), command('app.settings', 'Open Settings')]);
    registry.register('session', [command('session.fork', 'Fork from the selected event')]);
    expect(registry.list().map((c) => c.id)).toEqual(['app.new', 'app.settings', 'session.fork']);

    registry.register('session', [command('session.live', 'Back to live')]);
    expect(registry.list().map((c) => c.id)).toEqual(['app.new', 'app.settings', 'session.live']);
  });

  it('tells subscribers of each change and keeps the same list object between changes', () => {
    const registry = new CommandRegistry();
    let calls = 0;
    const off = registry.subscribe(() => calls++);
    const remove = registry.register('app', [command('app.new', 'New session')]);
    const first = registry.list();
    expect(registry.list()).toBe(first);
    remove();
    expect(registry.list()).toEqual([]);
    expect(calls).toBe(2);
    off();
    registry.register('app', [command('app.new', 'New session')]);
    expect(calls).toBe(2);
  });

  it('an old unregister does not remove the list that replaced it', () => {
    const registry = new CommandRegistry();
    const removeOld = registry.register('session', [command('session.fork', 'Fork')]);
    registry.register('session', [command('session.rewind', 'Rewind')]);
    removeOld();
    expect(registry.list().map((c) => c.id)).toEqual(['session.rewind']);
  });

  it('keeps the first command of an id when two sources register it', () => {
    const registry = new CommandRegistry();
    registry.register('a', [command('x', 'From a')]);
    registry.register('b', [command('x', 'From b'), command('y', 'Only b')]);
    expect(registry.list().map((c) => c.title)).toEqual(['From a', 'Only b']);
  });
});

describe('fuzzyMatch', () => {
  it('matches a subsequence, case-insensitively, ignoring spaces in the query', () => {
    expect(fuzzyMatch('nwsn', 'New session')?.matches).toEqual([0, 2, 4, 10]);
    expect(fuzzyMatch('NEW SES', 'New session')).not.toBeNull();
    expect(fuzzyMatch('xyz', 'New session')).toBeNull();
    expect(fuzzyMatch('', 'New session')).toEqual({ score: 0, matches: [] });
  });

  it('prefers word starts, and still finds a match that needs an earlier letter', () => {
    expect(fuzzyMatch('ns', 'New session')?.matches).toEqual([0, 4]);
    // The word-start "f" (at 4) leaves no "o" after it: the plain match from the first "f" is used.
    expect(fuzzyMatch('fo', 'xfo f')?.matches).toEqual([1, 2]);
  });

  it('scores word starts and runs above scattered letters', () => {
    const run = fuzzyMatch('set', 'Settings')?.score ?? 0;
    const scattered = fuzzyMatch('set', 'Show the timeline')?.score ?? 0;
    expect(run).toBeGreaterThan(scattered);
  });
});

describe('rankCommands', () => {
  const commands = [
    command('app.new', 'New session', 'App', { shortcut: 'Ctrl+N' }),
    command('settings.engines', 'Engines', 'Settings'),
    command('theme.dark', 'Dark', 'Theme', { keywords: ['night mode'] }),
    command('session.fork', 'Fork from the selected event', 'Session'),
    command('go.abc', 'Fix the flaky test', 'Go to session'),
  ];

  it('lists everything in registration order for an empty query', () => {
    expect(rankCommands(commands, '  ').map((r) => r.command.id)).toEqual(commands.map((c) => c.id));
  });

  it('puts a title match first, then a group match, then a keyword match', () => {
    expect(rankCommands(commands, 'fork')[0]?.command.id).toBe('session.fork');
    // "theme" is only the group of "Dark": found, with nothing in the title highlighted.
    const byGroup = rankCommands(commands, 'theme dark');
    expect(byGroup[0]?.command.id).toBe('theme.dark');
    expect(byGroup[0]?.matches).toEqual([]);
    expect(rankCommands(commands, 'night').map((r) => r.command.id)).toEqual(['theme.dark']);
  });

  it('finds sessions by title and highlights the letters', () => {
    const [first] = rankCommands(commands, 'flaky');
    expect(first?.command.id).toBe('go.abc');
    expect(first?.matches).toEqual([8, 9, 10, 11, 12]);
  });

  it('drops what does not match and honours the limit', () => {
    expect(rankCommands(commands, 'qqq')).toEqual([]);
    expect(rankCommands(commands, 'e', 2)).toHaveLength(2);
  });
});

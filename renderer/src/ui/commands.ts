/**
 * The command palette's registry: every action a person can run from Ctrl/Cmd+K, registered in one
 * place by the feature that owns it (the app: new session, settings, theme, sessions; a session:
 * fork, rewind, live…). A feature registers a list under its own source name and replaces it when
 * its state changes; the palette lists what is registered now, ranked by a fuzzy match of what was
 * typed. Pure: no React and no DOM (commands-context.tsx binds it to React).
 */

export interface Command {
  /** Unique across the registry: `<area>.<action>`, e.g. `session.fork`, `theme.dark`. */
  id: string;
  /** What it does, as the palette lists it: "Fork from the selected event". */
  title: string;
  /** The palette's grouping and a word to match: "Session", "Settings", "Theme", "Go to session". */
  group: string;
  /** More words it is found by ("dark mode", "preferences"). */
  keywords?: readonly string[];
  /** The keys that do it elsewhere, shown beside it: "Ctrl+N", "?". */
  shortcut?: string;
  /** Why it cannot run now (listed, greyed, not run): "Scrub back on the timeline first". */
  disabledReason?: string;
  run: () => void;
}

export interface Ranked {
  command: Command;
  /** The indexes in `command.title` that the query matched (for highlighting). */
  matches: readonly number[];
  score: number;
}

export class CommandRegistry {
  private readonly sources = new Map<string, readonly Command[]>();
  private readonly listeners = new Set<() => void>();
  private snapshot: readonly Command[] = [];

  /** Sets `source`'s commands (replacing what it registered before); the returned function removes them. */
  register(source: string, commands: readonly Command[]): () => void {
    this.sources.set(source, commands);
    this.changed();
    return () => {
      if (this.sources.get(source) !== commands) return;
      this.sources.delete(source);
      this.changed();
    };
  }

  /** Every registered command in registration order; the first registered of an id wins. The same array until something changes. */
  list = (): readonly Command[] => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private changed(): void {
    const seen = new Set<string>();
    const all: Command[] = [];
    for (const commands of this.sources.values()) {
      for (const command of commands) {
        if (seen.has(command.id)) continue;
        seen.add(command.id);
        all.push(command);
      }
    }
    this.snapshot = all;
    for (const listener of this.listeners) listener();
  }
}

/**
 * How well `query` matches `text` as a fuzzy subsequence (case-insensitive; spaces in the query are
 * ignored), or null when it does not: each matched character scores, more when it starts a word or
 * follows the previous match, less the later the match begins.
 */
export function fuzzyMatch(query: string, text: string): { score: number; matches: number[] } | null {
  const needle = query.toLowerCase().replace(/\s+/g, '');
  if (needle === '') return { score: 0, matches: [] };
  // A run of the letters as typed first ("flaky" in "Fix the flaky test"), then word starts ("ns" →
  // "New Session"); if that leaves a later character unmatched, the plain first-occurrence match,
  // which finds every subsequence there is.
  return substringMatch(needle, text) ?? matchWith(needle, text, true) ?? matchWith(needle, text, false);
}

function substringMatch(needle: string, text: string): { score: number; matches: number[] } | null {
  const haystack = text.toLowerCase();
  let at = haystack.indexOf(needle);
  if (at === -1) return null;
  for (let next = at; next !== -1; next = haystack.indexOf(needle, next + 1)) {
    if (isWordStart(text, next)) {
      at = next;
      break;
    }
  }
  const matches = Array.from(needle, (_, index) => at + index);
  const score = needle.length * 3 + (isWordStart(text, at) ? 3 : 0) - at * 0.05 - text.length * 0.01;
  return { score, matches };
}

const WORD_BREAK = /[\s\-_/.:(]/;

function matchWith(needle: string, text: string, preferWordStarts: boolean): { score: number; matches: number[] } | null {
  const haystack = text.toLowerCase();
  const matches: number[] = [];
  let score = 0;
  let from = 0;
  for (const char of needle) {
    const previous = matches.at(-1);
    let at = haystack.indexOf(char, from);
    if (at === -1) return null;
    if (preferWordStarts && !(previous !== undefined && at === previous + 1)) {
      for (let next = at; next !== -1; next = haystack.indexOf(char, next + 1)) {
        if (isWordStart(text, next)) {
          at = next;
          break;
        }
      }
    }
    const follows = previous !== undefined && at === previous + 1;
    score += 1 + (isWordStart(text, at) ? 3 : 0) + (follows ? 2 : 0);
    matches.push(at);
    from = at + 1;
  }
  score -= (matches[0] ?? 0) * 0.05 + text.length * 0.01;
  return { score, matches };
}

function isWordStart(text: string, at: number): boolean {
  return at === 0 || WORD_BREAK.test(text[at - 1] ?? '');
}

/**
 * The commands that match `query`, best first (ties keep registration order). A match in the title
 * counts fully; one only in the group or keywords counts less and highlights nothing. An empty query
 * lists everything in registration order.
 */
export function rankCommands(commands: readonly Command[], query: string, limit = 200): Ranked[] {
  const ranked: Ranked[] = [];
  for (const command of commands) {
    const inTitle = fuzzyMatch(query, command.title);
    const inGroup = fuzzyMatch(query, `${command.group} ${command.title}`);
    const inKeywords = (command.keywords ?? []).map((keyword) => fuzzyMatch(query, keyword)).find((match) => match !== null);
    if (inTitle !== null) ranked.push({ command, matches: inTitle.matches, score: inTitle.score });
    else if (inGroup !== null) ranked.push({ command, matches: [], score: inGroup.score - 2 });
    else if (inKeywords !== undefined && inKeywords !== null) ranked.push({ command, matches: [], score: inKeywords.score - 3 });
  }
  if (query.trim() === '') return ranked.slice(0, limit);
  return ranked
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => b.entry.score - a.entry.score || a.index - b.index)
    .slice(0, limit)
    .map(({ entry }) => entry);
}

/**
 * A deliberately small reading of a shell command line, for the rules that auto-allow commands
 * (`read_only_commands`, `command_prefix`). It understands only what those rules need — words,
 * quotes, backslashes and the operators `;` `&&` `||` `|` — and refuses everything else that a
 * shell (bash or sh on the hands) could turn into another command, a write or an unexpected word:
 * expansions (`$`, backticks), redirections and process substitution (`<`, `>`), subshells and
 * groups (`(`, `)`, `{`, `}`), background jobs (`&`), comments, history/negation (`!`), and any
 * control character (a newline is a second command). Globs are refused unless asked for: their
 * matches are file names the model may have chosen, such as `-delete` for `find *`.
 *
 * When in doubt it refuses: a refused line only means the user is asked. Pure: no I/O.
 */

export type Operator = ';' | '&&' | '||' | '|';

/** One simple command: its words with quotes and backslashes removed, as the program receives them. */
export interface SimpleCommand {
  words: string[];
}

export type CommandLine = { ok: true; commands: SimpleCommand[]; operators: Operator[] } | { ok: false; reason: string };

export interface ReadOptions {
  /** Accept unquoted `*`, `?`, `[` as plain characters (they still expand in the shell). */
  globs: boolean;
}

/** Characters no rule lets through unquoted, each with why. */
const REFUSED: Readonly<Record<string, string>> = {
  $: 'it expands a variable or runs a command ($)',
  '`': 'it runs a command (`)',
  '<': 'it redirects input or substitutes a command (<)',
  '>': 'it writes to a file (>)',
  '(': 'it starts a subshell or a pattern (()',
  ')': 'it ends a subshell or a pattern ())',
  '{': 'it groups commands or expands braces ({)',
  '}': 'it groups commands or expands braces (})',
  '!': 'it negates or expands history (!)',
};
const GLOB = new Set(['*', '?', '[']);
/** Any control character but tab: a newline or carriage return would start another command. */
const CONTROL = /[\p{Cc}]/u;

function refuse(reason: string): CommandLine {
  return { ok: false, reason };
}

/** Splits `line` into simple commands and the operators between them, or says why it will not. */
export function readCommandLine(line: string, options: ReadOptions): CommandLine {
  for (const char of line) {
    if (char !== '\t' && CONTROL.test(char)) return refuse('it has a control character (a newline would start another command)');
  }
  const commands: SimpleCommand[] = [];
  const operators: Operator[] = [];
  let words: string[] = [];
  let word = '';
  /** A word is under way (also an empty one: `''`). */
  let inWord = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (operator: Operator): CommandLine | null => {
    endWord();
    if (words.length === 0) return refuse(`an operator (${operator}) has no command before it`);
    commands.push({ words });
    operators.push(operator);
    words = [];
    return null;
  };
  let i = 0;
  while (i < line.length) {
    const char = line[i] ?? '';
    const next = line[i + 1];
    if (char === ' ' || char === '\t') {
      endWord();
      i++;
      continue;
    }
    if (char === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return refuse("a quote (') is not closed");
      word += line.slice(i + 1, close);
      inWord = true;
      i = close + 1;
      continue;
    }
    if (char === '"') {
      const read = readDoubleQuoted(line, i + 1);
      if (!read.ok) return refuse(read.reason);
      word += read.text;
      inWord = true;
      i = read.end + 1;
      continue;
    }
    if (char === '\\') {
      if (next === undefined) return refuse('it ends with a backslash');
      word += next;
      inWord = true;
      i += 2;
      continue;
    }
    if (char === '|' || char === '&' || char === ';') {
      let operator: Operator;
      if (char === '|' && next === '|') operator = '||';
      else if (char === '&' && next === '&') operator = '&&';
      else if (char === '|' && next !== '&') operator = '|';
      else if (char === ';' && next !== ';') operator = ';';
      else if (char === '&') return refuse('it runs a command in the background or redirects (&)');
      else return refuse(`it uses the operator ${char}${next ?? ''}`);
      const refused = endCommand(operator);
      if (refused) return refused;
      i += operator.length;
      continue;
    }
    if (char === '#' && !inWord) return refuse('it has a comment (#)');
    const why = REFUSED[char];
    if (why !== undefined) return refuse(why);
    if (GLOB.has(char) && !options.globs) return refuse(`it has a file name pattern (${char}): its matches could be read as options`);
    word += char;
    inWord = true;
    i++;
  }
  endWord();
  if (words.length === 0) {
    return refuse(operators.length === 0 ? 'there is no command' : `it ends with an operator (${operators.at(-1) ?? ''})`);
  }
  commands.push({ words });
  return { ok: true, commands, operators };
}

/**
 * The text of a double-quoted string starting at `start` (after the quote), up to its closing
 * quote. `$` and backticks still expand inside double quotes, so they are refused; a backslash
 * keeps its meaning only before `$`, `` ` ``, `"`, `\`.
 */
function readDoubleQuoted(line: string, start: number): { ok: true; text: string; end: number } | { ok: false; reason: string } {
  let text = '';
  let i = start;
  while (i < line.length) {
    const char = line[i] ?? '';
    if (char === '"') return { ok: true, text, end: i };
    if (char === '$' || char === '`') return { ok: false, reason: `it expands inside double quotes (${char})` };
    if (char === '\\') {
      const next = line[i + 1];
      if (next === '$' || next === '`' || next === '"' || next === '\\') {
        text += next;
        i += 2;
        continue;
      }
    }
    text += char;
    i++;
  }
  return { ok: false, reason: 'a quote (") is not closed' };
}

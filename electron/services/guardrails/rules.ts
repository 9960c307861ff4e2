/**
 * Rules that turn an `ask` into `allow` for a narrow pattern of shell commands (see PolicyRuleSchema):
 *
 * - `read_only_commands`: every command of the line — across `|`, `;`, `&&`, `||` — is in a
 *   conservative set of commands that only read, with the options that would write or run another
 *   program refused. "Read-only" is about changing things, not about secrecy: `cat` reads any file
 *   the login can. `env` and `printenv` are left out all the same (the environment is where tokens
 *   live, and listing it is rarely needed to explore); so are commands with a write option that is
 *   easy to miss (`sort -o`, `uniq IN OUT`, `tree -o`, `date -s`).
 * - `command_prefix`: the line starts with the prefix, then ends or a blank follows, and is one
 *   simple command: no operator, substitution, redirection or newline can add another.
 *
 * Both rely on the shell's own state coming only from commands the user allowed (a persistent
 * shell could otherwise have redefined `ls`), and git on the configuration the user wrote: `git
 * status` and `git diff` run what `core.fsmonitor` or `diff.external` name, and only a write —
 * which asks — could change those. Pure: no I/O.
 */
import type { PolicyRule } from '#shared/guardrails';
import { readCommandLine, type SimpleCommand } from './command-line.ts';

/** The tool whose `command` input the rules read: the shell hands' `bash`. */
export const COMMAND_TOOL = 'bash';

/** A short option cluster (`-la`) that contains `letter`. */
function clusterHas(arg: string, letter: string): boolean {
  return /^-[A-Za-z0-9]+$/.test(arg) && arg.includes(letter);
}

/**
 * `--name` or `--name=value`, or an abbreviation of it (git and GNU getopt accept a unique prefix,
 * e.g. `--outp` for `--output`): every prefix of two letters or more is refused.
 */
function longOption(arg: string, name: string): boolean {
  if (!arg.startsWith('--')) return false;
  const given = arg.slice(2).split('=')[0] ?? '';
  return given.length >= 2 && name.startsWith(given);
}

const GIT_READS = new Set(['status', 'log', 'diff', 'show']);

/**
 * The read-only commands and, for each, whether its arguments are acceptable. The first word must
 * be the command's bare name (no path, no assignment before it).
 */
const READ_ONLY: Readonly<Record<string, (args: readonly string[]) => boolean>> = {
  ls: () => true,
  cat: () => true,
  head: () => true,
  tail: () => true,
  wc: () => true,
  pwd: () => true,
  echo: () => true,
  cd: () => true,
  stat: () => true,
  which: () => true,
  du: () => true,
  df: () => true,
  uname: () => true,
  whoami: () => true,
  grep: () => true,
  /** `--pre` runs a program on each file; `--hostname-bin` runs one to learn the host name. */
  rg: (args) => !args.some((arg) => longOption(arg, 'pre') || longOption(arg, 'pre-glob') || longOption(arg, 'hostname-bin')),
  /** Actions that run programs or write files are refused (`-fprint*`, `-fls` write). */
  find: (args) => !args.some((arg) => /^-(exec|execdir|ok|okdir|delete|fprint|fprint0|fprintf|fls)$/.test(arg)),
  /** `file -C` compiles a magic file (a write). */
  file: (args) => !args.some((arg) => clusterHas(arg, 'C') || longOption(arg, 'compile')),
  /**
   * Only `git status|log|diff|show`, the subcommand first (options before it, like `-c`, can set a
   * pager or any program); `--output` writes a file, `--ext-diff` runs the configured diff program.
   */
  git: (args) => {
    const [subcommand, ...rest] = args;
    if (subcommand === undefined || !GIT_READS.has(subcommand)) return false;
    return !rest.some((arg) => longOption(arg, 'output') || longOption(arg, 'ext-diff'));
  },
};

/** The names `read_only_commands` allows, for the UI to list. */
export const READ_ONLY_COMMANDS: readonly string[] = Object.keys(READ_ONLY).sort();

function readOnly(command: SimpleCommand): boolean {
  const [name, ...args] = command.words;
  if (name === undefined || !Object.hasOwn(READ_ONLY, name)) return false;
  return READ_ONLY[name]?.(args) ?? false;
}

/** Whether every command of `line` only reads (see the module comment). */
export function isReadOnlyCommandLine(line: string): boolean {
  const read = readCommandLine(line, { globs: false });
  return read.ok && read.commands.every(readOnly);
}

/** Blanks a shell skips before the first word. */
const LEADING_BLANKS = /^[ \t]+/;

/** Whether `line` is `prefix` followed by nothing or by a blank and more words, as one simple command. */
export function matchesCommandPrefix(line: string, prefix: string): boolean {
  const command = line.replace(LEADING_BLANKS, '');
  const wanted = prefix.trim();
  if (wanted === '' || !command.startsWith(wanted)) return false;
  const after = command[wanted.length];
  if (after !== undefined && after !== ' ' && after !== '\t') return false;
  // The whole line is read, not just the rest: a prefix ending inside a quote must not hide an operator.
  const read = readCommandLine(command, { globs: true });
  return read.ok && read.commands.length === 1;
}

/** Why a prefix cannot be a rule (it is not the start of one simple command), or null when it can. */
export function prefixProblem(prefix: string): string | null {
  const read = readCommandLine(prefix.trim(), { globs: true });
  if (!read.ok) return read.reason;
  if (read.commands.length !== 1) return 'it is more than one command';
  return null;
}

/** Whether a rule allows a use of the command tool with this input. */
export function ruleMatches(rule: PolicyRule, input: Readonly<Record<string, unknown>>): boolean {
  const command = input.command;
  if (typeof command !== 'string') return false;
  switch (rule.type) {
    case 'read_only_commands':
      return isReadOnlyCommandLine(command);
    case 'command_prefix':
      return matchesCommandPrefix(command, rule.prefix);
  }
}

/**
 * The prefix "Allow similar for this session" offers for a command: its first word, and the second
 * when it names a subcommand (`git log`, `npm test`) rather than an option or a path. Null when the
 * command is not one simple command (no prefix rule could match it).
 */
export function similarPrefix(line: string): string | null {
  const read = readCommandLine(line.replace(LEADING_BLANKS, ''), { globs: true });
  if (!read.ok || read.commands.length !== 1) return null;
  const [first, second] = read.commands[0]?.words ?? [];
  if (first === undefined || !/^[A-Za-z0-9._+/-]+$/.test(first)) return null;
  const both = second !== undefined && /^[a-z][a-z0-9-]*$/.test(second) ? `${first} ${second}` : first;
  // Offered only when it matches the command as written (a quoted `'git' log` would not match `git log`).
  if (matchesCommandPrefix(line, both)) return both;
  return matchesCommandPrefix(line, first) ? first : null;
}

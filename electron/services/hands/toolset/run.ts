/**
 * Runs the file tools of Managed Agents' toolset — `read`, `write`, `edit`, `glob`, `grep` — on a
 * hand's files (FileAccess: a container's, through short execs of POSIX sh and busybox tools).
 * `bash` is the shell hand's own (shell-hand.ts). Bad input and failures are tool errors the model
 * can act on; nothing here throws at the harness except an interrupt.
 */
import path from 'node:path';
import { describeIssues, issuesText } from '#shared/events';
import type { AgentToolName } from '#shared/hands';
import type { FileAccess } from '#services/hands/files';
import type { ToolOutcome } from '#services/hands/hand';
import { globToRegExp, MAX_FILE_BYTES, MAX_RESULTS, ToolsetInputSchemas, type ToolsetInput } from './tools.ts';

/** Characters of file text in one read (whole lines until then). */
const MAX_READ_CHARS = 50_000;
/** Files a glob or grep looks through. */
const MAX_SCANNED_FILES = 100_000;
/** Characters of one matching line shown by grep. */
const MAX_LINE_CHARS = 500;

export type FileToolName = Exclude<AgentToolName, 'bash'>;

const outcome = (text: string, isError = false): ToolOutcome => ({ content: [{ type: 'text', text }], isError });

class ToolError extends Error {}

/** Runs one file tool; `cwd` is where relative paths start. */
export async function runFileTool(
  tool: FileToolName,
  input: Record<string, unknown>,
  files: FileAccess,
  options: { cwd: string; signal: AbortSignal },
): Promise<ToolOutcome> {
  options.signal.throwIfAborted();
  const parsed = ToolsetInputSchemas[tool].safeParse(input);
  if (!parsed.success) {
    return outcome(`The ${tool} tool was not run: ${issuesText(describeIssues(parsed.error.issues))}.`, true);
  }
  const run = new FileTools(files, options.cwd, options.signal);
  try {
    switch (tool) {
      case 'read':
        return outcome(await run.read(parsed.data as ToolsetInput<'read'>));
      case 'write':
        return outcome(await run.write(parsed.data as ToolsetInput<'write'>));
      case 'edit':
        return outcome(await run.edit(parsed.data as ToolsetInput<'edit'>));
      case 'glob':
        return outcome(await run.glob(parsed.data as ToolsetInput<'glob'>));
      case 'grep':
        return outcome(await run.grep(parsed.data as ToolsetInput<'grep'>));
    }
  } catch (error) {
    if (options.signal.aborted) throw error;
    return outcome(error instanceof Error ? error.message : String(error), true);
  }
}

class FileTools {
  constructor(
    private readonly files: FileAccess,
    private readonly cwd: string,
    private readonly signal: AbortSignal,
  ) {}

  private resolve(file: string): string {
    return path.posix.resolve(this.cwd, file);
  }

  /** A text file's contents; refuses folders, large files and binary ones with what to do instead. */
  private async readText(target: string): Promise<string> {
    const info = await this.files.stat(target, this.signal);
    if (info === null) throw new ToolError(`No such file: ${target}. Find files with glob; make one with write.`);
    if (info.kind === 'directory')
      throw new ToolError(`${target} is a folder, not a file. List it with glob (e.g. pattern "*", path "${target}").`);
    if (info.kind !== 'file') throw new ToolError(`${target} is not a regular file.`);
    if (info.size > MAX_FILE_BYTES) {
      throw new ToolError(
        `${target} is ${info.size} bytes, more than ${MAX_FILE_BYTES} this tool handles. Look at parts of it with bash (head, tail, sed -n '100,200p').`,
      );
    }
    const data = await this.files.read(target, MAX_FILE_BYTES, this.signal);
    if (data.subarray(0, 8192).includes(0)) {
      throw new ToolError(`${target} is a binary file (${data.length} bytes). Inspect it with bash (od -c, hexdump) instead.`);
    }
    return data.toString('utf8');
  }

  async read({ file_path, view_range }: ToolsetInput<'read'>): Promise<string> {
    const target = this.resolve(file_path);
    const text = await this.readText(target);
    const lines = splitLines(text);
    if (lines.length === 0) return `${target} is empty.`;
    const start = view_range?.[0] ?? 1;
    const end = view_range && view_range[1] > 0 ? Math.min(view_range[1], lines.length) : lines.length;
    if (start > lines.length || end < start) {
      throw new ToolError(
        `view_range [${view_range?.join(', ') ?? ''}] is outside ${target}, which has ${lines.length} line${lines.length === 1 ? '' : 's'}. Use [start, end] with 1 <= start <= end, or end 0 for the rest of the file.`,
      );
    }
    let shown = '';
    let last = start - 1;
    for (let n = start; n <= end; n++) {
      const line = `${String(n).padStart(6)}\t${lines[n - 1] ?? ''}\n`;
      if (shown.length + line.length > MAX_READ_CHARS && n > start) break;
      shown += line;
      last = n;
    }
    const more = last < end ? `\n[Shown: lines ${start}-${last} of ${lines.length}. Read on with view_range [${last + 1}, ${end}].]` : '';
    return shown.replace(/\n$/, '') + more;
  }

  async write({ file_path, content }: ToolsetInput<'write'>): Promise<string> {
    const target = this.resolve(file_path);
    const info = await this.files.stat(target, this.signal);
    if (info?.kind === 'directory') throw new ToolError(`${target} is a folder: give the path of a file in it.`);
    const data = Buffer.from(content, 'utf8');
    await this.files.write(target, data, this.signal);
    const lines = splitLines(content).length;
    return `${info === null ? 'Created' : 'Replaced'} ${target} (${data.length} bytes, ${lines} line${lines === 1 ? '' : 's'}).`;
  }

  async edit({ file_path, old_string, new_string, replace_all }: ToolsetInput<'edit'>): Promise<string> {
    const target = this.resolve(file_path);
    const original = await this.readText(target);
    // A file written with CRLF keeps it: the strings are matched and written with its line breaks.
    const crlf = /\r\n/.test(original) && !/(^|[^\r])\n/.test(original);
    const eol = (value: string): string => (crlf ? value.replace(/\r?\n/g, '\r\n') : value);
    const needle = eol(old_string);
    const found: number[] = [];
    for (let at = original.indexOf(needle); at !== -1; at = original.indexOf(needle, at + needle.length)) found.push(at);
    if (found.length === 0) {
      throw new ToolError(
        `old_string was not found in ${target}. Read the file and copy the text exactly (whitespace and indentation included, without read's line numbers).`,
      );
    }
    if (found.length > 1 && replace_all !== true) {
      const lines = found.map((at) => lineOf(original, at));
      throw new ToolError(
        `old_string occurs ${found.length} times in ${target} (lines ${lines.join(', ')}). Add surrounding lines to make it unique, or set replace_all to true.`,
      );
    }
    const replacement = eol(new_string);
    const updated = original.split(needle).join(replacement);
    await this.files.write(target, Buffer.from(updated, 'utf8'), this.signal);
    const first = lineOf(updated, found[0] ?? 0);
    const lines = splitLines(updated);
    const from = Math.max(1, first - 3);
    const to = Math.min(lines.length, first + splitLines(new_string).length + 3);
    const snippet = lines
      .slice(from - 1, to)
      .map((line, index) => `${String(from + index).padStart(6)}\t${line}`)
      .join('\n');
    const count = found.length === 1 ? 'one occurrence' : `${found.length} occurrences`;
    return `Edited ${target}: replaced ${count}. Lines ${from}-${to} now:\n${snippet}`;
  }

  /** The folder a search runs under, and the pattern relative to it (an absolute pattern starts at its fixed folders). */
  private searchRoot(folder: string | undefined, pattern: string): { root: string; pattern: string } {
    if (pattern.startsWith('/')) {
      const parts = pattern.split('/');
      const fixed = parts.findIndex((part, index) => index > 0 && /[*?{[]/.test(part));
      const cut = fixed === -1 ? parts.length - 1 : fixed;
      return { root: parts.slice(0, cut).join('/') || '/', pattern: parts.slice(cut).join('/') };
    }
    return { root: this.resolve(folder ?? '.'), pattern };
  }

  private async list(root: string): Promise<{ files: Array<{ path: string; mtime: number }>; truncated: boolean }> {
    if (!this.files.findFiles) throw new ToolError('This hand cannot search its files.');
    const info = await this.files.stat(root, this.signal);
    if (info === null) throw new ToolError(`No such folder: ${root}.`);
    if (info.kind !== 'directory') throw new ToolError(`${root} is not a folder: give the folder to search under as path.`);
    return this.files.findFiles(root, MAX_SCANNED_FILES, this.signal);
  }

  async glob({ pattern, path: folder }: ToolsetInput<'glob'>): Promise<string> {
    const search = this.searchRoot(folder, pattern);
    const matcher = globToRegExp(search.pattern);
    const { files, truncated } = await this.list(search.root);
    const matched = files.filter((file) => matcher.test(file.path)).sort((a, b) => b.mtime - a.mtime || a.path.localeCompare(b.path));
    const scanned = truncated ? `\n[Only the first ${MAX_SCANNED_FILES} files under ${search.root} were looked at: narrow path.]` : '';
    if (matched.length === 0) return `No files under ${search.root} match ${search.pattern}.${scanned}`;
    const shown = matched.slice(0, MAX_RESULTS).map((file) => path.posix.join(search.root, file.path));
    const more = matched.length > MAX_RESULTS ? `\n[${matched.length - MAX_RESULTS} more not shown: narrow the pattern.]` : '';
    return shown.join('\n') + more + scanned;
  }

  async grep({ pattern, path: where, glob, ignore_case }: ToolsetInput<'grep'>): Promise<string> {
    if (!this.files.grep) throw new ToolError('This hand cannot search its files.');
    const target = this.resolve(where ?? '.');
    const info = await this.files.stat(target, this.signal);
    if (info === null) throw new ToolError(`No such file or folder: ${target}.`);
    let root = target;
    let candidates: string[];
    let scanned = '';
    if (info.kind === 'directory') {
      const listed = await this.list(target);
      const matcher = glob === undefined ? null : globToRegExp(glob);
      candidates = listed.files.map((file) => file.path).filter((file) => matcher === null || matcher.test(file));
      if (listed.truncated) scanned = `\n[Only the first ${MAX_SCANNED_FILES} files under ${target} were searched: narrow path or glob.]`;
    } else {
      root = path.posix.dirname(target);
      candidates = [path.posix.basename(target)];
    }
    const { matches, truncated } = await this.files.grep(
      root,
      candidates,
      pattern,
      { ignoreCase: ignore_case === true, limit: MAX_RESULTS },
      this.signal,
    );
    if (matches.length === 0) return `No lines match ${pattern} in ${target}${glob ? ` (files matching ${glob})` : ''}.${scanned}`;
    const lines = matches.map((match) => {
      const text = match.text.length > MAX_LINE_CHARS ? `${match.text.slice(0, MAX_LINE_CHARS)}…` : match.text;
      return `${path.posix.join(root, match.file)}:${match.line}:${text}`;
    });
    const more = truncated ? `\n[More than ${MAX_RESULTS} matching lines: narrow the pattern, path or glob.]` : '';
    return lines.join('\n') + more + scanned;
  }
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

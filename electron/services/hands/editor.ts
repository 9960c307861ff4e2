/**
 * The file editor tool a hand offers to Claude, with the semantics of Anthropic's text editor tool
 * (`str_replace_based_edit_tool`, text_editor_20250728): `view`, `create`, `str_replace`, `insert`.
 * It works over a hand's `FileAccess`, so it behaves the same in a container, over SSH, or here.
 *
 * Every mistake (bad input, missing file, ambiguous match, …) resolves with `isError: true` and a
 * sentence the model can act on; only an aborted signal rejects. It must never change a file
 * where `old_str` does not match exactly once, nor edit one that is binary or too large to read whole.
 */
import path from 'node:path';
import { z } from 'zod';
import { describeIssues, issuesText } from '#shared/events';
import type { ToolOutcome, ToolSpec } from './hand.ts';
import type { FileAccess } from './files.ts';
import { shellWord } from './shell.ts';

/** Files larger than this are neither viewed nor edited (bash tools handle them better). */
export const MAX_EDIT_BYTES = 1024 * 1024;
/** A view longer than this is cut at a line boundary, with a marker pointing to `view_range`. */
export const MAX_VIEW_CHARS = 50_000;
/** Directory views list at most this many entries. */
export const MAX_LIST_ENTRIES = 1000;
/** Lines of context shown around an edit. */
const SNIPPET_LINES = 4;
/** Where binary content is looked for (like git and grep do). */
const BINARY_PROBE_BYTES = 8 * 1024;

export const EDITOR_TOOL: Omit<ToolSpec, 'name'> = {
  description: [
    'View, create and edit text files on this hand.',
    '* Paths should be absolute (e.g. /repo/src/app.ts); a relative path is resolved against the working directory.',
    '* `view` on a file shows its lines numbered like `cat -n`; `view_range: [start, end]` (1-based, inclusive, end -1 = to the end) shows part of it. `view` on a directory lists its files and folders up to 2 levels deep, hidden ones excluded.',
    '* `create` writes `file_text` as the whole file, creating parent folders; an existing file is overwritten.',
    '* `str_replace` replaces `old_str` with `new_str` (default empty). `old_str` must match exactly one place in the file, verbatim, whitespace and indentation included; when it matches several places, add surrounding lines to make it unique. Line numbers from `view` are not part of the file.',
    '* `insert` inserts `insert_text` after line `insert_line` (0 = at the top of the file).',
    `* Text files up to ${MAX_EDIT_BYTES} bytes only; for binary or larger files use bash tools (sed -n, head, grep -n, xxd).`,
  ].join('\n'),
  input_schema: {
    type: 'object',
    properties: {
      command: { type: 'string', enum: ['view', 'create', 'str_replace', 'insert'], description: 'The command to run.' },
      path: { type: 'string', description: 'Absolute path of the file or directory, e.g. /repo/file.py.' },
      view_range: {
        type: 'array',
        items: { type: 'integer' },
        minItems: 2,
        maxItems: 2,
        description: 'For `view` on a file: [start, end] line numbers, 1-based and inclusive; end -1 shows to the end of the file.',
      },
      file_text: { type: 'string', description: 'For `create`: the full content of the file.' },
      old_str: { type: 'string', description: 'For `str_replace`: the exact text to replace; it must occur exactly once in the file.' },
      new_str: { type: 'string', description: 'For `str_replace`: the replacement text (empty to delete old_str).' },
      insert_line: { type: 'integer', description: 'For `insert`: the line after which to insert (0 = at the top).' },
      insert_text: { type: 'string', description: 'For `insert`: the text to insert.' },
    },
    required: ['command', 'path'],
  },
};

const pathField = z.string().min(1, 'must not be empty');
const lineNumber = z.number().int();

export const EditorInputSchema = z.discriminatedUnion('command', [
  z.strictObject({ command: z.literal('view'), path: pathField, view_range: z.tuple([lineNumber, lineNumber]).optional() }),
  z.strictObject({ command: z.literal('create'), path: pathField, file_text: z.string() }),
  z.strictObject({
    command: z.literal('str_replace'),
    path: pathField,
    old_str: z.string().min(1, 'must not be empty (to add text use insert; to rewrite the whole file use create)'),
    new_str: z.string().optional(),
  }),
  // `new_str` is what older versions of the tool called `insert_text`.
  z
    .strictObject({
      command: z.literal('insert'),
      path: pathField,
      insert_line: lineNumber,
      insert_text: z.string().optional(),
      new_str: z.string().optional(),
    })
    .refine((input) => input.insert_text !== undefined || input.new_str !== undefined, {
      message: 'required: the text to insert',
      path: ['insert_text'],
    })
    .refine((input) => input.insert_text === undefined || input.new_str === undefined || input.insert_text === input.new_str, {
      message: 'give the text once, as insert_text (new_str is its older name)',
      path: ['new_str'],
    }),
]);
export type EditorInput = z.infer<typeof EditorInputSchema>;

/** A refusal with a message for the model; caught in `runEditor`. */
class EditorError extends Error {}

const textOutcome = (text: string, isError = false): ToolOutcome => ({ content: [{ type: 'text', text }], isError });

export async function runEditor(
  files: FileAccess,
  input: Record<string, unknown>,
  options: { cwd: string; signal: AbortSignal },
): Promise<ToolOutcome> {
  const { signal } = options;
  signal.throwIfAborted();
  const parsed = EditorInputSchema.safeParse(input);
  if (!parsed.success) {
    return textOutcome(`Invalid input for the file editor: ${issuesText(describeIssues(parsed.error.issues))}`, true);
  }
  const command = parsed.data;
  const target = path.posix.resolve(options.cwd, command.path);
  const editor = new Editor(files, signal);
  try {
    switch (command.command) {
      case 'view':
        return textOutcome(await editor.view(target, command.view_range));
      case 'create':
        return textOutcome(await editor.create(target, command.file_text));
      case 'str_replace':
        return textOutcome(await editor.replace(target, command.old_str, command.new_str ?? ''));
      case 'insert':
        return textOutcome(await editor.insert(target, command.insert_line, command.insert_text ?? command.new_str ?? ''));
    }
  } catch (error) {
    if (signal.aborted) throw error;
    // FileAccessError and EditorError carry sentences for the model; anything else still becomes
    // a tool error rather than a crash of the turn.
    return textOutcome(error instanceof Error ? error.message : String(error), true);
  }
}

/** A text file as read: its content and the line ending its edits keep. */
interface TextFile {
  text: string;
  eol: '\n' | '\r\n';
}

class Editor {
  constructor(
    private readonly files: FileAccess,
    private readonly signal: AbortSignal,
  ) {}

  async view(target: string, range: [number, number] | undefined): Promise<string> {
    const info = await this.files.stat(target, this.signal);
    if (info === null) throw new EditorError(`No such file or directory: ${target}. To make a new file there, use the create command.`);
    if (info.kind === 'directory') {
      if (range) throw new EditorError(`${target} is a directory; view_range applies to files only.`);
      return this.listing(target);
    }
    const { text } = await this.readText(target, info.kind, info.size);
    const lines = splitLines(text);
    if (lines.length === 0) {
      if (range) throw new EditorError(`view_range cannot be used: ${target} is empty (0 lines).`);
      return `The file ${target} is empty.`;
    }
    let [start, end] = [1, lines.length];
    if (range) {
      [start, end] = [range[0], range[1] === -1 ? lines.length : range[1]];
      if (start < 1 || start > lines.length || end < start || end > lines.length) {
        throw new EditorError(
          `Invalid view_range [${range.join(', ')}]: ${target} has ${lines.length} line${lines.length === 1 ? '' : 's'}. ` +
            `Use [start, end] with 1 <= start <= end <= ${lines.length}, or end -1 for the rest of the file.`,
        );
      }
    }
    // Take whole lines until the character budget runs out.
    let shown = '';
    let last = start - 1;
    for (let n = start; n <= end; n++) {
      const line = numbered(n, lines[n - 1] ?? '');
      if (shown.length + line.length > MAX_VIEW_CHARS) {
        if (last < start) shown = line.slice(0, MAX_VIEW_CHARS) + '\n'; // one line longer than the budget
        break;
      }
      shown += line;
      last = n;
    }
    const header = range
      ? `Here's the result of running \`cat -n\` on ${target} (lines ${start}-${end} of ${lines.length}):\n`
      : `Here's the result of running \`cat -n\` on ${target}:\n`;
    if (last >= end) return header + shown;
    const from = Math.max(last + 1, start);
    const marker =
      last < start
        ? `[Output truncated: line ${start} alone is longer than ${MAX_VIEW_CHARS} characters; read it with bash, e.g. \`sed -n '${start}p' ${shellWord(target)} | cut -c1-2000\`.]`
        : `[Output truncated after line ${last} (the view is limited to ${MAX_VIEW_CHARS} characters): use view_range, e.g. [${from}, ${Math.min(end, from + (last - start))}], to see lines ${from}-${end}.]`;
    return `${header}${shown}${marker}`;
  }

  async create(target: string, fileText: string): Promise<string> {
    const info = await this.files.stat(target, this.signal);
    if (info?.kind === 'directory') throw new EditorError(`Cannot create ${target}: a directory exists at that path.`);
    if (info?.kind === 'other') throw new EditorError(`Cannot create ${target}: something other than a regular file exists at that path.`);
    await this.files.write(target, Buffer.from(fileText, 'utf8'), this.signal);
    return info === null
      ? `File created successfully at: ${target}`
      : `File overwritten successfully at: ${target} (its previous content was replaced).`;
  }

  async replace(target: string, oldStr: string, newStr: string): Promise<string> {
    const { text, eol } = await this.readExisting(target);
    // Match in the file's own line ending first (the model usually writes `\n`), then verbatim.
    const candidates = [...new Set([withEol(oldStr, eol), oldStr])];
    const [old, found] = candidates.map((c) => [c, occurrences(text, c)] as const).find(([, at]) => at.length > 0) ?? [oldStr, []];
    if (found.length === 0) {
      throw new EditorError(`No replacement was performed: old_str did not appear verbatim in ${target}. ${mismatchHint(text, oldStr)}`);
    }
    if (found.length > 1) {
      const lines = [...new Set(found.slice(0, 50).map((index) => lineOf(text, index)))];
      const at = lines.join(', ') + (found.length > 50 ? ', …' : '');
      throw new EditorError(
        `No replacement was performed: old_str appears ${found.length} times in ${target}, starting at lines ${at}. ` +
          'Include more surrounding lines in old_str so that it matches exactly one place.',
      );
    }
    const index = found[0] ?? 0;
    const replacement = withEol(newStr, eol);
    const edited = text.slice(0, index) + replacement + text.slice(index + old.length);
    await this.files.write(target, Buffer.from(edited, 'utf8'), this.signal);
    return edited === text
      ? `old_str and new_str are the same, so ${target} is unchanged.`
      : editedReport(target, edited, lineOf(edited, index), lineOf(edited, index + replacement.length));
  }

  async insert(target: string, insertLine: number, insertText: string): Promise<string> {
    const { text, eol } = await this.readExisting(target);
    const lineCount = splitLines(text).length;
    if (insertLine < 0 || insertLine > lineCount) {
      throw new EditorError(
        `Invalid insert_line ${insertLine}: ${target} has ${lineCount} line${lineCount === 1 ? '' : 's'}, so insert_line must be between 0 and ${lineCount} (0 inserts at the top, ${lineCount} at the end).`,
      );
    }
    // The inserted text becomes whole lines: it ends with a line break unless it goes last in a
    // file that has none at its end.
    let body = withEol(insertText, eol);
    const offset = lineStart(text, insertLine);
    const atOpenEnd = offset === text.length && text !== '' && !text.endsWith('\n');
    if (atOpenEnd) {
      body = eol + (body.endsWith(eol) ? body.slice(0, -eol.length) : body);
    } else if (!body.endsWith(eol)) {
      body += eol;
    }
    const edited = text.slice(0, offset) + body + text.slice(offset);
    await this.files.write(target, Buffer.from(edited, 'utf8'), this.signal);
    return editedReport(target, edited, insertLine + 1, Math.max(insertLine + 1, lineOf(edited, offset + body.length - 1)));
  }

  private async listing(target: string): Promise<string> {
    const { entries, truncated } = await this.files.list(target, 2, MAX_LIST_ENTRIES, this.signal);
    const header = `Files and directories up to 2 levels deep in ${target}, excluding hidden items:\n`;
    if (entries.length === 0) return `${header}(empty directory)`;
    const lines = entries.map((entry) => path.posix.join(target, entry));
    const note = truncated
      ? `\n[Listing cut at ${MAX_LIST_ENTRIES} entries: view a subdirectory, or use bash (e.g. \`find ${shellWord(target)} -maxdepth 2\`) to see the rest.]`
      : '';
    return `${header}${target}${target.endsWith('/') ? '' : '/'}\n${lines.join('\n')}${note}`;
  }

  /** The text of a file that must already exist (str_replace, insert). */
  private async readExisting(target: string): Promise<TextFile> {
    const info = await this.files.stat(target, this.signal);
    if (info === null) {
      throw new EditorError(
        `No such file: ${target}. Check the path (view its folder to see what is there), or use create to make a new file.`,
      );
    }
    if (info.kind === 'directory') throw new EditorError(`${target} is a directory, not a file; only files can be edited.`);
    return this.readText(target, info.kind, info.size);
  }

  /** Reads a file as UTF-8 text, refusing what is too large (checked before reading) or binary. */
  private async readText(target: string, kind: 'file' | 'other', size: number): Promise<TextFile> {
    if (kind === 'other')
      throw new EditorError(`${target} is not a regular file (a device, socket or pipe); the editor handles text files only.`);
    const quoted = shellWord(target);
    if (size > MAX_EDIT_BYTES) {
      throw new EditorError(
        `${target} is too large for the file editor (${size} bytes; the limit is ${MAX_EDIT_BYTES}). Use bash tools instead: ` +
          `\`sed -n '100,200p' ${quoted}\` to read lines 100-200, \`head -n 50 ${quoted}\`, \`grep -n PATTERN ${quoted}\` to find lines, and sed or a script to edit.`,
      );
    }
    const data = await this.files.read(target, MAX_EDIT_BYTES, this.signal);
    const binary = (reason: string) =>
      new EditorError(
        `${target} looks like a binary file (${data.length} bytes, ${reason}); the editor handles UTF-8 text only. ` +
          `Inspect it with bash tools, e.g. \`file ${quoted}\` or \`xxd ${quoted} | head\`.`,
      );
    if (data.subarray(0, BINARY_PROBE_BYTES).includes(0)) throw binary('it contains NUL bytes');
    let text: string;
    try {
      // ignoreBOM keeps a byte order mark in the text, so writing the file back keeps it too.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
    } catch {
      throw binary('it is not valid UTF-8');
    }
    // A file keeps CRLF when its first line break is CRLF.
    const firstBreak = text.indexOf('\n');
    return { text, eol: firstBreak > 0 && text[firstBreak - 1] === '\r' ? '\r\n' : '\n' };
  }
}

/** The file's lines without their line breaks; a last line without a break still counts. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** One line as `cat -n` prints it. */
const numbered = (n: number, line: string): string => `${String(n).padStart(6)}\t${line}\n`;

/** `text` with every line break written as `eol`. */
const withEol = (text: string, eol: string): string => text.replace(/\r?\n/g, eol);

/** Start indexes of every occurrence of `needle`, overlapping ones included (they are ambiguous too). */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/** The 1-based line holding character `index`. */
function lineOf(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

/** Index where line `n + 1` starts, i.e. just after the n-th line break (text length if past it). */
function lineStart(text: string, n: number): number {
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const at = text.indexOf('\n', offset);
    if (at === -1) return text.length;
    offset = at + 1;
  }
  return offset;
}

/** Why old_str may have missed: line endings, or whitespace that differs from the file's. */
function mismatchHint(text: string, oldStr: string): string {
  const noCr = (s: string) => s.replace(/\r/g, '');
  if (noCr(text).includes(noCr(oldStr))) {
    return 'It does match when line endings are ignored: the file mixes \\n and \\r\\n line endings; view the lines and copy them exactly.';
  }
  // Compare line by line with whitespace collapsed: the first and last lines of old_str may be partial.
  const squash = (line: string) => line.trim().replace(/\s+/g, ' ');
  const fileLines = splitLines(text).map(squash);
  const oldLines = oldStr.replace(/\r/g, '').split('\n').map(squash);
  const matches: number[] = [];
  for (let i = 0; i + oldLines.length <= fileLines.length; i++) {
    const fits = oldLines.every((old, k) => {
      const line = fileLines[i + k] ?? '';
      if (oldLines.length === 1) return line.includes(old);
      if (k === 0) return line.endsWith(old);
      return k === oldLines.length - 1 ? line.startsWith(old) : line === old;
    });
    if (fits) matches.push(i + 1);
  }
  if (matches.length > 0 && oldLines.some((line) => line !== '')) {
    return (
      `It does match when whitespace is ignored (near line ${matches.slice(0, 5).join(', ')}): indentation, tabs versus spaces or trailing spaces differ. ` +
      'View those lines and copy them exactly.'
    );
  }
  return 'View the file to see its current content, and copy the text exactly, whitespace and indentation included.';
}

/** The message after an edit: the edited lines `first..last` with a few lines around them. */
function editedReport(target: string, text: string, first: number, last: number): string {
  const lines = splitLines(text);
  const from = Math.max(1, first - SNIPPET_LINES);
  const to = Math.min(lines.length, last + SNIPPET_LINES);
  const snippet = lines
    .slice(from - 1, to)
    .map((line, i) => numbered(from + i, line))
    .join('');
  return (
    `The file ${target} has been edited. Here's the result of running \`cat -n\` on a snippet of ${target}:\n${snippet}` +
    'Review the changes and make sure they are as expected (correct indentation, no duplicate lines). Edit the file again if necessary.'
  );
}

import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';
import { EDITOR_TOOL, EditorInputSchema, MAX_EDIT_BYTES, MAX_VIEW_CHARS, runEditor } from './editor.ts';
import { FileAccessError } from './files.ts';
import { LocalFileAccess } from './local-files.ts';

const files = new LocalFileAccess();
let dir: string;
beforeEach(() => {
  dir = tempDir('drover-editor-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const signal = new AbortController().signal;
const run = (input: Record<string, unknown>, cwd = dir) => runEditor(files, input, { cwd, signal });
/** Runs the tool and returns its text, checking whether it was an error. */
async function text(input: Record<string, unknown>, isError = false): Promise<string> {
  const outcome = await run(input);
  const first = outcome.content[0];
  if (first?.type !== 'text') throw new Error('expected a text block');
  expect({ isError: outcome.isError, text: first.text }).toMatchObject({ isError });
  return first.text;
}
const put = (name: string, content: string | Buffer): string => {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
};
const read = (file: string) => readFileSync(file, 'utf8');
const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

describe('view', () => {
  it('numbers lines like cat -n, including a last line without a newline', async () => {
    const file = put('a.txt', 'hello\nworld');
    const out = await text({ command: 'view', path: file });
    expect(out).toContain(`\`cat -n\` on ${file}:\n`);
    expect(out.endsWith('     1\thello\n     2\tworld\n')).toBe(true);
  });

  it('shows a range, with -1 meaning to the end', async () => {
    const file = put('a.txt', lines(10));
    const middle = await text({ command: 'view', path: file, view_range: [3, 4] });
    expect(middle).toContain('     3\tline 3\n     4\tline 4\n');
    expect(middle).not.toContain('line 5');
    expect(middle).not.toContain('\tline 2\n');
    const tail = await text({ command: 'view', path: file, view_range: [9, -1] });
    expect(tail.endsWith('     9\tline 9\n    10\tline 10\n')).toBe(true);
  });

  it('refuses a bad range, naming the line count', async () => {
    const file = put('a.txt', lines(10));
    for (const range of [
      [0, 3],
      [5, 11],
      [6, 5],
      [11, -1],
    ]) {
      expect(await text({ command: 'view', path: file, view_range: range }, true)).toContain('has 10 lines');
    }
  });

  it('says when a file is empty, and suggests create for a missing one', async () => {
    const empty = put('empty.txt', '');
    expect(await text({ command: 'view', path: empty })).toBe(`The file ${empty} is empty.`);
    const missing = path.join(dir, 'nope.txt');
    const out = await text({ command: 'view', path: missing }, true);
    expect(out).toContain(missing);
    expect(out).toContain('create');
  });

  it('lists a directory two levels deep, without hidden entries', async () => {
    put('src/app.ts', '');
    put('src/deep/inner/x.ts', '');
    put('README.md', '');
    put('.git/config', '');
    put('src/.env', '');
    const out = await text({ command: 'view', path: dir });
    expect(out.startsWith(`Files and directories up to 2 levels deep in ${dir}, excluding hidden items:\n`)).toBe(true);
    const listed = out.split('\n').slice(2);
    expect(listed).toEqual([`${dir}/README.md`, `${dir}/src/`, `${dir}/src/app.ts`, `${dir}/src/deep/`]);
  });

  it('cuts a long directory listing with a note', async () => {
    for (let i = 0; i < 1005; i++) put(`f${String(i).padStart(4, '0')}`, '');
    const out = await text({ command: 'view', path: dir });
    expect(out).toContain(`${dir}/f0999`);
    expect(out).not.toContain(`${dir}/f1000`);
    expect(out).toContain('Listing cut at 1000 entries');
  });

  it('cuts a long view at a line boundary and points to view_range', async () => {
    const file = put('long.txt', Array.from({ length: 2000 }, (_, i) => `${i + 1} ${'x'.repeat(60)}`).join('\n'));
    const out = await text({ command: 'view', path: file });
    expect(out.length).toBeLessThan(MAX_VIEW_CHARS + 1000);
    expect(out).toMatch(/\[Output truncated after line (\d+) .*use view_range/);
    const last = Number(/after line (\d+)/.exec(out)?.[1]);
    expect(out).toContain(`${String(last).padStart(6)}\t${last} x`);
    expect(out).not.toContain(`${String(last + 1).padStart(6)}\t`);
  });
});

describe('create', () => {
  it('creates a new file with parent folders', async () => {
    const file = path.join(dir, 'a/b/c.txt');
    expect(await text({ command: 'create', path: file, file_text: 'hi\n' })).toContain('File created');
    expect(read(file)).toBe('hi\n');
  });

  it('overwrites an existing file and says so', async () => {
    const file = put('a.txt', 'old');
    expect(await text({ command: 'create', path: file, file_text: 'new' })).toContain('File overwritten');
    expect(read(file)).toBe('new');
  });

  it('refuses a missing file_text and a directory path', async () => {
    expect(await text({ command: 'create', path: path.join(dir, 'x') }, true)).toContain('file_text:');
    mkdirSync(path.join(dir, 'sub'));
    expect(await text({ command: 'create', path: path.join(dir, 'sub'), file_text: 'x' }, true)).toContain('a directory exists');
  });
});

describe('str_replace', () => {
  it('replaces a unique match and shows the edited lines', async () => {
    const file = put('a.txt', lines(20));
    const out = await text({ command: 'str_replace', path: file, old_str: 'line 10\n', new_str: 'ten\nTEN\n' });
    expect(read(file)).toBe(lines(20).replace('line 10\n', 'ten\nTEN\n'));
    expect(out).toContain(`The file ${file} has been edited.`);
    expect(out).toContain('     6\tline 6\n');
    expect(out).toContain('    10\tten\n    11\tTEN\n');
    expect(out).toContain('    15\tline 14\n');
    expect(out).not.toContain('\tline 5\n');
    expect(out).not.toContain('\tline 16\n');
  });

  it('deletes when new_str is left out', async () => {
    const file = put('a.txt', 'keep\ndrop\nkeep too\n');
    await text({ command: 'str_replace', path: file, old_str: 'drop\n' });
    expect(read(file)).toBe('keep\nkeep too\n');
  });

  it('refuses when old_str does not appear, with a whitespace hint when it nearly does', async () => {
    const file = put('a.ts', 'function f() {\n\treturn 1;\n}\n');
    const none = await text({ command: 'str_replace', path: file, old_str: 'return 2;', new_str: 'x' }, true);
    expect(none).toContain(`No replacement was performed: old_str did not appear verbatim in ${file}.`);
    expect(none).not.toContain('whitespace is ignored');
    const spaced = await text({ command: 'str_replace', path: file, old_str: 'f() {\n    return 1;\n}', new_str: 'x' }, true);
    expect(spaced).toContain('whitespace is ignored (near line 1)');
    expect(read(file)).toBe('function f() {\n\treturn 1;\n}\n');
  });

  it('refuses several matches, listing their lines', async () => {
    const file = put('a.txt', 'x = 1\ny = 2\nx = 1\nz\nx = 1\n');
    const out = await text({ command: 'str_replace', path: file, old_str: 'x = 1', new_str: 'x = 9' }, true);
    expect(out).toContain('appears 3 times');
    expect(out).toContain('lines 1, 3, 5');
    expect(out).toContain('more surrounding lines');
    expect(read(file)).toBe('x = 1\ny = 2\nx = 1\nz\nx = 1\n');
  });

  it('refuses an empty old_str and a missing file', async () => {
    const file = put('a.txt', 'a\n');
    expect(await text({ command: 'str_replace', path: file, old_str: '', new_str: 'b' }, true)).toContain('old_str: must not be empty');
    const missing = path.join(dir, 'missing.txt');
    expect(await text({ command: 'str_replace', path: missing, old_str: 'a', new_str: 'b' }, true)).toContain(`No such file: ${missing}.`);
  });

  it('keeps a CRLF file CRLF, whichever line ending old_str uses', async () => {
    const file = put('win.txt', 'one\r\ntwo\r\nthree\r\n');
    await text({ command: 'str_replace', path: file, old_str: 'one\ntwo\n', new_str: 'uno\ndos\n' });
    expect(read(file)).toBe('uno\r\ndos\r\nthree\r\n');
    await text({ command: 'str_replace', path: file, old_str: 'dos\r\nthree', new_str: 'tres' });
    expect(read(file)).toBe('uno\r\ntres\r\n');
  });

  it('keeps the file mode', async () => {
    const file = put('run.sh', '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o754);
    await text({ command: 'str_replace', path: file, old_str: 'hi', new_str: 'there' });
    expect(read(file)).toBe('#!/bin/sh\necho there\n');
    expect(statSync(file).mode & 0o777).toBe(0o754);
  });
});

describe('insert', () => {
  it('inserts at the top, in the middle and at the end', async () => {
    const file = put('a.txt', 'a\nb\n');
    await text({ command: 'insert', path: file, insert_line: 0, insert_text: 'top' });
    expect(read(file)).toBe('top\na\nb\n');
    const out = await text({ command: 'insert', path: file, insert_line: 2, insert_text: 'mid1\nmid2\n' });
    expect(read(file)).toBe('top\na\nmid1\nmid2\nb\n');
    expect(out).toContain('     3\tmid1\n     4\tmid2\n');
    await text({ command: 'insert', path: file, insert_line: 5, insert_text: 'end' });
    expect(read(file)).toBe('top\na\nmid1\nmid2\nb\nend\n');
  });

  it('inserts after a last line without a newline, and accepts new_str as the text', async () => {
    const file = put('a.txt', 'a\nb');
    await text({ command: 'insert', path: file, insert_line: 2, new_str: 'c' });
    expect(read(file)).toBe('a\nb\nc');
  });

  it('keeps CRLF line endings', async () => {
    const file = put('a.txt', 'a\r\nb\r\n');
    await text({ command: 'insert', path: file, insert_line: 1, insert_text: 'x\ny' });
    expect(read(file)).toBe('a\r\nx\r\ny\r\nb\r\n');
  });

  it('refuses a line out of range, giving the valid range', async () => {
    const file = put('a.txt', 'a\nb\n');
    for (const line of [-1, 3]) {
      expect(await text({ command: 'insert', path: file, insert_line: line, insert_text: 'x' }, true)).toContain('between 0 and 2');
    }
    expect(read(file)).toBe('a\nb\n');
  });
});

describe('files the editor refuses', () => {
  it('refuses binary files: NUL bytes or invalid UTF-8', async () => {
    const nul = put('nul.bin', Buffer.from([0x68, 0x69, 0x00, 0x0a]));
    const latin1 = put('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    for (const [file, reason] of [
      [nul, 'NUL bytes'],
      [latin1, 'not valid UTF-8'],
    ] as const) {
      const out = await text({ command: 'view', path: file }, true);
      expect(out).toContain('binary');
      expect(out).toContain(reason);
      expect(out).toContain(`xxd ${file} | head`);
      expect(await text({ command: 'str_replace', path: file, old_str: 'h', new_str: 'j' }, true)).toContain('binary');
      expect(await text({ command: 'insert', path: file, insert_line: 0, insert_text: 'j' }, true)).toContain('binary');
    }
    expect(readFileSync(nul)).toEqual(Buffer.from([0x68, 0x69, 0x00, 0x0a]));
  });

  it('refuses files over MAX_EDIT_BYTES, pointing to bash tools', async () => {
    const file = put('big.txt', 'x'.repeat(MAX_EDIT_BYTES) + '\n');
    const out = await text({ command: 'view', path: file }, true);
    expect(out).toContain(`${MAX_EDIT_BYTES + 1} bytes`);
    expect(out).toContain(`sed -n '100,200p' ${file}`);
    expect(out).toContain('grep -n');
    expect(await text({ command: 'str_replace', path: file, old_str: 'x', new_str: 'y' }, true)).toContain('too large');
  });

  it('keeps a UTF-8 byte order mark through an edit', async () => {
    const file = put('bom.txt', '\uFEFFa\nb\n');
    await text({ command: 'str_replace', path: file, old_str: 'b', new_str: 'c' });
    expect(readFileSync(file)).toEqual(Buffer.from('\uFEFFa\nc\n', 'utf8'));
  });
});

describe('paths and input', () => {
  it('resolves relative paths against the working directory and reports the absolute path', async () => {
    const out = await text({ command: 'create', path: 'sub/new.txt', file_text: 'x' });
    expect(out).toContain(path.join(dir, 'sub/new.txt'));
    expect(read(path.join(dir, 'sub/new.txt'))).toBe('x');
    expect(await text({ command: 'view', path: './sub/../sub/new.txt' })).toContain(`on ${dir}/sub/new.txt:`);
  });

  it('answers bad input with field: message', async () => {
    expect(await text({ command: 'delete', path: '/x' }, true)).toMatch(/^Invalid input for the file editor: command: /);
    expect(await text({ command: 'view' }, true)).toContain('path: ');
    expect(await text({ command: 'view', path: 3 }, true)).toContain('path: Invalid input: expected string');
    expect(await text({ command: 'view', path: '/x', view_range: [1] }, true)).toContain('view_range: ');
    expect(await text({ command: 'insert', path: '/x', insert_line: 1.5, insert_text: 'a' }, true)).toContain('insert_line: ');
    expect(await text({ command: 'insert', path: '/x', insert_line: 1 }, true)).toContain('insert_text: required');
    expect(await text({ command: 'view', path: '/x', old_str: 'a' }, true)).toContain('Unrecognized key');
  });

  it('rejects only when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(runEditor(files, { command: 'view', path: dir }, { cwd: dir, signal: controller.signal })).rejects.toThrow('stopped');
  });

  it('describes every schema property in the tool spec', () => {
    const props = Object.keys(EDITOR_TOOL.input_schema.properties ?? {});
    const commands = EditorInputSchema.options.flatMap((option) => Object.keys(option.shape));
    expect(new Set(props)).toEqual(new Set(commands));
  });
});

describe('LocalFileAccess', () => {
  it('reports missing paths, directories and read limits plainly', async () => {
    await expect(files.stat(path.join(dir, 'none'), signal)).resolves.toBeNull();
    await expect(files.stat(dir, signal)).resolves.toEqual({ kind: 'directory', size: 0 });
    await expect(files.read(path.join(dir, 'none'), 10, signal)).rejects.toThrow(`No such file or directory: ${dir}/none`);
    const file = put('a.txt', '12345');
    await expect(files.read(file, 4, signal)).rejects.toBeInstanceOf(FileAccessError);
    await expect(files.write(path.join(file, 'child'), Buffer.from('x'), signal)).rejects.toBeInstanceOf(FileAccessError);
  });
});

// Shadow-git snapshots on a real git and a real folder, through a local shell (an SSH hand sends
// the very same command lines to its machine).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';
import { shellQuote } from '#services/hands/shell';
import { ShadowSnapshots, type Exec } from './shadow-git.ts';

const exec: Exec = (command) =>
  new Promise((resolve) => {
    execFile('sh', ['-c', command], { encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });

let root: string;
let work: string;
let shadow: ShadowSnapshots;

beforeEach(() => {
  root = tempDir('drover-shadow-');
  work = path.join(root, "my project's files");
  shadow = new ShadowSnapshots(exec, { workDir: work, storeDir: path.join(root, 'store', 'box.git') });
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function git(...args: string[]): Promise<string> {
  return exec(['git', '-C', shellQuote(work), ...args.map(shellQuote)].join(' ')).then((result) => result.stdout.trim());
}

describe('shadow snapshots', () => {
  it('keeps the folder per turn and puts it back, without touching the user’s own repository', async () => {
    expect(await shadow.unavailableReason()).toBeNull();
    mkdirSync(work, { recursive: true });
    await exec(
      `git init -q ${shellQuote(work)} && git -C ${shellQuote(work)} -c user.name=U -c user.email=u@x commit -q --allow-empty -m mine`,
    );
    const userHead = await git('rev-parse', 'HEAD');
    writeFileSync(path.join(work, '.gitignore'), 'node_modules/\n');
    mkdirSync(path.join(work, 'node_modules'));
    writeFileSync(path.join(work, 'node_modules', 'big.js'), 'ignored');
    writeFileSync(path.join(work, 'a.txt'), 'one');

    const first = await shadow.snapshot('turn 1');
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(await shadow.snapshot('turn 1 again')).toBeNull();

    writeFileSync(path.join(work, 'a.txt'), 'two');
    writeFileSync(path.join(work, 'b.txt'), 'new');
    const second = await shadow.snapshot('turn 2');
    expect(second).not.toBe(first);

    await shadow.restore(first as string);
    expect(readFileSync(path.join(work, 'a.txt'), 'utf8')).toBe('one');
    expect(existsSync(path.join(work, 'b.txt'))).toBe(false);
    expect(readFileSync(path.join(work, 'node_modules', 'big.js'), 'utf8')).toBe('ignored');
    await shadow.restore(second as string);
    expect(readFileSync(path.join(work, 'a.txt'), 'utf8')).toBe('two');
    expect(readFileSync(path.join(work, 'b.txt'), 'utf8')).toBe('new');

    // The user's repository: same HEAD, and it never saw Drover's commits.
    expect(await git('rev-parse', 'HEAD')).toBe(userHead);
    expect(await git('log', '--format=%s')).toBe('mine');
    expect(existsSync(path.join(work, '.git', 'HEAD'))).toBe(true);
    expect(await shadow.storeBytes()).toBeGreaterThan(0);
  });

  it('refuses an id that is not a commit, and reports a machine without git', async () => {
    await expect(shadow.restore('HEAD; rm -rf /')).rejects.toThrow(/Not a snapshot id/);
    const noGit = new ShadowSnapshots(async () => ({ code: 1, stdout: '', stderr: '' }), { workDir: work, storeDir: root });
    expect(await noGit.unavailableReason()).toMatch(/git is not installed/);
  });
});

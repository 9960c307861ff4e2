// `npm run serve` as a user runs it: the real entry point in a child process.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';

const root = path.resolve(import.meta.dirname, '../..');
const entry = path.join(root, 'electron/serve/index.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function serve(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const dataDir = tempDir('drover-serve-cli-');
  dirs.push(dataDir);
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, DROVER_DATA_DIR: dataDir },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run serve', () => {
  it('refuses a short --token with the rule and exit code 2, without a stack trace', () => {
    const result = serve('--port', '0', '--token', 'short');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--token was refused: A serve token must be 16–256 characters of letters, digits, "-" or "_".');
    expect(result.stderr).toContain('Leave --token out');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).not.toContain('http://');
  });

  it('says the token rule in --help', () => {
    const result = serve('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('16–256 characters of letters, digits, "-" or "_"');
  });
});

// The installed app: `npm run dist:dir`'s unpacked Drover (electron-builder's layout for this OS,
// better-sqlite3's Electron build in app.asar.unpacked) starts, is packaged, opens its window,
// answers an RPC call from its store, keeps its data folder private and writes its log file.
//
// Runs only where the Electron binary is installed (see e2e/support/electron.ts); packs with that
// Electron (--electron-dist), so nothing else is downloaded but better-sqlite3's Electron build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron, expect, test } from '@playwright/test';
import type { DispatchOutcome, DroverBridge } from '#shared/rpc';
import { electronDistDir, electronMissingReason } from '../support/electron.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

const missing = electronMissingReason();
if (missing !== null) console.warn(`[skip] packaged-app e2e: ${missing}`);
test.skip(missing !== null, missing ?? '');

const temporary: string[] = [];
let executable = '';

test.beforeAll(() => {
  test.setTimeout(900_000);
  if (!existsSync(path.join(root, 'out', 'main', 'index.js'))) {
    throw new Error('The app is not built: run `npm run build` before the Electron e2e tests (npm test does).');
  }
  const output = mkdtempSync(path.join(tmpdir(), 'drover-e2e-dist-'));
  temporary.push(output);
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const packed = spawnSync(process.execPath, [tsx, 'scripts/dist.ts', '--dir', '--electron-dist', electronDistDir(), '--output', output], {
    cwd: root,
    encoding: 'utf8',
  });
  if (packed.status !== 0) throw new Error(`npm run dist:dir failed:\n${packed.stdout}\n${packed.stderr}`);
  const made = readdirSync(output).find((name) => name.endsWith('-unpacked') || name.startsWith('mac'));
  if (made === undefined) throw new Error(`electron-builder made no unpacked app in ${output}: ${readdirSync(output).join(', ')}`);
  const dir = path.join(output, made);
  executable =
    process.platform === 'darwin'
      ? path.join(dir, 'Drover.app', 'Contents', 'MacOS', 'Drover')
      : path.join(dir, process.platform === 'win32' ? 'Drover.exe' : 'drover');
});

test.afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

test('the unpacked app starts packaged, answers from its store, keeps its data private and logs to a file', async () => {
  const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'drover-e2e-packaged-')), 'data');
  temporary.push(path.dirname(dataDir));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  delete env['ELECTRON_RUN_AS_NODE'];
  const app = await _electron.launch({ executablePath: executable, args: [], env: { ...env, DROVER_DATA_DIR: dataDir } });
  try {
    const window = await app.firstWindow();
    await window.waitForLoadState('domcontentloaded');
    await expect(window).toHaveTitle('Drover');
    expect(await app.evaluate(({ app: electronApp }) => electronApp.isPackaged)).toBe(true);

    const outcome: DispatchOutcome = await window.evaluate(() =>
      (globalThis as unknown as { drover: DroverBridge }).drover.call('app-info', undefined),
    );
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    if (process.platform !== 'win32') expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    const logFile = await app.evaluate(({ app: electronApp }) => {
      console.error('packaged-e2e log probe');
      return `${electronApp.getPath('logs')}/main.log`;
    });
    await expect.poll(() => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')).toContain('packaged-e2e log probe');
  } finally {
    await app.close();
  }
});

// The real Electron app: the window comes up hardened (sandbox, context isolation, a two-function
// bridge), answers an RPC call, and keeps its size and position across launches.
//
// Runs only where the Electron binary is installed. Unlike the browser project, a missing binary
// is a skip even under CI=true: the machines this project is built on cannot download it
// (installs run with ELECTRON_SKIP_BINARY_DOWNLOAD=1), so failing would make CI always red;
// everything Electron-only is kept thin and its logic unit-tested under Node instead.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import type { DispatchOutcome, DroverBridge } from '#shared/rpc';
import { electronMissingReason } from '../support/electron.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

const missing = electronMissingReason();
if (missing !== null) console.warn(`[skip] electron e2e: ${missing}`);
test.skip(missing !== null, missing ?? '');

const dataDirs: string[] = [];

test.beforeAll(() => {
  if (!existsSync(path.join(root, 'out', 'main', 'index.js'))) {
    throw new Error('The app is not built: run `npm run build` before the Electron e2e tests (npm test does).');
  }
});

test.afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-e2e-electron-'));
  dataDirs.push(dir);
  return dir;
}

/** Starts Drover (the built out/main) on `dataDir` and waits for its window. */
async function launch(dataDir: string): Promise<{ app: ElectronApplication; window: Page }> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  // An inherited ELECTRON_RUN_AS_NODE would start plain Node instead of the app.
  delete env['ELECTRON_RUN_AS_NODE'];
  const app = await _electron.launch({ args: [root], cwd: root, env: { ...env, DROVER_DATA_DIR: dataDir } });
  const window = await app.firstWindow();
  await window.waitForLoadState('domcontentloaded');
  return { app, window };
}

interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The window's normal bounds, as the main process sees them. */
async function bounds(app: ElectronApplication): Promise<Bounds> {
  return app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.getNormalBounds());
}

test('the window is hardened, exposes only the bridge, and answers an RPC call', async () => {
  const dataDir = freshDataDir();
  const { app, window } = await launch(dataDir);
  try {
    await expect(window).toHaveTitle('Drover');
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.getTitle()))).toEqual(['Drover']);

    const page = await window.evaluate(() => {
      const bridge = (globalThis as unknown as { drover?: DroverBridge }).drover;
      return {
        bridgeKeys: bridge === undefined ? null : Object.keys(bridge).sort(),
        callType: typeof bridge?.call,
        onPushType: typeof bridge?.onPush,
        // Sandbox + contextIsolation: no Node in the page, not even through the preload's globals.
        require: typeof require,
        process: typeof process,
        module: typeof (globalThis as { module?: unknown }).module,
      };
    });
    expect(page).toEqual({
      bridgeKeys: ['call', 'onPush'],
      callType: 'function',
      onPushType: 'function',
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
    });

    const outcome: DispatchOutcome = await window.evaluate(() =>
      (globalThis as unknown as { drover: DroverBridge }).drover.call('app-info', undefined),
    );
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    expect(outcome.ok && outcome.result).toMatchObject({ dataDir: path.resolve(dataDir), platform: process.platform });

    const screenshot = path.join(root, 'test-results', 'e2e', 'electron-window.png');
    await test.info().attach('electron-window', { body: await window.screenshot({ path: screenshot }), contentType: 'image/png' });
  } finally {
    await app.close();
  }
});

test('the window keeps its size and position across launches', async () => {
  const dataDir = freshDataDir();
  const wanted = { x: 60, y: 80, width: 1000, height: 700 };

  const first = await launch(dataDir);
  let before: Bounds;
  try {
    await first.app.evaluate(({ BrowserWindow }, rectangle) => BrowserWindow.getAllWindows()[0]!.setBounds(rectangle), wanted);
    // The window manager has the last word on where a window goes: compare with what it allowed.
    await expect.poll(async () => (await bounds(first.app)).width).toBe(wanted.width);
    before = await bounds(first.app);
  } finally {
    await first.app.close();
  }
  expect(existsSync(path.join(dataDir, 'window-state.json'))).toBe(true);

  const second = await launch(dataDir);
  try {
    expect(await bounds(second.app)).toEqual(before);
  } finally {
    await second.app.close();
  }
});

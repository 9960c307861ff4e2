/**
 * Starts the real serve mode (`electron/serve/index.ts`) on a free port with a fresh data folder
 * (or a given one), and hands the test its ready-to-open URL. The UI must have been built
 * (`npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface ServeHandle {
  url: string;
  /** The Managed Agents API's base URL, when it was started (`--api-port`). */
  apiBaseURL: string | null;
  origin: string;
  dataDir: string;
  stop(): Promise<void>;
}

const root = path.resolve(import.meta.dirname, '..', '..');

export interface ServeOptions {
  /** Serve this existing data folder (e.g. sessions prepared beforehand) instead of a fresh one. */
  dataDir?: string;
  /** Leave the data folder in place on stop (default: removed, unless `dataDir` was given). */
  keepDataDir?: boolean;
  /** More command-line arguments (e.g. `['--api-port', '0']`). */
  args?: readonly string[];
}

/** `env` adds variables for the server (e.g. ANTHROPIC_BASE_URL for a local Messages API server). */
export async function startServeMode(env: Record<string, string> = {}, options: ServeOptions = {}): Promise<ServeHandle> {
  if (!existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
    throw new Error('The UI is not built: run `npm run build` before the e2e tests (npm test does).');
  }
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'drover-e2e-'));
  // A folder the caller brought is the caller's to remove, unless it says otherwise.
  const removeOnStop = !(options.keepDataDir ?? options.dataDir !== undefined);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'electron/serve/index.ts', '--port', '0', ...(options.args ?? [])],
    {
      cwd: root,
      env: { ...process.env, ...env, DROVER_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let apiBaseURL: string | null = null;
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve mode did not print its URL in 30 s:\n${output}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const api = /Managed Agents API is at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (api?.[1]) apiBaseURL = api[1];
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve mode exited (${code}):\n${output}`)));
  });
  return {
    url,
    apiBaseURL,
    origin: new URL(url).origin,
    dataDir,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (removeOnStop) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// Proves the layer rules bite: a scratch project with the real layout, the real config and
// real wrong-way imports must fail dependency-cruiser, and its right-way twin must pass.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

let project: string;

function write(file: string, text: string): void {
  const full = path.join(project, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
}

async function violations(files: string[]): Promise<string[]> {
  try {
    await run(depcruise, ['--config', config, '--output-type', 'err', ...files], { cwd: project });
    return [];
  } catch (error) {
    const output = String((error as { stdout?: string }).stdout ?? '');
    return [...output.matchAll(/error (\S+): (\S+) →\s+(\S+)/g)].map((m) => `${m[1]} ${m[2]} -> ${m[3]}`);
  }
}

beforeAll(() => {
  project = mkdtempSync(path.join(tmpdir(), 'drover-import-rules-'));
  symlinkSync(path.join(root, 'node_modules'), path.join(project, 'node_modules'));
  write(
    'package.json',
    JSON.stringify({
      type: 'module',
      imports: {
        '#shared/*': './shared/*.ts',
        '#services/*': './electron/services/*.ts',
        '#rpc/*': './electron/rpc/*.ts',
        '#api/*': './electron/api/*.ts',
      },
    }),
  );
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: { module: 'preserve', moduleResolution: 'bundler', allowImportingTsExtensions: true, noEmit: true },
    }),
  );
  write('shared/contract.ts', "import { z } from 'zod';\nexport const Name = z.string();\nexport type N = string;\n");
  write(
    'electron/services/store.ts',
    "import { readFileSync } from 'node:fs';\nimport { Name } from '#shared/contract';\nexport const x = [readFileSync, Name];\n",
  );
  write('electron/rpc/table.ts', "import { x } from '#services/store';\nexport const y = x;\n");
  write('electron/main/index.ts', "import { app } from 'electron';\nimport { y } from '#rpc/table';\nexport const z = [app, y];\n");
  write('electron/api/routes.ts', "import { y } from '#rpc/table';\nexport const a = y;\n");
  write('electron/serve/index.ts', "import { y } from '#rpc/table';\nimport { a } from '#api/routes';\nexport const s = [y, a];\n");
  write(
    'electron/preload/index.ts',
    "import { contextBridge } from 'electron';\nimport type { N } from '#shared/contract';\nexport const p: N = String(contextBridge);\n",
  );
  write('renderer/app.ts', "import { Name } from '#shared/contract';\nexport const r = Name;\n");
  // The renderer by feature: shared pieces (ui/, client/), features with a public index.ts, the entry.
  write('renderer/src/ui/fields.ts', "import { Name } from '#shared/contract';\nexport const field = Name;\n");
  write('renderer/src/client/transport.ts', "import { field } from '../ui/fields.ts';\nexport const call = field;\n");
  write('renderer/src/hands/draft.ts', "import { call } from '../client/transport.ts';\nexport const draft = call;\n");
  write('renderer/src/hands/index.ts', "export { draft } from './draft.ts';\n");
  write(
    'renderer/src/launch/dialog.ts',
    "import { draft } from '../hands/index.ts';\nimport { field } from '../ui/fields.ts';\nexport const dialog = [draft, field];\n",
  );
  write('renderer/src/launch/index.ts', "export { dialog } from './dialog.ts';\n");
  write('renderer/src/main.ts', "import { dialog } from './launch/index.ts';\nexport const entry = dialog;\n");
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

describe('import rules (dependency-cruiser)', () => {
  it('accepts every import the architecture allows', async () => {
    expect(await violations(['shared', 'electron', 'renderer'])).toEqual([]);
  });

  it.each([
    ['shared/bad.ts', "import { homedir } from 'node:os';\nexport const h = homedir;\n", 'shared-is-pure'],
    ['shared/bad-up.ts', "import { x } from '../electron/services/store.ts';\nexport const h = x;\n", 'shared-is-pure'],
    ['renderer/bad-node.ts', "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n", 'renderer-no-node-or-electron'],
    ['renderer/bad-services.ts', "import { x } from '#services/store';\nexport const b = x;\n", 'renderer-only-shared'],
    ['renderer/bad-electron.ts', "import { ipcRenderer } from 'electron';\nexport const b = ipcRenderer;\n", 'renderer-no-electron'],
    ['electron/services/bad.ts', "import { app } from 'electron';\nexport const b = app;\n", 'services-are-plain-node'],
    ['electron/services/bad-up.ts', "import { y } from '../rpc/table.ts';\nexport const b = y;\n", 'services-are-plain-node'],
    ['electron/rpc/bad.ts', "import { z } from '../main/index.ts';\nexport const b = z;\n", 'rpc-below-hosts'],
    ['electron/rpc/bad-api.ts', "import { a } from '#api/routes';\nexport const b = a;\n", 'rpc-below-hosts'],
    ['electron/api/bad.ts', "import { s } from '../serve/index.ts';\nexport const b = s;\n", 'api-is-a-transport'],
    ['electron/serve/bad.ts', "import { app } from 'electron';\nexport const b = app;\n", 'serve-is-headless'],
    ['electron/main/bad.ts', "import { s } from '../serve/index.ts';\nexport const b = s;\n", 'main-not-serve-or-ui'],
    [
      'electron/preload/bad-value.ts',
      "import { Name } from '#shared/contract';\nexport const b = Name;\n",
      'preload-types-only-from-shared',
    ],
    [
      'renderer/src/ui/bad-feature.ts',
      "import { draft } from '../hands/index.ts';\nexport const b = draft;\n",
      'renderer-ui-imports-no-feature',
    ],
    [
      'renderer/src/client/bad-feature.ts',
      "import { dialog } from '../launch/dialog.ts';\nexport const b = dialog;\n",
      'renderer-ui-imports-no-feature',
    ],
    [
      'renderer/src/launch/bad-internal.ts',
      "import { draft } from '../hands/draft.ts';\nexport const b = draft;\n",
      'renderer-feature-public-surface',
    ],
    ['renderer/src/hands/bad-entry.ts', "import { entry } from '../main.ts';\nexport const b = entry;\n", 'renderer-features-not-entry'],
    ['electron/preload/bad-node.ts', "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n", 'preload-is-thin'],
  ])('rejects %s', async (file, source, rule) => {
    write(file, source);
    try {
      const found = await violations([file]);
      expect(found.some((v) => v.startsWith(`${rule} ${file}`))).toBe(true);
    } finally {
      rmSync(path.join(project, file));
    }
  });

  it('rejects a cycle of imports that run, and lets a type-only one be', async () => {
    write('electron/services/ring-a.ts', "import { b } from './ring-b.ts';\nexport const a = () => b;\n");
    write('electron/services/ring-b.ts', "import { a } from './ring-a.ts';\nexport const b = () => a;\n");
    write('electron/services/types-a.ts', "import type { B } from './types-b.ts';\nexport type A = { b?: B };\n");
    write('electron/services/types-b.ts', "import type { A } from './types-a.ts';\nexport type B = { a?: A };\n");
    try {
      const found = await violations(['electron/services/ring-a.ts', 'electron/services/ring-b.ts']);
      expect(found).toContain('no-circular electron/services/ring-a.ts -> electron/services/ring-b.ts');
      expect(await violations(['electron/services/types-a.ts', 'electron/services/types-b.ts'])).toEqual([]);
    } finally {
      rmSync(path.join(project, 'electron/services/types-a.ts'));
      rmSync(path.join(project, 'electron/services/types-b.ts'));
      rmSync(path.join(project, 'electron/services/ring-a.ts'));
      rmSync(path.join(project, 'electron/services/ring-b.ts'));
    }
  });
});

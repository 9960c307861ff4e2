/**
 * Build configuration for the three Electron bundles: main (ESM, out/main/index.js), preload
 * (CommonJS, out/preload/index.cjs) and the React renderer (out/renderer).
 *
 * The preload must stay CommonJS: Electron cannot load an ESM preload in a sandboxed renderer.
 * Nothing here may relax the renderer's Content-Security-Policy (the meta tag in
 * renderer/index.html); in dev, Vite prepends its inline React Refresh preamble ahead of that
 * tag, where a meta policy does not yet apply, so dev works without loosening it.
 */
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

function fromRoot(...segments: string[]): string {
  return path.resolve(root, ...segments);
}

export default defineConfig({
  main: {
    build: {
      outDir: fromRoot('out', 'main'),
      // Bundle everything except native modules: better-sqlite3 loads a .node binary at run time.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: fromRoot('electron', 'main', 'index.ts') },
        external: ['better-sqlite3'],
      },
    },
  },
  preload: {
    build: {
      outDir: fromRoot('out', 'preload'),
      // A sandboxed preload can require only 'electron' and a few built-ins: bundle the rest.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: fromRoot('electron', 'preload', 'index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: fromRoot('renderer'),
    plugins: [react()],
    build: {
      outDir: fromRoot('out', 'renderer'),
      rolldownOptions: {
        input: fromRoot('renderer', 'index.html'),
      },
    },
  },
});

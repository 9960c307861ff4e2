/**
 * The import rules of ARCHITECTURE.md, checked on resolved files (so `#shared/…` subpath
 * imports, relative paths and type-only imports are all judged by where they really point):
 *   shared → nothing (zod only) · renderer → shared · electron/services → shared, node
 *   electron/rpc → services, shared · electron/main → rpc, services, shared, electron
 *   electron/serve → rpc, services, shared · electron/preload → electron + `import type` from shared
 * Inside the renderer (renderer/src), by feature:
 *   ui/ and client/ (shared pieces) → each other, shared/ and libraries, never a feature
 *   a feature (app, session, timeline, launch, outcome, hands, settings) → its own files, ui/,
 *   client/, and another feature only through that feature's index.ts (its public surface)
 */
const ELECTRON_PKG = '(^|/)node_modules/electron/';
const FEATURES = '(app|session|timeline|launch|outcome|hands|settings)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'shared-is-pure',
      comment: 'shared/ holds contract types: no node, electron, DOM or app imports (zod only).',
      severity: 'error',
      from: { path: '^shared/' },
      to: { pathNot: ['^shared/', '(^|/)node_modules/zod/'] },
    },
    {
      name: 'renderer-only-shared',
      comment: 'The renderer talks to the app only through a Transport; it imports shared/ and UI libraries.',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { pathNot: ['^renderer/', '^shared/', '(^|/)node_modules/'] },
    },
    {
      name: 'renderer-no-node-or-electron',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'renderer-no-electron',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: ELECTRON_PKG },
    },
    {
      name: 'renderer-ui-imports-no-feature',
      comment:
        'renderer/src/ui and renderer/src/client are what every feature shares: they import each other, shared/ and libraries, never a feature or the entry point.',
      severity: 'error',
      from: { path: '^renderer/src/(ui|client)/' },
      to: { pathNot: ['^renderer/src/(ui|client)/', '^shared/', '(^|/)node_modules/'] },
    },
    {
      name: 'renderer-feature-public-surface',
      comment: 'A feature reaches another feature only through its index.ts (what it chose to export), never its internals.',
      severity: 'error',
      from: { path: `^renderer/src/${FEATURES}/` },
      to: { path: `^renderer/src/${FEATURES}/`, pathNot: ['^renderer/src/$1/', `^renderer/src/${FEATURES}/index[.]ts$`] },
    },
    {
      name: 'renderer-features-not-entry',
      comment: 'Features and shared pieces never import the entry point (main.tsx).',
      severity: 'error',
      from: { path: '^renderer/src/[^/]+/' },
      to: { path: '^renderer/src/[^/]+[.]tsx?$' },
    },
    {
      name: 'services-are-plain-node',
      comment: 'electron/services holds all product logic and must run under plain Node: no electron, no upper layers.',
      severity: 'error',
      from: { path: '^electron/services/' },
      to: { path: ['^electron/(rpc|api|main|preload|serve)/', '^renderer/', ELECTRON_PKG] },
    },
    {
      name: 'rpc-below-hosts',
      severity: 'error',
      from: { path: '^electron/rpc/' },
      to: { path: ['^electron/(api|main|preload|serve)/', '^renderer/', ELECTRON_PKG] },
    },
    {
      name: 'api-is-a-transport',
      comment: 'The Managed Agents API is a transport over the host (rpc) and services, like serve mode: no electron, no hosts above it.',
      severity: 'error',
      from: { path: '^electron/api/' },
      to: { path: ['^electron/(main|preload|serve)/', '^renderer/', ELECTRON_PKG] },
    },
    {
      name: 'main-not-serve-or-ui',
      severity: 'error',
      from: { path: '^electron/main/' },
      to: { path: ['^electron/(serve|preload)/', '^renderer/'] },
    },
    {
      name: 'serve-is-headless',
      severity: 'error',
      from: { path: '^electron/serve/' },
      to: { path: ['^electron/(main|preload)/', '^renderer/', ELECTRON_PKG] },
    },
    {
      name: 'preload-is-thin',
      comment: 'The preload is contextBridge only: electron, plus `import type` from shared.',
      severity: 'error',
      from: { path: '^electron/preload/' },
      to: { pathNot: ['^electron/preload/', ELECTRON_PKG, '^shared/'] },
    },
    {
      name: 'preload-types-only-from-shared',
      severity: 'error',
      from: { path: '^electron/preload/' },
      to: { path: '^shared/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment:
        'A cycle of imports that run makes two modules one: neither can be loaded, tested or moved alone, and load order decides what is undefined. Type-only imports vanish when compiled, so a cycle through them is allowed.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    exclude: { path: ['^node_modules', '^out/', 'test/import-rules/fixtures/'] },
  },
};

/**
 * The Electron app: lifecycle, the one window, and the IPC adapter onto the shared RPC dispatcher.
 *
 * Thin on purpose: product logic lives in services and rpc. This file must never expose a
 * channel other than 'drover:call' and 'drover:push', answer a frame that is not the app's own
 * page, or load a URL from the environment in a packaged build.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, screen, session, type IpcMainInvokeEvent } from 'electron';
import { LocalApi } from '#api/local-api';
import { invalidRequest, type Dispatch } from '#rpc/dispatch';
import { createHost } from '#rpc/host';
import { ensureDataDir, resolveDataDir } from '#services/data-dir';
import { selectSqliteBinding } from '#services/native-binding';
import { ManagedDb } from '#services/managed/db';
import { installProcessGuard } from '#services/process-guard';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { startFailure } from '#services/support/start-failure';
import { isAppError } from '#shared/errors';
import { RpcRequestSchema, type AppInfo, type DispatchOutcome, type PushMessage } from '#shared/rpc';
import { menuTemplate } from './menu.ts';
import { createSafeStorageKeySource } from './safe-storage-key-source.ts';
import { hardenSession, hardenWebContents } from './security.ts';
import { createSupport, logsFolder, startSupportLogging } from './support.ts';
import { isTrustedSenderUrl } from './trusted-sender.ts';
import { IpcCallers } from './ipc-callers.ts';
import { loadWindowState, MIN_SIZE, saveWindowState, windowStatePath, type WindowState } from './window-state.ts';

const CALL_CHANNEL = 'drover:call';
const PUSH_CHANNEL = 'drover:push';

/** The IPC request: the RPC envelope without its id (ipcMain.handle pairs replies itself). */
const IpcCallSchema = RpcRequestSchema.omit({ id: true });

// At run time this file is out/main/index.js, next to out/preload and out/renderer.
const outDir = path.join(import.meta.dirname, '..');
const preloadPath = path.join(outDir, 'preload', 'index.cjs');
const rendererFile = path.join(outDir, 'renderer', 'index.html');
/** electron-vite dev sets this; a packaged app must never take its page from the environment. */
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const appUrl = devServerUrl ?? pathToFileURL(rendererFile).href;

// Matches the renderer's background so the window does not flash white before the first paint.
const BACKGROUND = { light: '#f7f7f8', dark: '#17181c' } as const;

// Before anything logs: console.* also goes to the OS's log folder (rotated); crash dumps stay local.
startSupportLogging();

// An error nobody caught is logged with a reference id and the app keeps running while its state
// is intact; in a fault loop it exits (see process-guard.ts). Replaces Electron's error dialog.
const guard = installProcessGuard({ log: (line) => console.error(line), exit: (code) => app.exit(code) });

let mainWindow: BrowserWindow | null = null;
/** Each page load's connection: its own pushes (a terminal's output) and its end (its terminals close). */
const callers = new IpcCallers((contents, message) => {
  if (!contents.isDestroyed() && isTrustedSenderUrl(contents.mainFrame.url, appUrl)) contents.send(PUSH_CHANNEL, message);
});
/** `<dataDir>/window-state.json`; set once start() has opened the store, and no window exists before that. */
let windowStateFile: string | null = null;

app.enableSandbox();
// The single-instance lock lives in Electron's profile folder. With DROVER_DATA_DIR (the e2e tests,
// a second set of sessions) the profile moves into that data folder, so such a Drover is not sent
// to the everyday one's window, and two on the same folder still meet.
if (process.env['DROVER_DATA_DIR']?.trim()) keepProfileIn(resolveDataDir());

if (!app.requestSingleInstanceLock()) {
  // Another Drover owns the data folder; it focuses its window on 'second-instance'.
  app.quit();
} else {
  app.on('second-instance', showMainWindow);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (windowStateFile !== null && BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow(windowStateFile);
  });
  app.whenReady().then(start).catch(failToStart);
}

function start(): void {
  hardenSession(session.defaultSession, appUrl);
  const store = openStore();
  if (store === null) return;

  const info: AppInfo = { version: app.getVersion(), dataDir: store.dataDir, platform: process.platform };
  // safeStorage is asked only now that the app is ready (before, Linux reports 'unknown').
  const vault = Vault.open({
    dataDir: store.dataDir,
    keySource: createSafeStorageKeySource(store.dataDir),
    log: (message, error) => console.error(message, error),
  });
  // Settings → Local API (off by default): the Managed Agents API for programs on this machine.
  let managed: ManagedDb | null = null;
  const log = (message: string, error?: unknown) => console.error(message, error ?? '');
  const localApi = new LocalApi({
    dataDir: store.dataDir,
    context: () => ({ host, store, managed: (managed ??= ManagedDb.open(store.dataDir)), vault, log }),
    log,
  });
  const host = createHost({
    store,
    vault,
    info,
    push,
    baseURL: process.env['ANTHROPIC_BASE_URL'],
    localApi,
    log: (message, error) => console.error(message, error),
  });
  guard.useRedactor((text) => host.redactor.redact(text));
  // Help → Check for Updates…, Open Logs Folder, Copy Diagnostics (electron/main/support.ts).
  const support = createSupport({
    dataDir: store.dataDir,
    dockerStatus: async () => {
      const reason = await host.hands.dockerUnavailableReason();
      return { available: reason === null, reason };
    },
    redact: (text) => host.redactor.redact(text),
  });
  ipcMain.handle(CALL_CHANNEL, (event, request: unknown) => handleCall(host.dispatch, event, request));
  // As saved; a port it cannot have is reported in Settings → Local API, not here.
  localApi.start().catch((error: unknown) => log('The Local API did not start', error));

  let quitting = false;
  app.on('will-quit', (event) => {
    if (quitting) return;
    // Let running turns stop cleanly (nothing half-written) before the store closes.
    event.preventDefault();
    quitting = true;
    ipcMain.removeHandler(CALL_CHANNEL);
    void Promise.allSettled([localApi.close(), host.close(), vault.close()]).finally(() => {
      managed?.close();
      store.close();
      app.quit();
    });
  });

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate(process.platform, (command) => push({ push: 'menu-command', arg: { command } }), {
        isPackaged: app.isPackaged,
        support: support.actions,
      }),
    ),
  );
  windowStateFile = windowStatePath(store.dataDir);
  mainWindow = createMainWindow(windowStateFile);
  support.start();
}

/** Puts Electron's profile (web storage, caches, the single-instance lock) inside `dataDir`. */
function keepProfileIn(dataDir: string): void {
  try {
    // Private first: on its way to the profile, Chromium would create the data folder world-readable.
    ensureDataDir(dataDir);
  } catch {
    return; // openStore() tells the user why the folder cannot be used.
  }
  app.setPath('userData', path.join(dataDir, 'electron'));
}

/** Opens the session store, or tells the user why Drover cannot start and quits. */
function openStore(): SessionStore | null {
  try {
    const nativeBinding = selectSqliteBinding({
      projectRoot: app.getAppPath(),
      electronVersion: process.versions.electron,
      platform: process.platform,
      arch: process.arch,
      runningUnderElectron: true,
      packaged: app.isPackaged,
      resourcesPath: process.resourcesPath,
      exists: existsSync,
    });
    return SessionStore.open({ dataDir: resolveDataDir(), appVersion: app.getVersion(), nativeBinding });
  } catch (error) {
    failToStart(error);
    return null;
  }
}

function failToStart(error: unknown): void {
  if (isAppError(error)) {
    dialog.showErrorBox('Drover cannot start', error.message);
  } else {
    const failure = startFailure(error, logsFolder());
    console.error(failure.logLine, error);
    dialog.showErrorBox('Drover cannot start', failure.message);
  }
  app.quit();
}

async function handleCall(dispatch: Dispatch, event: IpcMainInvokeEvent, request: unknown): Promise<DispatchOutcome> {
  const frame = event.senderFrame;
  // Only the app page's top frame may call: not a subframe, not a page the window was steered to.
  if (frame === null || frame.parent !== null || !isTrustedSenderUrl(frame.url, appUrl)) {
    console.warn(`Refused an RPC call from an untrusted frame (${frame === null ? 'gone' : frame.url || 'no URL'}).`);
    throw new Error('This page may not call Drover.');
  }
  const parsed = IpcCallSchema.safeParse(request);
  if (!parsed.success) return invalidRequest("Drover's window sent a malformed request (restart Drover)", parsed.error);
  return dispatch(parsed.data.name, parsed.data.arg, callers.of(event.sender));
}

/** Sends a push to the window, only while it shows the app's own page. */
function push(message: PushMessage): void {
  const window = mainWindow;
  if (window === null || window.isDestroyed()) return;
  const contents = window.webContents;
  if (contents.isDestroyed() || !isTrustedSenderUrl(contents.mainFrame.url, appUrl)) return;
  contents.send(PUSH_CHANNEL, message);
}

function createMainWindow(stateFile: string): BrowserWindow {
  const state = restoredWindowState(stateFile);
  const window = new BrowserWindow({
    ...(state.x === undefined || state.y === undefined ? { center: true } : { x: state.x, y: state.y }),
    width: state.width,
    height: state.height,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'Drover',
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? BACKGROUND.dark : BACKGROUND.light,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
    },
  });
  window.once('ready-to-show', () => {
    // Here rather than before the first paint: maximize() also shows the window on Windows and Linux.
    if (state.maximized) window.maximize();
    if (state.fullScreen) window.setFullScreen(true);
    window.show();
  });
  window.on('close', () => keepWindowState(window, stateFile));
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  const loaded = devServerUrl === undefined ? window.loadFile(rendererFile) : window.loadURL(devServerUrl);
  loaded.catch((error: unknown) => console.error(`Could not load the Drover window from ${appUrl}:`, error));
  return window;
}

/** The saved window state, fitted to the displays as they are now (a monitor may be gone). */
function restoredWindowState(stateFile: string): WindowState {
  const primary = screen.getPrimaryDisplay();
  // The primary first: a window without a position opens there, so it is sized to fit it.
  const others = screen.getAllDisplays().filter((display) => display.id !== primary.id);
  return loadWindowState(
    stateFile,
    [primary, ...others].map((display) => display.workArea),
  );
}

function keepWindowState(window: BrowserWindow, stateFile: string): void {
  try {
    // Normal bounds: the size to come back to when a maximized or full-screen window is restored.
    saveWindowState(stateFile, { ...window.getNormalBounds(), maximized: window.isMaximized(), fullScreen: window.isFullScreen() });
  } catch (error) {
    // Losing the window's place is not worth stopping the close for.
    console.warn(`Could not save the window's size and position to ${stateFile}:`, error);
  }
}

function showMainWindow(): void {
  if (windowStateFile === null) return;
  if (mainWindow === null || mainWindow.isDestroyed()) {
    mainWindow = createMainWindow(windowStateFile);
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

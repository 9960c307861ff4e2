/**
 * An installed app has no terminal: what the main process says goes to a log file in the OS's log
 * folder (rotated), crashes leave local dumps (never uploaded), and Help offers Open Logs Folder,
 * Copy Diagnostics and Check for Updates…. Thin glue over Electron, electron-log and
 * electron-updater: what to write, keep and ask is decided in electron/services/support/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { app, BrowserWindow, clipboard, crashReporter, dialog, shell } from 'electron';
import log from 'electron-log/main';
import electronUpdater from 'electron-updater';
import { diagnosticsText } from '#services/support/diagnostics';
import { rotateLogFiles } from '#services/support/log-rotation';
import { updatePrompts, updatesConfigured, type Prompt } from '#services/support/updates';
import type { SupportActions } from './menu.ts';

const LOG_MAX_BYTES = 5 * 1024 * 1024;
const LOG_FILES_KEPT = 5;

/** The folder of main.log (Electron's logs path: ~/Library/Logs/Drover, or `logs` in the profile folder). */
export function logsFolder(): string {
  return app.getPath('logs');
}

/**
 * Sends console.* to `<logs>/main.log` (0600) as well as the terminal (every existing log line, the
 * references of unexpected errors included), rotated at 5 MiB keeping 5 old files, and keeps crash
 * dumps on this computer. Call before anything logs.
 */
export function startSupportLogging(): void {
  log.transports.file.resolvePathFn = () => path.join(logsFolder(), 'main.log');
  // Readable by the user alone, like the data folder's files: paths and session names appear in it.
  log.transports.file.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };
  log.transports.file.maxSize = LOG_MAX_BYTES;
  log.transports.file.archiveLogFn = (file) => rotateLogFiles(file.path, LOG_FILES_KEPT, (message) => process.stderr.write(`${message}\n`));
  Object.assign(console, log.functions);
  crashReporter.start({ uploadToServer: false });
}

export interface SupportContext {
  dataDir: string;
  /** Whether the Docker engine answers (the host's 'docker-status'). */
  dockerStatus: () => Promise<{ available: boolean; reason: string | null }>;
  /** The host's redactor: hides stored secret values. */
  redact: (text: string) => string;
}

/** Help's support items, and the one automatic update check at start (when updates are configured). */
export function createSupport(context: SupportContext): { actions: SupportActions; start: () => void } {
  const updates = createUpdates();
  const actions: SupportActions = {
    checkForUpdates: () => void updates.check(true),
    openLogsFolder: () => {
      const folder = logsFolder();
      mkdirSync(folder, { recursive: true });
      void shell.openPath(folder).then((problem) => {
        if (problem)
          void show({
            title: 'Logs',
            message: `Could not open ${folder}.`,
            detail: `${problem}. Open it from a file manager.`,
            buttons: ['OK'],
          });
      });
    },
    copyDiagnostics: () => {
      void context
        .dockerStatus()
        .catch((error: unknown) => ({ available: false, reason: error instanceof Error ? error.message : String(error) }))
        .then(async (docker) => {
          const text = diagnosticsText(
            {
              app: { version: app.getVersion(), packaged: app.isPackaged },
              versions: process.versions,
              os: { platform: process.platform, release: os.release(), arch: process.arch, version: os.version() },
              dataDir: context.dataDir,
              logsDir: logsFolder(),
              crashDumpsDir: app.getPath('crashDumps'),
              docker,
              updates: updates.configured ? 'on (asks before downloading)' : 'off',
              home: os.homedir(),
            },
            context.redact,
          );
          await clipboard.writeText(text);
          return show({
            title: 'Diagnostics',
            message: 'Copied to the clipboard: paste it into your report.',
            detail: text,
            buttons: ['OK'],
          });
        });
    },
  };
  return { actions, start: () => void (updates.configured ? updates.check(false) : undefined) };
}

function createUpdates(): { configured: boolean; check: (asked: boolean) => Promise<void> } {
  const configured = updatesConfigured({
    packaged: app.isPackaged,
    resourcesPath: process.resourcesPath,
    exists: existsSync,
  });
  if (!configured) {
    return { configured, check: async (asked) => void (asked ? await show(updatePrompts.notConfigured()) : undefined) };
  }
  const { autoUpdater } = electronUpdater;
  autoUpdater.autoDownload = false; // never without the user's say
  autoUpdater.logger = log;
  let busy = false;
  return {
    configured,
    check: async (asked) => {
      if (busy) return;
      busy = true;
      try {
        const result = await autoUpdater.checkForUpdates();
        const next = result?.updateInfo.version;
        if (result === null || !result.isUpdateAvailable || next === undefined) {
          if (asked) await show(updatePrompts.upToDate(app.getVersion()));
          return;
        }
        if ((await show(updatePrompts.available(app.getVersion(), next))) !== 0) return;
        await autoUpdater.downloadUpdate();
        if ((await show(updatePrompts.downloaded(next))) === 0) autoUpdater.quitAndInstall();
      } catch (error) {
        console.error('Checking for or downloading an update failed', error);
        if (asked) await show(updatePrompts.failed(error));
      } finally {
        busy = false;
      }
    },
  };
}

/** Shows `prompt` (over the window when there is one); resolves to the index of the button chosen. */
async function show(prompt: Prompt): Promise<number> {
  const window = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  const options = {
    type: 'info' as const,
    title: prompt.title,
    message: prompt.message,
    detail: prompt.detail,
    buttons: prompt.buttons,
    defaultId: 0,
    cancelId: prompt.buttons.length - 1,
  };
  const { response } = window === undefined ? await dialog.showMessageBox(options) : await dialog.showMessageBox(window, options);
  return response;
}

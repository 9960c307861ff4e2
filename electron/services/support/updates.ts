/**
 * Updates of an installed app (electron-updater), decided here and asked in electron/main/updates.ts.
 *
 * Off unless this build names an update source: electron-builder writes `app-update.yml` into the
 * app's resources only when its configuration has a `publish` provider (electron-builder.yml has
 * none, so builds from this repository never look for updates unless a release build adds one).
 * A check never downloads: the user is asked first, and asked again before the restart that installs.
 */
import path from 'node:path';

/** The update source file electron-builder writes beside app.asar when a publish provider is configured. */
export function updateConfigFile(resourcesPath: string): string {
  return path.join(resourcesPath, 'app-update.yml');
}

/** Whether this app may look for updates at all: packaged, with an update source. */
export function updatesConfigured(context: { packaged: boolean; resourcesPath: string; exists: (file: string) => boolean }): boolean {
  return context.packaged && context.exists(updateConfigFile(context.resourcesPath));
}

export interface Prompt {
  title: string;
  message: string;
  detail: string;
  /** The buttons, the one that goes ahead first. */
  buttons: [string, string] | [string];
}

/** What the user is told (and asked) at each step of a check. */
export const updatePrompts = {
  notConfigured: (): Prompt => ({
    title: 'Updates',
    message: 'This copy of Drover does not look for updates.',
    detail: 'It was built without an update source (or runs from source). Get new versions where you got this one.',
    buttons: ['OK'],
  }),
  upToDate: (version: string): Prompt => ({
    title: 'Updates',
    message: `Drover ${version} is the latest version.`,
    detail: 'There is nothing to download.',
    buttons: ['OK'],
  }),
  available: (current: string, next: string): Prompt => ({
    title: 'Update available',
    message: `Drover ${next} is available (you have ${current}).`,
    detail: 'Download it now? Nothing is downloaded unless you say so; you choose when to restart.',
    buttons: ['Download', 'Not now'],
  }),
  downloaded: (next: string): Prompt => ({
    title: 'Update ready',
    message: `Drover ${next} has been downloaded.`,
    detail: 'Restart Drover to install it? Running turns stop cleanly first; otherwise it installs when you next quit.',
    buttons: ['Restart now', 'Later'],
  }),
  failed: (error: unknown): Prompt => ({
    title: 'Updates',
    message: 'Drover could not check for or download the update.',
    detail: `${error instanceof Error ? error.message : String(error)}. Check your connection and try again (Help → Check for Updates…).`,
    buttons: ['OK'],
  }),
};

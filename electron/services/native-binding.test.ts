import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { electronSqliteBinding, packagedSqliteBinding, selectSqliteBinding, type BindingContext } from './native-binding.ts';

const base: BindingContext = {
  projectRoot: '/src/drover',
  electronVersion: '45.4.1',
  platform: 'linux',
  arch: 'x64',
  runningUnderElectron: true,
  packaged: false,
  resourcesPath: '/opt/Drover/resources',
  exists: () => true,
};

describe('selectSqliteBinding', () => {
  it("uses the module's own (Node) build under plain Node", () => {
    expect(selectSqliteBinding({ ...base, runningUnderElectron: false, exists: () => false })).toBeUndefined();
  });

  it("uses the Electron build outside the asar archive in a packaged app, never the checkout's", () => {
    const looked: string[] = [];
    const exists = (file: string) => (looked.push(file), true);
    expect(selectSqliteBinding({ ...base, packaged: true, exists })).toBe(
      path.join('/opt/Drover/resources/app.asar.unpacked/node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    );
    expect(looked).toEqual([packagedSqliteBinding('/opt/Drover/resources')]);
  });

  it('tells the user to reinstall when a packaged app lacks its database module', () => {
    expect(() => selectSqliteBinding({ ...base, packaged: true, exists: () => false })).toThrow(
      /installation of Drover is incomplete.*app\.asar\.unpacked.*Reinstall Drover/,
    );
  });

  it('uses the per-version Electron build beside node_modules in a checkout', () => {
    expect(selectSqliteBinding(base)).toBe(
      path.join('/src/drover/node_modules/.drover-native/better-sqlite3-electron-45.4.1-linux-x64/build/Release/better_sqlite3.node'),
    );
  });

  it('keeps one build per Electron version and architecture', () => {
    expect(electronSqliteBinding({ ...base, electronVersion: '46.0.0' })).not.toBe(electronSqliteBinding(base));
    expect(electronSqliteBinding({ ...base, arch: 'arm64' })).not.toBe(electronSqliteBinding(base));
  });

  it('says how to build it when it is missing', () => {
    let error: unknown;
    try {
      selectSqliteBinding({ ...base, exists: () => false });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/not been built for Electron 45\.4\.1.*npm start/);
  });
});

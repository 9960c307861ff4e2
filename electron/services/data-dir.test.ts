import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDataDir } from './data-dir.ts';

describe('resolveDataDir', () => {
  const home = '/home/ada';

  it('follows each OS convention', () => {
    expect(resolveDataDir({ env: {}, platform: 'linux', home })).toBe('/home/ada/.local/share/drover');
    expect(resolveDataDir({ env: { XDG_DATA_HOME: '/data/ada' }, platform: 'linux', home })).toBe('/data/ada/drover');
    expect(resolveDataDir({ env: {}, platform: 'darwin', home })).toBe('/home/ada/Library/Application Support/Drover');
    expect(resolveDataDir({ env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, platform: 'win32', home: 'C:\\Users\\ada' })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\Drover',
    );
    expect(resolveDataDir({ env: {}, platform: 'win32', home: 'C:\\Users\\ada' })).toBe('C:\\Users\\ada\\AppData\\Roaming\\Drover');
  });

  it('ignores a relative XDG_DATA_HOME, as the XDG spec requires', () => {
    expect(resolveDataDir({ env: { XDG_DATA_HOME: 'relative/dir' }, platform: 'linux', home })).toBe('/home/ada/.local/share/drover');
  });

  it('is overridden by DROVER_DATA_DIR on every OS, resolved to an absolute path', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(resolveDataDir({ env: { DROVER_DATA_DIR: '/srv/drover' }, platform, home })).toBe(path.resolve('/srv/drover'));
    }
    expect(resolveDataDir({ env: { DROVER_DATA_DIR: 'rel' }, platform: 'linux', home })).toBe(path.resolve('rel'));
    expect(resolveDataDir({ env: { DROVER_DATA_DIR: '  ' }, platform: 'linux', home })).toBe('/home/ada/.local/share/drover');
  });
});

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateConfigFile, updatePrompts, updatesConfigured } from './updates.ts';

describe('updatesConfigured', () => {
  const resourcesPath = '/opt/Drover/resources';
  const withFile = (file: string) => file === path.join(resourcesPath, 'app-update.yml');

  it('is on only for a packaged app whose build named an update source (app-update.yml)', () => {
    expect(updateConfigFile(resourcesPath)).toBe(path.join(resourcesPath, 'app-update.yml'));
    expect(updatesConfigured({ packaged: true, resourcesPath, exists: withFile })).toBe(true);
    expect(updatesConfigured({ packaged: true, resourcesPath, exists: () => false })).toBe(false);
    expect(updatesConfigured({ packaged: false, resourcesPath, exists: withFile })).toBe(false);
  });
});

describe('updatePrompts', () => {
  it('asks before downloading, with going ahead first', () => {
    const prompt = updatePrompts.available('0.1.0', '0.2.0');
    expect(prompt.message).toBe('Drover 0.2.0 is available (you have 0.1.0).');
    expect(prompt.detail).toMatch(/Nothing is downloaded unless you say so/);
    expect(prompt.buttons).toEqual(['Download', 'Not now']);
  });

  it('asks before the restart that installs', () => {
    expect(updatePrompts.downloaded('0.2.0').buttons).toEqual(['Restart now', 'Later']);
  });

  it('says what happened and what to do when a check fails', () => {
    const prompt = updatePrompts.failed(new Error('net::ERR_INTERNET_DISCONNECTED'));
    expect(prompt.detail).toBe('net::ERR_INTERNET_DISCONNECTED. Check your connection and try again (Help → Check for Updates…).');
    expect(updatePrompts.notConfigured().message).toMatch(/does not look for updates/);
  });
});

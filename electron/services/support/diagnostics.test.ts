import { describe, expect, it } from 'vitest';
import { diagnosticsText, type DiagnosticsInput } from './diagnostics.ts';

const input: DiagnosticsInput = {
  app: { version: '0.1.0', packaged: true },
  versions: { node: '22.20.0', electron: '45.4.1', chrome: '142.0.7444.59', v8: '14.2.231' },
  os: { platform: 'linux', release: '6.8.0', arch: 'x64', version: '#1 SMP Debian' },
  dataDir: '/home/ada/.local/share/drover',
  logsDir: '/home/ada/.config/Drover/logs',
  crashDumpsDir: '/home/ada/.config/Drover/Crashpad',
  docker: { available: true, reason: null },
  updates: 'off',
  home: '/home/ada',
  now: new Date('2026-12-03T15:00:00Z'),
};

describe('diagnosticsText', () => {
  it('says the versions, the OS, the folders, Docker and updates, one per line', () => {
    expect(diagnosticsText(input)).toBe(
      [
        'Drover 0.1.0',
        'Electron 45.4.1 · Node 22.20.0 · Chrome 142.0.7444.59 · V8 14.2.231',
        'OS: linux 6.8.0 (x64) — #1 SMP Debian',
        'Data folder: ~/.local/share/drover',
        'Logs: ~/.config/Drover/logs',
        'Crash dumps: ~/.config/Drover/Crashpad',
        'Docker: the engine answers',
        'Updates: off',
        'Copied: 2026-12-03T15:00:00.000Z',
        '',
      ].join('\n'),
    );
  });

  it("explains an absent Docker with the engine's reason, home folder shortened", () => {
    const text = diagnosticsText({
      ...input,
      app: { version: '0.1.0', packaged: false },
      docker: { available: false, reason: 'The Docker engine is not reachable at /home/ada/.docker/run/docker.sock (ENOENT)' },
    });
    expect(text).toContain('Drover 0.1.0 (from source)');
    expect(text).toContain('Docker: not available — The Docker engine is not reachable at ~/.docker/run/docker.sock (ENOENT)');
    expect(text).not.toContain('/home/ada');
  });

  it('runs the redactor over everything, so a stored secret never leaves in it', () => {
    const text = diagnosticsText(
      { ...input, docker: { available: false, reason: 'engine tcp://10.0.0.2:2376 refused token sk-ant-secret' } },
      (line) => line.replaceAll('sk-ant-secret', '[secret “key” redacted]'),
    );
    expect(text).not.toContain('sk-ant-secret');
    expect(text).toContain('[secret “key” redacted]');
  });

  it('holds nothing it was not given (no environment variables)', () => {
    process.env['DROVER_DIAGNOSTICS_PROBE'] = 'probe-value-123';
    try {
      expect(diagnosticsText(input)).not.toContain('probe-value-123');
    } finally {
      delete process.env['DROVER_DIAGNOSTICS_PROBE'];
    }
  });

  it('says serve mode when there is no Electron', () => {
    expect(diagnosticsText({ ...input, versions: { node: '22.20.0' } })).toContain('Electron — (serve mode) · Node 22.20.0 · Chrome —');
  });
});

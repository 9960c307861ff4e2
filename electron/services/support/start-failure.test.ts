import { describe, expect, it } from 'vitest';
import { startFailure } from './start-failure.ts';

describe('startFailure', () => {
  it('gives the dialog and the log line the same reference, and says where the log is', () => {
    const failure = startFailure(new Error('EACCES: permission denied, open /x.'), '/home/ada/.config/Drover/logs', 'a1b2c3d4');
    expect(failure.logLine).toBe('Drover failed to start (reference a1b2c3d4):');
    expect(failure.message).toBe(
      'Something unexpected went wrong while starting (reference a1b2c3d4): EACCES: permission denied, open /x. ' +
        'Try again; if it keeps happening, report it with this reference and the log in /home/ada/.config/Drover/logs (main.log).',
    );
  });

  it('makes a fresh eight-hex-digit reference each time', () => {
    const first = startFailure('boom', '/logs').reference;
    expect(first).toMatch(/^[0-9a-f]{8}$/);
    expect(startFailure('boom', '/logs').reference).not.toBe(first);
  });
});

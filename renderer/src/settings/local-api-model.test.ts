import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_API_PORT } from '#shared/local-api';
import { baseUrlOf, parseImage, parsePort, sdkSnippet } from './local-api-model.ts';

describe('Settings → Local API', () => {
  it('takes a port from 1 to 65535, empty as the default, and says what is wrong with anything else', () => {
    expect(parsePort(' 8485 ')).toEqual({ ok: true, port: 8485 });
    expect(parsePort('1')).toEqual({ ok: true, port: 1 });
    expect(parsePort('65535')).toEqual({ ok: true, port: 65535 });
    expect(parsePort('')).toEqual({ ok: true, port: DEFAULT_LOCAL_API_PORT });
    expect(parsePort('0')).toEqual({ ok: false, problem: 'A port is a number from 1 to 65535.' });
    expect(parsePort('65536')).toEqual({ ok: false, problem: 'A port is a number from 1 to 65535.' });
    expect(parsePort('80a')).toEqual({ ok: false, problem: '“80a” is not a port: type a number from 1 to 65535.' });
    expect(parsePort('-1')).toMatchObject({ ok: false });
    expect(parsePort('84.5')).toMatchObject({ ok: false });
  });

  it('takes an image reference for cloud environments (trimmed) and says what is wrong with anything else', () => {
    expect(parseImage(' debian:bookworm-slim ')).toEqual({ ok: true, image: 'debian:bookworm-slim' });
    expect(parseImage('registry.example.com:5000/team/tools:1.2')).toEqual({ ok: true, image: 'registry.example.com:5000/team/tools:1.2' });
    expect(parseImage('busybox@sha256:0123abcd')).toEqual({ ok: true, image: 'busybox@sha256:0123abcd' });
    expect(parseImage('  ')).toEqual({ ok: false, problem: 'Type an image for cloud environments, like "debian:bookworm-slim".' });
    expect(parseImage('Bad Image!')).toEqual({
      ok: false,
      problem: '“Bad Image!” is not an image reference: an image reference is like "debian:bookworm" or "host:5000/team/image:tag".',
    });
    expect(parseImage('-v /:/host')).toMatchObject({ ok: false, problem: expect.stringContaining('is not an image reference') });
    expect(parseImage(`a${'b'.repeat(600)}`)).toEqual({ ok: false, problem: 'An image reference is at most 512 characters.' });
  });

  it('shows the running base URL, else the one the port would give', () => {
    const running = {
      enabled: true,
      port: 9000,
      baseURL: 'http://127.0.0.1:9000',
      running: true,
      error: null,
      tokenHint: 'abcd',
      environment_image: 'debian:bookworm-slim',
    };
    expect(baseUrlOf(running, 1234)).toBe('http://127.0.0.1:9000');
    expect(baseUrlOf({ ...running, baseURL: null, running: false }, 1234)).toBe('http://127.0.0.1:1234');
    expect(baseUrlOf(null, 8485)).toBe('http://127.0.0.1:8485');
  });

  it('fills the SDK snippet with the base URL and never with a token', () => {
    const snippet = sdkSnippet('http://127.0.0.1:8485');
    expect(snippet).toContain("new Anthropic({ baseURL: 'http://127.0.0.1:8485', apiKey: process.env.DROVER_API_TOKEN })");
    expect(snippet).toContain("import Anthropic from '@anthropic-ai/sdk';");
  });
});

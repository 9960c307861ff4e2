import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_API_PORT } from '#shared/local-api';
import { baseUrlOf, parsePort, sdkSnippet } from './local-api-model.ts';

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

  it('shows the running base URL, else the one the port would give', () => {
    const running = { enabled: true, port: 9000, baseURL: 'http://127.0.0.1:9000', running: true, error: null, tokenHint: 'abcd' };
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

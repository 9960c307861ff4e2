import { describe, expect, it } from 'vitest';
import { keyLineOf, workerSnippet } from './environment-keys-model.ts';

describe('Settings → Local API → Environment keys', () => {
  it('says what a row’s key is without it: its last 4 characters and when it was made, or that workers are refused', () => {
    expect(keyLineOf({ environment_id: 'env_1', name: 'laptop', hint: 'Ab_9', created_at: '2026-12-03T12:58:04.123Z' })).toBe(
      'Key ends in …Ab_9, made 2026-12-03 12:58 UTC.',
    );
    expect(keyLineOf({ environment_id: 'env_1', name: 'laptop', hint: null, created_at: null })).toBe(
      'No key: workers are refused. Make one to let a worker in.',
    );
  });

  it('gives the SDK worker snippet with the base URL and environment, the key read from the environment, never filled in', () => {
    const snippet = workerSnippet('http://127.0.0.1:8485', 'env_01');
    expect(snippet).toContain("baseURL: 'http://127.0.0.1:8485'");
    expect(snippet).toContain("environmentId: 'env_01'");
    expect(snippet).toContain('process.env.DROVER_ENVIRONMENT_KEY');
    expect(snippet).not.toMatch(/drover-env-/);
  });
});

import { describe, expect, it } from 'vitest';
import type { SecretMeta } from '#shared/vault';
import { handNameFor, importMcpConfig, ImportError, type SecretToStore } from './import-config.ts';

function recorder(): { stored: SecretToStore[]; storeSecret: (secret: SecretToStore) => Promise<SecretMeta> } {
  const stored: SecretToStore[] = [];
  return {
    stored,
    storeSecret: (secret) => {
      stored.push(secret);
      const now = new Date(0).toISOString();
      return Promise.resolve({
        id: `sec_${String(stored.length).padStart(16, '0')}`,
        name: secret.name,
        kind: secret.kind,
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
        lastUsedFor: null,
      });
    },
  };
}

describe('importing a Claude Desktop MCP config', () => {
  it('makes hand names from server keys: lowercase, dashes, a letter first, unique', () => {
    const taken = new Set(['github']);
    expect(handNameFor('GitHub', taken)).toBe('github-2');
    expect(handNameFor('brave_search', taken)).toBe('brave-search');
    expect(handNameFor('2fa tool', taken)).toBe('mcp-2fa-tool');
    expect(handNameFor('a'.repeat(60), taken)).toBe('a'.repeat(28));
    expect(handNameFor('***', taken)).toBeNull();
  });

  it('moves credential-looking env values and Authorization headers to the vault, keeps the rest as values', async () => {
    const { stored, storeSecret } = recorder();
    const result = await importMcpConfig(
      JSON.stringify({
        mcpServers: {
          github: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-github'],
            env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_x1', LOG_LEVEL: 'debug', PORT: 8080 },
          },
          api: {
            url: 'https://api.example.com/mcp',
            headers: { Authorization: 'Bearer tok123', 'X-Api-Key': 'k-999', Accept: 'application/json' },
          },
          templated: { command: 'srv', env: { API_KEY: '${API_KEY}' } },
          off: { command: 'srv', disabled: true },
        },
      }),
      { storeSecret, takenSecretNames: ['GitHub GITHUB_PERSONAL_ACCESS_TOKEN'] },
    );
    expect(stored).toEqual([
      { name: 'github GITHUB_PERSONAL_ACCESS_TOKEN (2)', kind: 'token', value: 'ghp_x1' },
      { name: 'api Authorization', kind: 'token', value: 'tok123' },
      { name: 'api X-Api-Key', kind: 'http-header', value: 'k-999' },
    ]);
    const [github, api, templated, off] = result.servers;
    expect(github?.config).toMatchObject({
      enabled: true,
      transport: {
        type: 'stdio',
        command: 'npx',
        env: {
          GITHUB_PERSONAL_ACCESS_TOKEN: { secret_id: 'sec_0000000000000001' },
          LOG_LEVEL: { value: 'debug' },
          PORT: { value: '8080' },
        },
      },
    });
    expect(api?.config.transport).toEqual({
      type: 'http',
      url: 'https://api.example.com/mcp',
      headers: { 'X-Api-Key': { secret_id: 'sec_0000000000000003' }, Accept: { value: 'application/json' } },
      bearer_secret_id: 'sec_0000000000000002',
    });
    expect(templated?.notes.join(' ')).toMatch(/\$\{API_KEY\}, which Drover does not expand/);
    expect(off?.config.enabled).toBe(false);
    expect(JSON.stringify(result)).not.toMatch(/ghp_x1|tok123|k-999/);
  });

  it('skips entries it cannot use, with the reason, and refuses files that are not MCP configs', async () => {
    const { storeSecret } = recorder();
    const result = await importMcpConfig(
      JSON.stringify({
        servers: { ok: { command: 'srv' }, bad: { command: '' }, creds: { url: 'https://u:p@example.com/mcp' }, odd: 'x' },
      }),
      { storeSecret, takenSecretNames: [] },
    );
    expect(result.servers.map((server) => server.name)).toEqual(['ok']);
    expect(result.skipped).toEqual([
      { key: 'bad', reason: expect.stringMatching(/has no command/) },
      { key: 'creds', reason: expect.stringMatching(/no credentials in it/) },
      { key: 'odd', reason: 'it is not an object' },
    ]);
    await expect(importMcpConfig('nope', { storeSecret, takenSecretNames: [] })).rejects.toThrow(ImportError);
    await expect(importMcpConfig('{"mcpServers": {}}', { storeSecret, takenSecretNames: [] })).rejects.toThrow(/lists no servers/);
    await expect(importMcpConfig('[1]', { storeSecret, takenSecretNames: [] })).rejects.toThrow(/no "mcpServers" object/);
  });
});

import { describe, expect, it } from 'vitest';
import { McpHandConfigSchema, type McpHandConfig, type McpImport } from '#shared/hands';
import { describeMcpTransport } from '#renderer/ui/format.ts';
import {
  draftOfConfig,
  argsOf,
  emptyMcpDraft,
  importNameProblems,
  importRowsOf,
  importSpecsOf,
  mcpConfigKey,
  mcpConfigOf,
  newValueRow,
  nextFreeMcpName,
  placeMcpIssues,
  withServerEnabled,
  withToolEnabled,
  withToolWriting,
  markedButNotOffered,
  type McpDraft,
} from './mcp-form.ts';

const TOKEN = 'sec_0123456789abcdef';

function stdioDraft(changes: Partial<McpDraft> = {}): McpDraft {
  return { ...emptyMcpDraft('mcp'), command: 'npx', args: '-y\n@modelcontextprotocol/server-memory\n', ...changes };
}

describe('nextFreeMcpName', () => {
  it('counts up from mcp', () => {
    expect(nextFreeMcpName([])).toBe('mcp');
    expect(nextFreeMcpName(['mcp', 'box'])).toBe('mcp-2');
    expect(nextFreeMcpName(['mcp', 'mcp-2'])).toBe('mcp-3');
  });
});

describe('argsOf', () => {
  it('takes one argument per line, keeping spaces inside a line and dropping blank lines', () => {
    expect(argsOf('-y\r\n\n/path/with a space/server.js  \n  --flag=a b\n')).toEqual([
      '-y',
      '/path/with a space/server.js',
      '  --flag=a b',
    ]);
    expect(argsOf('')).toEqual([]);
  });
});

describe('mcpConfigOf', () => {
  it('turns a stdio draft into the MCP hand configuration, secrets by id', () => {
    const plain = { ...newValueRow(), key: 'LOG_LEVEL', value: 'debug' };
    const secret = { ...newValueRow(), key: 'API_TOKEN', source: 'secret' as const, secretId: TOKEN };
    const { config } = mcpConfigOf(stdioDraft({ cwd: ' /srv/app ', env: [plain, secret, newValueRow()], timeout: '30' }), []);
    expect(config).toEqual({
      kind: 'mcp',
      transport: {
        type: 'stdio',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-memory'],
        cwd: '/srv/app',
        env: { LOG_LEVEL: { value: 'debug' }, API_TOKEN: { secret_id: TOKEN } },
      },
      enabled: true,
      disabled_tools: [],
      timeout_seconds: 30,
    });
  });

  it('turns an http draft into the configuration with headers and a bearer token', () => {
    const header = { ...newValueRow(), key: 'X-Team', value: 'core' };
    const draft: McpDraft = {
      ...emptyMcpDraft('docs'),
      transport: 'http',
      url: ' https://example.com/mcp ',
      headers: [header],
      bearerId: TOKEN,
      timeout: '',
    };
    expect(mcpConfigOf(draft, []).config).toEqual({
      kind: 'mcp',
      transport: { type: 'http', url: 'https://example.com/mcp', headers: { 'X-Team': { value: 'core' } }, bearer_secret_id: TOKEN },
      enabled: true,
      disabled_tools: [],
      timeout_seconds: 120,
    });
  });

  it('names each problem on its field, in words', () => {
    const noName = { ...newValueRow(), value: 'x' };
    const badName = { ...newValueRow(), key: '1BAD', value: 'x' };
    const noSecret = { ...newValueRow(), key: 'TOKEN', source: 'secret' as const };
    const { problems } = mcpConfigOf(
      stdioDraft({ name: 'My_Server', command: ' ', cwd: 'relative/dir', timeout: '0', env: [noName, badName, noSecret] }),
      [],
    );
    expect(problems).toEqual({
      name: expect.stringContaining('lowercase letters, digits or dashes'),
      command: expect.stringContaining('give the command'),
      cwd: expect.stringContaining('full path'),
      timeout: expect.stringContaining('1 to 3600'),
      [`env:${noName.id}`]: 'give the variable’s name',
      [`env:${badName.id}`]: expect.stringContaining('letters, digits and _'),
      [`env:${noSecret.id}`]: 'choose the secret for TOKEN, or give a plain value',
    });
  });

  it('refuses a taken name, a duplicate header and a URL with credentials', () => {
    const first = { ...newValueRow(), key: 'X-A', value: '1' };
    const twice = { ...newValueRow(), key: 'X-A', value: '2' };
    const draft: McpDraft = {
      ...emptyMcpDraft('docs'),
      transport: 'http',
      url: 'https://user:pw@example.com/mcp',
      headers: [first, twice],
    };
    const { problems } = mcpConfigOf(draft, ['docs']);
    expect(problems?.name).toBe('this session already has a hand called docs');
    expect(problems?.[`header:${twice.id}`]).toBe('X-A is given twice');
    expect(problems?.url).toContain('no credentials in it');
  });

  it('keys a test by the transport only', () => {
    const config = mcpConfigOf(stdioDraft(), []).config as McpHandConfig;
    expect(mcpConfigKey({ ...config, timeout_seconds: 5 })).toBe(mcpConfigKey(config));
    expect(mcpConfigKey({ ...config, transport: { ...config.transport, command: 'node' } as McpHandConfig['transport'] })).not.toBe(
      mcpConfigKey(config),
    );
  });
});

describe('draftOfConfig', () => {
  it('fills the form from a server used before, and gives back the same configuration (turned on, every tool offered)', () => {
    const stdio: McpHandConfig = {
      kind: 'mcp',
      enabled: false,
      disabled_tools: ['echo'],
      timeout_seconds: 30,
      transport: {
        type: 'stdio',
        command: 'npx',
        args: ['-y', 'a b'],
        cwd: '/srv',
        env: { LOG: { value: 'debug' }, TOKEN: { secret_id: 'sec_0123456789abcdef' } },
      },
    };
    const draft = draftOfConfig(stdio, 'again');
    expect(draft).toMatchObject({ name: 'again', transport: 'stdio', command: 'npx', args: '-y\na b', cwd: '/srv', timeout: '30' });
    expect(mcpConfigOf(draft, []).config).toEqual({ ...stdio, enabled: true, disabled_tools: [] });

    const http: McpHandConfig = {
      kind: 'mcp',
      enabled: true,
      disabled_tools: [],
      timeout_seconds: 120,
      transport: {
        type: 'http',
        url: 'https://x.example/mcp',
        headers: { 'X-Team': { value: 'blue' } },
        bearer_secret_id: 'sec_0123456789abcdef',
      },
    };
    expect(mcpConfigOf(draftOfConfig(http, 'web'), []).config).toEqual(http);
  });
});

describe('placeMcpIssues', () => {
  it('puts attach and test issues on their fields, env issues on their row', () => {
    const row = { ...newValueRow(), key: 'API_TOKEN', source: 'secret' as const, secretId: TOKEN };
    const draft = stdioDraft({ env: [row] });
    const placed = placeMcpIssues(
      {
        code: 'invalid-argument',
        message: 'Check the fields.',
        issues: [
          { path: 'hand.name', message: 'bad name' },
          { path: 'hand.config.transport.command', message: 'not found' },
          { path: 'config.transport.env.API_TOKEN.secret_id', message: 'no such secret' },
          { path: 'hand.config.somewhere', message: 'something else' },
        ],
      },
      draft,
    );
    expect(placed).toEqual({
      fields: { name: 'bad name', command: 'not found', [`env:${row.id}`]: 'no such secret' },
      general: ['something else'],
    });
  });

  it('puts a name clash on the name, anything else in general', () => {
    const draft = stdioDraft();
    expect(
      placeMcpIssues({ code: 'conflict', message: 'This session already has a hand named "mcp". Pick another name.' }, draft).fields.name,
    ).toContain('already has a hand named');
    expect(placeMcpIssues({ code: 'internal', message: 'Something broke.' }, draft)).toEqual({ fields: {}, general: ['Something broke.'] });
  });
});

const found: McpImport = {
  servers: [
    {
      name: 'memory',
      config: {
        kind: 'mcp',
        transport: { type: 'stdio', command: 'npx', args: [], cwd: null, env: { API_TOKEN: { secret_id: TOKEN } } },
        enabled: true,
        disabled_tools: [],
        timeout_seconds: 120,
      },
      notes: ['API_TOKEN stored in the vault'],
    },
    {
      name: 'docs',
      config: {
        kind: 'mcp',
        transport: { type: 'http', url: 'https://example.com/mcp', headers: {}, bearer_secret_id: null },
        enabled: true,
        disabled_tools: [],
        timeout_seconds: 120,
      },
      notes: [],
    },
  ],
  skipped: [],
};

describe('import', () => {
  it('selects every server found, checks names, and attaches the selected ones not attached yet', () => {
    const rows = importRowsOf(found);
    expect(rows.map((row) => [row.name, row.selected])).toEqual([
      ['memory', true],
      ['docs', true],
    ]);
    expect(importNameProblems(rows, ['memory'])).toEqual({ memory: 'this session already has a hand called memory' });
    const renamed = rows.map((row) => (row.key === 'docs' ? { ...row, name: 'memory-2' } : { ...row, name: 'memory-2' }));
    expect(importNameProblems(renamed, [])).toEqual({ docs: 'memory-2 is chosen twice: rename one' });
    const done = rows.map((row) =>
      row.key === 'memory' ? { ...row, outcome: { attached: true as const } } : { ...row, name: ' docs-web ' },
    );
    expect(importSpecsOf(done)).toEqual([{ key: 'docs', hand: { name: 'docs-web', config: found.servers[1]?.config } }]);
    expect(importSpecsOf(rows.map((row) => ({ ...row, selected: false })))).toEqual([]);
  });
});

describe('server and tool switches', () => {
  const config = found.servers[0]!.config;
  it('turns the server off and back on', () => {
    expect(withServerEnabled(config, false).enabled).toBe(false);
    expect(withServerEnabled(withServerEnabled(config, false), true)).toEqual(config);
  });
  it('adds a tool to disabled_tools once, and removes it', () => {
    const off = withToolEnabled(withToolEnabled(config, 'echo', false), 'echo', false);
    expect(off.disabled_tools).toEqual(['echo']);
    expect(withToolEnabled(off, 'echo', true).disabled_tools).toEqual([]);
  });
  it('marks a tool as changing files once, and unmarking the last leaves the config as it was (no empty list)', () => {
    const marked = withToolWriting(withToolWriting(config, 'write_file', true), 'write_file', true);
    expect(marked.writing_tools).toEqual(['write_file']);
    const both = withToolWriting(marked, 'move_file', true);
    expect(both.writing_tools).toEqual(['write_file', 'move_file']);
    expect(withToolWriting(both, 'write_file', false).writing_tools).toEqual(['move_file']);
    expect(withToolWriting(withToolWriting(both, 'write_file', false), 'move_file', false)).toEqual(config);
    // The schema keeps names the server does not list; the row shows them as not offered.
    const parsed = McpHandConfigSchema.parse(withToolWriting(config, 'no_such_tool', true));
    expect(parsed.writing_tools).toEqual(['no_such_tool']);
    expect(markedButNotOffered(both, [{ name: 'write_file' }, { name: 'read_file' }])).toEqual(['move_file']);
    expect(markedButNotOffered(config, [])).toEqual([]);
  });
});

describe('describeMcpTransport', () => {
  it('quotes arguments with spaces, and gives a URL as is', () => {
    expect(describeMcpTransport({ type: 'stdio', command: 'node', args: ['/my dir/server.js', '--x'], cwd: null, env: {} })).toBe(
      'node "/my dir/server.js" --x',
    );
    expect(describeMcpTransport({ type: 'http', url: 'https://example.com/mcp', headers: {}, bearer_secret_id: null })).toBe(
      'https://example.com/mcp',
    );
  });
});

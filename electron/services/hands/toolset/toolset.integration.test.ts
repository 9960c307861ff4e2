// Managed Agents' toolset (bash, read, write, edit, glob, grep) on a real Docker container, through
// the registry and a real session store in a temp dir: the tools' results on real files, the
// unprefixed names, tools turned off, one toolset hand per session, and an environment whose
// limited networking means no network at all.
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandConfig } from '#shared/hands';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { ToolOutcome } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { environmentHandSpec } from '#services/managed/environment-hand';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function rig(config: Partial<Extract<HandConfig, { kind: 'docker' }>> | null = {}) {
  const dir = tempDir('drover-toolset-');
  const store = SessionStore.open({ dataDir: dir });
  const instance = instanceIdOf(dir);
  const registry = new HandRegistry({ store, docker: new DockerEngine({ instance }), log: () => undefined });
  const { id: sessionId } = store.createSession({ title: 'toolset' });
  if (config !== null) {
    registry.attach(sessionId, {
      name: 'env',
      config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', toolset: { type: 'agent_toolset_20260401' }, ...config },
    });
  }
  cleanups.push(async () => {
    await registry.close();
    await registry.sessionDeleted(sessionId);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (tool: string, input: Record<string, unknown>): Promise<ToolOutcome & { text: string }> => {
    const hands = await registry.handsFor(sessionId);
    const hand = hands.find((candidate) => candidate.tools().some((spec) => spec.name === tool));
    if (!hand) throw new Error(`no hand offers ${tool}`);
    const outcome = await hand.execute(tool, input, { signal: new AbortController().signal });
    return { ...outcome, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
  };
  return { store, registry, sessionId, run };
}

describe.runIf(ready)('the agent toolset on a Docker hand', () => {
  it('offers bash, read, write, edit, glob and grep under those names, with the SDK’s input schemas', async () => {
    const r = rig();
    const [hand] = await r.registry.handsFor(r.sessionId);
    expect(hand?.tools().map((tool) => tool.name)).toEqual(['bash', 'read', 'write', 'edit', 'glob', 'grep']);
    expect(r.registry.statuses(r.sessionId)[0]?.tools).toEqual(['bash', 'read', 'write', 'edit', 'glob', 'grep']);
    const read = hand?.tools().find((tool) => tool.name === 'read');
    expect(read?.input_schema).toMatchObject({ required: ['file_path'], properties: { file_path: {}, view_range: {} } });
    expect(hand?.ownToolName?.('read')).toBe('read');
    const targets = await r.registry.policyTargets(r.sessionId, { start: false });
    expect(targets.get('env')).toEqual({ kind: 'docker', tools: ['bash', 'read', 'write', 'edit', 'glob', 'grep'] });
  });

  it('writes, reads, edits, globs and greps real files in the container, and bash sees them', async () => {
    const r = rig();
    const wrote = await r.run('write', { file_path: 'src/app.py', content: 'def greet():\n    return "hello"\n\nprint(greet())\n' });
    expect(wrote).toMatchObject({ isError: false, text: 'Created /workspace/src/app.py (48 bytes, 4 lines).' });
    await r.run('write', { file_path: '/workspace/src/util.py', content: 'HELLO = "hello"\n' });
    await r.run('write', { file_path: '/workspace/README.md', content: '# hello world\n' });
    await r.run('write', { file_path: '/workspace/.git/config', content: 'hello from git\n' });

    expect((await r.run('read', { file_path: 'src/app.py' })).text).toBe(
      '     1\tdef greet():\n     2\t    return "hello"\n     3\t\n     4\tprint(greet())',
    );
    expect((await r.run('read', { file_path: 'src/app.py', view_range: [2, 0] })).text).toBe(
      '     2\t    return "hello"\n     3\t\n     4\tprint(greet())',
    );

    const edited = await r.run('edit', { file_path: 'src/app.py', old_string: '"hello"', new_string: '"hi there"' });
    expect(edited.isError).toBe(false);
    expect(edited.text).toContain('Edited /workspace/src/app.py: replaced one occurrence.');
    expect(edited.text).toContain('     2\t    return "hi there"');
    expect((await r.run('bash', { command: 'cat src/app.py | head -2' })).text).toMatch(
      /^def greet\(\):\n {4}return "hi there"\n\[exit code 0/,
    );

    const glob = await r.run('glob', { pattern: '**/*.py' });
    expect(glob.isError).toBe(false);
    expect(glob.text.split('\n').sort()).toEqual(['/workspace/src/app.py', '/workspace/src/util.py']);
    expect((await r.run('glob', { pattern: '*.{md,txt}' })).text).toBe('/workspace/README.md');
    expect((await r.run('glob', { pattern: '/workspace/src/u*.py' })).text).toBe('/workspace/src/util.py');
    expect((await r.run('glob', { pattern: '**/*.rs' })).text).toBe('No files under /workspace match **/*.rs.');

    const grep = await r.run('grep', { pattern: 'hel+o' });
    expect(grep.isError).toBe(false);
    // .git is skipped; app.py no longer says hello.
    expect(grep.text.split('\n').sort()).toEqual(['/workspace/README.md:1:# hello world', '/workspace/src/util.py:1:HELLO = "hello"']);
    expect((await r.run('grep', { pattern: '^hello', ignore_case: true, glob: '**/*.py' })).text).toBe(
      '/workspace/src/util.py:1:HELLO = "hello"',
    );
    expect((await r.run('grep', { pattern: 'greet', path: 'src/app.py' })).text).toBe(
      '/workspace/src/app.py:1:def greet():\n/workspace/src/app.py:4:print(greet())',
    );

    const bash = await r.run('bash', { command: 'cd src && ls', timeout_ms: 5000 });
    expect(bash.text).toMatch(/^app\.py\nutil\.py\n\[exit code 0/);
    // The shell's directory is where relative paths start.
    expect((await r.run('read', { file_path: 'util.py' })).text).toBe('     1\tHELLO = "hello"');
  });

  it('bash: restart then run in one call, timeout_ms, restart alone', async () => {
    const r = rig();
    await r.run('bash', { command: 'cd /tmp && export X=1' });
    const both = await r.run('bash', { restart: true, command: 'pwd; echo "[$X]"' });
    expect(both.isError).toBe(false);
    expect(both.text).toMatch(/^Started a fresh shell \(sh\) in \/workspace\.\n\/workspace\n\[\]\n\[exit code 0/);
    const slow = await r.run('bash', { command: 'sleep 20', timeout_ms: 1000 });
    expect(slow.isError).toBe(true);
    expect(slow.text).toContain('[timed out after 1 s');
    expect((await r.run('bash', { restart: true })).text).toBe('Started a fresh shell (sh) in /workspace.');
    const empty = await r.run('bash', {});
    expect(empty).toMatchObject({ isError: true });
    expect(empty.text).toContain('give a command (or restart: true)');
  });

  it('says what went wrong, and what to do, as tool errors', async () => {
    const r = rig();
    await r.run('write', { file_path: 'a.txt', content: 'x = 1\nx = 1\n' });
    const missing = await r.run('read', { file_path: 'nope.txt' });
    expect(missing).toMatchObject({ isError: true, text: 'No such file: /workspace/nope.txt. Find files with glob; make one with write.' });
    const twice = await r.run('edit', { file_path: 'a.txt', old_string: 'x = 1', new_string: 'x = 2' });
    expect(twice.isError).toBe(true);
    expect(twice.text).toContain('occurs 2 times in /workspace/a.txt (lines 1, 2)');
    const all = await r.run('edit', { file_path: 'a.txt', old_string: 'x = 1', new_string: 'x = 2', replace_all: true });
    expect(all.text).toContain('replaced 2 occurrences');
    expect((await r.run('read', { file_path: 'a.txt' })).text).toBe('     1\tx = 2\n     2\tx = 2');
    const notFound = await r.run('edit', { file_path: 'a.txt', old_string: 'y', new_string: 'z' });
    expect(notFound.text).toContain('old_string was not found in /workspace/a.txt');
    const badRegex = await r.run('grep', { pattern: '(' });
    expect(badRegex.isError).toBe(true);
    expect(badRegex.text).toContain('bad regex');
    const badInput = await r.run('read', { path: 'a.txt' });
    expect(badInput.isError).toBe(true);
    expect(badInput.text).toMatch(/^The read tool was not run: .*file_path/);
    const folder = await r.run('read', { file_path: '/workspace' });
    expect(folder.text).toContain('/workspace is a folder, not a file');
    const badBash = await r.run('bash', { command: 'true', timeout_seconds: 5 });
    expect(badBash.isError).toBe(true);
    expect(badBash.text).toContain('The bash tool was not run');
  });

  it('a fork inherits the toolset hand: the same unprefixed tools, and the files of its fork point', async () => {
    const r = rig({ toolset: { type: 'agent_toolset_20260401', tools: ['read', 'write', 'grep'] } });
    await r.run('write', { file_path: 'kept.txt', content: 'from the parent\n' });
    const idle = r.store.emitEvent(r.sessionId, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    await r.registry.settled();
    const fork = r.store.fork(r.sessionId, idle.seq);
    cleanups.push(() => r.registry.sessionDeleted(fork.id));
    const [hand] = await r.registry.handsFor(fork.id);
    expect(hand?.tools().map((tool) => tool.name)).toEqual(['read', 'write', 'grep']);
    const read = await hand?.execute('read', { file_path: 'kept.txt' }, { signal: new AbortController().signal });
    expect(read?.content).toEqual([{ type: 'text', text: '     1\tfrom the parent' }]);
  });

  it('offers only the tools that are on; a call to one turned off is refused', async () => {
    const r = rig({ toolset: { type: 'agent_toolset_20260401', tools: ['read', 'glob'] } });
    const [hand] = await r.registry.handsFor(r.sessionId);
    expect(hand?.tools().map((tool) => tool.name)).toEqual(['read', 'glob']);
    const refused = await hand?.execute('bash', { command: 'touch /tmp/x' }, { signal: new AbortController().signal });
    expect(refused).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'There is no tool "bash" here. The tools: read, glob.' }],
    });
  });

  it('refuses a second toolset hand in a session, clearly; a plain Docker hand beside it keeps its prefixed tools', async () => {
    const r = rig();
    expect(() =>
      r.registry.attach(r.sessionId, {
        name: 'other',
        config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', toolset: { type: 'agent_toolset_20260401' } },
      }),
    ).toThrow(/"env" already offers the agent toolset .* Attach "other" without the toolset/);
    r.registry.attach(r.sessionId, { name: 'other', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } });
    const names = (await r.registry.handsFor(r.sessionId)).flatMap((hand) => hand.tools().map((tool) => tool.name));
    expect(names).toEqual(['bash', 'read', 'write', 'edit', 'glob', 'grep', 'other__bash', 'other__editor']);
    expect(r.store.getEvents(r.sessionId, { types: ['hand.attached'] })).toHaveLength(2);
    // Updating the plain hand to the toolset is refused the same way.
    expect(() =>
      r.registry.update(r.sessionId, {
        name: 'other',
        config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', toolset: { type: 'agent_toolset_20260401' } },
      }),
    ).toThrow(/already offers the agent toolset/);
  });

  it('an environment with limited networking and nothing allowed runs with no network at all', async () => {
    const r = rig(null);
    const environment: BetaEnvironment = {
      id: 'env_01',
      type: 'environment',
      name: 'closed',
      description: null,
      archived_at: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      metadata: { 'drover.image': BUSYBOX_IMAGE },
      config: {
        type: 'cloud',
        networking: { type: 'limited', allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false },
        packages: { apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] },
      },
    };
    r.registry.attach(r.sessionId, environmentHandSpec(environment, { defaultImage: 'debian:bookworm-slim', toolset: true }));
    const interfaces = await r.run('bash', { command: 'ls /sys/class/net' });
    expect(interfaces.text).toMatch(/^lo\n\[exit code 0/);
  });
});

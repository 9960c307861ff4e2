// Docker hands against the real Docker engine and images built on this machine (see
// test/support/docker.ts), through the registry and a real session store in a temp dir.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '#shared/events';
import type { HandProgress } from '#shared/hands';
import type { Hand, ToolOutcome } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { DockerEngine, instanceIdOf, LABELS } from './engine.ts';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const execFileAsync = promisify(execFile);
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));

interface Rig {
  store: SessionStore;
  registry: HandRegistry;
  engine: DockerEngine;
  sessionId: string;
  progress: HandProgress[];
  dir: string;
  hand(name?: string): Promise<Hand>;
  run(
    tool: string,
    input: Record<string, unknown>,
    options?: { signal?: AbortSignal; hand?: string },
  ): Promise<ToolOutcome & { text: string }>;
  events<K extends EventType>(type: K): Array<EventOf<K>>;
  containers(): string[];
}

function rig(options: { image?: string; config?: Record<string, unknown>; socketPath?: string } = {}): Rig {
  const dir = tempDir('drover-hands-');
  const store = SessionStore.open({ dataDir: dir });
  const instance = instanceIdOf(dir);
  const engine = new DockerEngine({ instance, ...(options.socketPath ? { socketPath: options.socketPath } : {}) });
  const progress: HandProgress[] = [];
  const registry = new HandRegistry({ store, docker: engine, onProgress: (_id, p) => progress.push(p), log: () => undefined });
  const { id: sessionId } = store.createSession({ title: 'hands' });
  registry.attach(sessionId, {
    name: 'box',
    config: { kind: 'docker', image: options.image ?? BASH_IMAGE, network: 'none', ...options.config },
  });
  const r: Rig = {
    store,
    registry,
    engine,
    sessionId,
    progress,
    dir,
    async hand(name = 'box') {
      const hands = await registry.handsFor(sessionId);
      const found = hands.find((hand) => hand.id === name);
      if (!found) throw new Error(`no hand ${name}`);
      return found;
    },
    async run(tool, input, { signal = new AbortController().signal, hand = 'box' } = {}) {
      const outcome = await (await r.hand(hand)).execute(`${hand}__${tool}`, input, { signal });
      return { ...outcome, text: outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n') };
    },
    events: <K extends EventType>(type: K) => store.getEvents(sessionId, { types: [type] }) as Array<EventOf<K>>,
    containers: () => dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`).split('\n').filter(Boolean),
  };
  cleanups.push(async () => {
    await registry.close();
    // Through the default socket: a test may have cut this rig's own path to the engine.
    await new HandRegistry({ store, docker: new DockerEngine({ instance }), log: () => undefined }).cleanUp();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return r;
}

describe.runIf(ready)('a Docker hand', () => {
  it('starts nothing until the first tool call, then records its start and runs bash there', async () => {
    const r = rig();
    const hand = await r.hand();
    expect(hand.tools().map((tool) => tool.name)).toEqual(['box__bash', 'box__editor']);
    expect(r.containers()).toEqual([]);
    expect(r.registry.statuses(r.sessionId)[0]).toMatchObject({ state: 'idle', container: null, tools: ['box__bash', 'box__editor'] });

    const result = await r.run('bash', { command: 'echo hello from $(hostname); echo $BASH_VERSION | cut -c1' });
    expect(result.isError).toBe(false);
    expect(result.text).toMatch(/^hello from \w+\n5\n\[exit code 0 · [\d.]+ s\]$/);
    expect(r.containers()).toHaveLength(1);
    const types = r.store.getEvents(r.sessionId).map((event) => event.type);
    expect(types).toEqual(['hand.attached', 'hand.provisioning', 'hand.ready']);
    const ready = r.events('hand.ready')[0]?.payload;
    expect(ready).toMatchObject({ hand_id: 'box', image: BASH_IMAGE });
    expect(r.registry.statuses(r.sessionId)[0]).toMatchObject({ state: 'ready', container: ready?.container });
    const labels = JSON.parse(dockerCli('inspect', '--format', '{{json .Config.Labels}}', ready?.container ?? '')) as Record<
      string,
      string
    >;
    expect(labels).toMatchObject({ [LABELS.session]: r.sessionId, [LABELS.hand]: 'box' });
  });

  it('keeps the working directory and variables between calls, reports exit codes, restarts on request', async () => {
    const r = rig();
    await r.run('bash', { command: 'mkdir -p /work/a && cd /work/a && export GREETING=hi && count() { echo 3; }' });
    const second = await r.run('bash', { command: 'pwd; echo $GREETING; count; ls /nope' });
    expect(second.text).toMatch(/^\/work\/a\nhi\n3\nls: \/nope: No such file or directory\n\[exit code 1 · /);
    expect(second.isError).toBe(false);
    const restarted = await r.run('bash', { restart: true });
    expect(restarted.text).toContain('Started a fresh shell (bash) in /workspace');
    expect((await r.run('bash', { command: 'pwd; echo "[$GREETING]"' })).text).toMatch(/^\/workspace\n\[\]\n/);
  });

  it('kills a command at its timeout, with nothing after it running, and carries on in the same directory', async () => {
    const r = rig();
    await r.run('bash', { command: 'cd /tmp' });
    const slow = await r.run('bash', { command: 'echo started; sleep 30; touch /tmp/after', timeout_seconds: 1 });
    expect(slow.isError).toBe(true);
    expect(slow.text).toContain('started\n[timed out after 1 s');
    const next = await r.run('bash', { command: 'pwd; ls /tmp/after 2>&1; ps | grep -c "sleep 3[0]"' });
    expect(next.text).toMatch(/^\/tmp\nls: \/tmp\/after: No such file or directory\n0\n/);
  });

  it('stops a command when the signal aborts', async () => {
    const r = rig();
    await r.run('bash', { command: 'true' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const started = Date.now();
    const result = await r.run('bash', { command: 'sleep 60' }, { signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.isError).toBe(true);
    expect(result.text).toContain('stopped by the user');
    expect((await r.run('bash', { command: 'echo alive' })).text).toMatch(/^alive\n/);
  });

  it('cuts huge output in the middle, keeps ANSI colours, and refuses bad input', async () => {
    const r = rig();
    const big = await r.run('bash', { command: 'seq 1 200000' });
    expect(big.text.length).toBeLessThan(31_000);
    expect(big.text.startsWith('1\n2\n3\n')).toBe(true);
    expect(big.text).toMatch(/characters cut from the middle of the output \([\d,]+ bytes in all\)/);
    expect(big.text).toContain('199999\n200000\n[exit code 0');
    const colour = await r.run('bash', { command: "printf '\\033[31mred\\033[0m\\n'" });
    expect(colour.text).toContain('\u001b[31mred\u001b[0m');
    const bad = await r.run('bash', { cmd: 'ls' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain('The bash tool was not run');
  });

  it('works in an image without bash (sh)', async () => {
    const r = rig({ image: BUSYBOX_IMAGE });
    const result = await r.run('bash', { command: 'cd /tmp; X=1; echo "unterminated' });
    expect(result.text).toContain('syntax error');
    expect((await r.run('bash', { command: 'echo $0 ok' })).text).toMatch(/^sh ok\n/);
  });

  it('edits files in the container with the text editor semantics, refusing binary files', async () => {
    const r = rig();
    const created = await r.run('editor', { command: 'create', path: 'src/app.txt', file_text: 'one\ntwo\nthree\n' });
    expect(created.isError).toBe(false);
    expect((await r.run('bash', { command: 'cat /workspace/src/app.txt' })).text).toMatch(/^one\ntwo\nthree\n/);
    const replaced = await r.run('editor', { command: 'str_replace', path: '/workspace/src/app.txt', old_str: 'two', new_str: 'TWO' });
    expect(replaced.isError).toBe(false);
    const view = await r.run('editor', { command: 'view', path: '/workspace/src/app.txt', view_range: [2, -1] });
    expect(view.text).toContain('     2\tTWO\n     3\tthree');
    const listing = await r.run('editor', { command: 'view', path: '/workspace' });
    expect(listing.text).toContain('src/app.txt');
    await r.run('bash', { command: "printf 'a\\000b' > /workspace/blob.bin" });
    const binary = await r.run('editor', { command: 'view', path: '/workspace/blob.bin' });
    expect(binary.isError).toBe(true);
    expect(binary.text).toMatch(/binary/i);
    const missing = await r.run('editor', { command: 'str_replace', path: '/workspace/none.txt', old_str: 'a', new_str: 'b' });
    expect(missing.isError).toBe(true);
  });

  it('applies limits: no network, memory, pids, read-only mounts', async () => {
    const host = tempDir('drover-mount-');
    cleanups.push(() => rmSync(host, { recursive: true, force: true }));
    writeFileSync(path.join(host, 'notes.txt'), 'from the host\n');
    mkdirSync(path.join(host, 'out'));
    const r = rig({
      config: {
        memory_mb: 64,
        pids_limit: 64,
        cpus: 0.5,
        env: { PROJECT: 'drover' },
        mounts: [
          { host_path: host, container_path: '/mnt/host', read_only: true },
          { host_path: path.join(host, 'out'), container_path: '/mnt/out', read_only: false },
        ],
      },
    });
    const result = await r.run('bash', {
      command: 'cat /mnt/host/notes.txt; echo $PROJECT; touch /mnt/host/x 2>&1; echo written > /mnt/out/result.txt; ls /sys/class/net',
    });
    expect(result.text).toContain('from the host\ndrover\n');
    expect(result.text).toContain('Read-only file system');
    expect(result.text).toMatch(/\nlo\n\[exit code 0/);
    expect(readFileSync(path.join(host, 'out', 'result.txt'), 'utf8')).toBe('written\n');
    const container = r.events('hand.ready')[0]?.payload.container ?? '';
    const limits = dockerCli(
      'inspect',
      '--format',
      '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.NetworkMode}}',
      container,
    );
    expect(limits).toBe(`${64 * 1024 * 1024} 64 500000000 none`);
  });

  it('refuses a missing mount folder with a clear error and records the failure', async () => {
    const r = rig({ config: { mounts: [{ host_path: '/definitely/not/here', container_path: '/mnt/x' }] } });
    const result = await r.run('bash', { command: 'true' });
    expect(result.isError).toBe(true);
    expect(result.text).toContain('The folder /definitely/not/here to mount does not exist on this computer');
    expect(r.events('hand.failed')[0]?.payload.message).toContain('/definitely/not/here');
    expect(r.registry.statuses(r.sessionId)[0]?.state).toBe('failed');
  });
});

describe.runIf(ready)('cattle', () => {
  it('a container killed mid-call is an error the model can read; the next call gets a fresh one', async () => {
    const r = rig();
    await r.run('bash', { command: 'echo keep > /workspace/file' });
    const first = r.events('hand.ready')[0]?.payload.container ?? '';
    const pending = r.run('bash', { command: 'echo working; sleep 30' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    dockerCli('kill', first);
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/The container running this hand was lost while the tool ran: the container stopped with exit code 137/);
    expect(result.text).toContain('working');
    expect(r.events('hand.lost')[0]?.payload.reason).toContain('exit code 137');

    const next = await r.run('bash', { command: 'echo fresh; hostname' });
    expect(next.isError).toBe(false);
    const readies = r.events('hand.ready');
    expect(readies).toHaveLength(2);
    expect(readies[1]?.payload.container).not.toBe(first);
    expect(readies[1]?.payload.image).toBe(BASH_IMAGE);
    expect(r.containers()).toHaveLength(1);
  });

  it(
    'a container killed mid-command is lost every time, said in the result and recorded at once (10 kills)',
    { timeout: 180_000 },
    async () => {
      // `docker kill` from another process while this one keeps running: the exec's stream ends
      // before the engine records the death, and the hand must not call that a shell exit.
      const r = rig();
      const kills = 10;
      const misread: string[] = [];
      for (let i = 0; i < kills; i++) {
        const hand = await r.hand();
        let started!: () => void;
        const running = new Promise<void>((resolve) => (started = resolve));
        const onProgress = (output: string): void => {
          if (output.includes(`run ${i}`)) started();
        };
        const pending = hand.execute(
          'box__bash',
          { command: `echo run ${i}; sleep 30` },
          { signal: new AbortController().signal, onProgress },
        );
        await running;
        const container = r.events('hand.ready')[i]?.payload.container ?? '';
        await execFileAsync('docker', ['kill', container]);
        const result = await pending;
        const text = result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
        const lost = r.events('hand.lost'); // read before anything else runs: recorded with the result
        const state = r.registry.statuses(r.sessionId)[0]?.state;
        if (
          !result.isError ||
          !/lost while the tool ran: the container stopped with exit code 137/.test(text) ||
          lost.length !== i + 1 ||
          state !== 'lost'
        ) {
          misread.push(
            `kill ${i + 1}: is_error=${result.isError}, hand.lost events ${lost.length}, state ${state}: ${JSON.stringify(text.slice(-160))}`,
          );
        }
      }
      expect(misread).toEqual([]);
      expect(r.events('hand.lost').map((event) => event.payload.reason)).toEqual(
        Array.from({ length: kills }, () => 'the container stopped with exit code 137'),
      );
      const next = await r.run('bash', { command: 'echo fresh' });
      expect(next.isError).toBe(false);
      expect(r.containers()).toHaveLength(1);
    },
  );

  it('a container killed between calls is recorded lost at once; the next call says so and runs in a fresh one', async () => {
    const r = rig();
    await r.run('bash', { command: 'true' });
    const first = r.events('hand.ready')[0]?.payload.container ?? '';
    await execFileAsync('docker', ['kill', first]);
    const deadline = Date.now() + 10_000;
    while (r.events('hand.lost').length === 0 && Date.now() < deadline) await settle();
    expect(r.events('hand.lost').map((event) => event.payload.reason)).toEqual(['the container stopped with exit code 137']);
    expect(r.registry.statuses(r.sessionId)[0]?.state).toBe('lost');

    const next = await r.run('bash', { command: 'echo fresh' });
    expect(next.isError).toBe(false);
    expect(next.text).toContain(
      'Note: the previous container was lost (the container stopped with exit code 137); this ran in a fresh one.',
    );
    expect(r.events('hand.lost')).toHaveLength(1);
    expect(r.events('hand.ready')[1]?.payload.container).not.toBe(first);
  });

  it('a shell that exits by itself is not a lost container', async () => {
    const r = rig();
    const result = await r.run('bash', { command: 'echo bye; exit 3' });
    expect(result.isError).toBe(false);
    expect(result.text).toContain('the shell exited');
    expect(r.events('hand.lost')).toHaveLength(0);
    expect(r.registry.statuses(r.sessionId)[0]?.state).toBe('ready');
    expect((await r.run('bash', { command: 'echo again' })).text).toMatch(/^again\n/);
  });

  it('a container removed between calls is replaced, with a note', async () => {
    const r = rig();
    await r.run('bash', { command: 'true' });
    dockerCli('rm', '-f', r.events('hand.ready')[0]?.payload.container ?? '');
    await settle(); // the CLI call blocked this process: let it see the shell's connection close
    const next = await r.run('bash', { command: 'echo again' });
    expect(next.isError).toBe(false);
    expect(next.text).toContain('Note: the previous container was lost (the container was removed)');
    expect(next.text).toContain('again');
    expect(r.events('hand.lost')).toHaveLength(1);
  });

  describe('the engine down', () => {
    let proxy: Server;
    let socketPath: string;
    let dir: string;
    const sockets = new Set<Socket>();
    /** The engine goes away: no new connections, and the open ones drop. */
    const cut = (): void => {
      proxy.close();
      for (const socket of sockets) socket.destroy();
    };
    beforeAll(async () => {
      // A real path to the real engine that the test can cut: a socket relaying to Docker's.
      dir = tempDir('drover-docker-proxy-');
      socketPath = path.join(dir, 'docker.sock');
      proxy = createServer((client) => {
        const upstream = connect('/var/run/docker.sock');
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
    });
    afterAll(() => {
      cut();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gives a clear error, records it, and works again once the engine is back', async () => {
      const r = rig({ socketPath: path.join(dir, 'nothing-listens-here.sock') });
      const down = await r.run('bash', { command: 'true' });
      expect(down.isError).toBe(true);
      expect(down.text).toMatch(
        /The Docker engine is not reachable at .*nothing-listens-here\.sock \(ENOENT\): it is not running or not installed\. Start Docker/,
      );
      expect(down.text).toContain('to install it, see https://docs.docker.com/get-started/get-docker/');
      expect(r.events('hand.failed')).toHaveLength(1);
      expect(r.registry.statuses(r.sessionId)[0]?.state).toBe('failed');

      const up = rig({ socketPath });
      expect((await up.run('bash', { command: 'echo up' })).text).toMatch(/^up\n/);
      cut();
      await settle();
      const gone = await up.run('bash', { command: 'echo lost' });
      // The shell's connection went with the engine: the hand says so, and a later call tries again.
      expect(gone.isError).toBe(true);
      expect(gone.text).toContain('The Docker engine is not reachable');
      expect(up.registry.statuses(up.sessionId)[0]?.state).toBe('failed');
      // The container it could not remove through the cut socket goes at the next start.
      const later = new HandRegistry({ store: up.store, docker: new DockerEngine({ instance: up.engine.instance }), log: () => undefined });
      expect(await later.cleanUp()).toEqual({ containers: 1, images: 0 });
    });
  });
});

describe.runIf(ready)('clean-up', () => {
  it('removes containers at close, and a start removes what a crash left', async () => {
    const r = rig();
    await r.run('bash', { command: 'true' });
    expect(r.containers()).toHaveLength(1);
    await r.registry.close();
    expect(r.containers()).toEqual([]);

    // A "crash": a container left running with this data folder's labels.
    const crashed = rig();
    await crashed.run('bash', { command: 'true' });
    const orphan = crashed.containers();
    expect(orphan).toHaveLength(1);
    const next = new HandRegistry({ store: crashed.store, docker: crashed.engine, log: () => undefined });
    expect(await next.cleanUp()).toEqual({ containers: 1, images: 0 });
    expect(crashed.containers()).toEqual([]);
    await next.close();
  });

  it('keeps containers alive across a restart when asked, and reuses them', async () => {
    const dir = tempDir('drover-keep-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const keepFile = path.join(dir, 'kept.json');
    const r = rig();
    const kept = new HandRegistry({ store: r.store, docker: r.engine, keepAliveMs: 60_000, keepFile, log: () => undefined });
    const hand = (await kept.handsFor(r.sessionId))[0] as Hand;
    await hand.execute('box__bash', { command: 'echo state > /tmp/state' }, { signal: new AbortController().signal });
    const container = kept.statuses(r.sessionId)[0]?.container;
    await kept.close();
    expect(r.containers()).toHaveLength(1);

    const again = new HandRegistry({ store: r.store, docker: r.engine, keepAliveMs: 60_000, keepFile, log: () => undefined });
    expect(await again.cleanUp()).toEqual({ containers: 0, images: 0 });
    const reused = (await again.handsFor(r.sessionId))[0] as Hand;
    const out = await reused.execute('box__bash', { command: 'cat /tmp/state' }, { signal: new AbortController().signal });
    expect(out.content[0]).toMatchObject({ text: expect.stringMatching(/^state\n/) });
    expect(again.statuses(r.sessionId)[0]?.container).toBe(container);
    await again.close(); // keeps it again …
    writeFileSync(keepFile, JSON.stringify({ [container ?? '']: new Date(Date.now() - 1000).toISOString() }));
    const expired = new HandRegistry({ store: r.store, docker: r.engine, keepFile, log: () => undefined });
    expect(await expired.cleanUp()).toEqual({ containers: 1, images: 0 }); // … until it expires
    await expired.close();
  });
});

// Limited networking for real: a Docker hand with allowed_hosts joins an internal Docker network
// and reaches the outside only through Drover's egress proxy — an allowed host answers (plain http
// and a CONNECT tunnel), any other is refused with a sentence, and a direct connection to a
// container the default bridge reaches goes nowhere.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { hostAllowed, LIMITED_NETWORK } from './egress-proxy.ts';
import { DockerEngine, instanceIdOf } from './engine.ts';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A shell snippet that sends `request` (printf format) to the proxy in $HTTP_PROXY with busybox nc, its side kept open a moment (Node's server drops a client that half-closes before the answer). */
const viaProxy = (request: string): string => `p=\${HTTP_PROXY#http://}; (printf '${request}'; sleep 1) | nc -w 5 \${p%:*} \${p##*:}`;

describe('hostAllowed', () => {
  it('matches exactly, case-insensitively; *.domain matches its subdomains only; name:port that port only', () => {
    expect(hostAllowed('API.example.com', 443, ['api.example.com'])).toBe(true);
    expect(hostAllowed('example.com', 443, ['api.example.com'])).toBe(false);
    expect(hostAllowed('evil-api.example.com', 443, ['api.example.com'])).toBe(false);
    expect(hostAllowed('a.b.example.org', 80, ['*.example.org'])).toBe(true);
    expect(hostAllowed('example.org', 80, ['*.example.org'])).toBe(false);
    expect(hostAllowed('badexample.org', 80, ['*.example.org'])).toBe(false);
    expect(hostAllowed('api.example.com', 8443, ['api.example.com:8443'])).toBe(true);
    expect(hostAllowed('api.example.com', 443, ['api.example.com:8443'])).toBe(false);
    expect(hostAllowed('anything', 80, [])).toBe(false);
  });
});

describe.runIf(ready)('a Docker hand with allowed_hosts', () => {
  let web: Server;
  let port = 0;
  let target = '';
  let targetIp = '';

  beforeAll(async () => {
    web = createServer((request, response) => response.end(`hello from the allowed host: ${request.url}\n`));
    await new Promise<void>((resolve) => web.listen(0, 'localhost', resolve));
    const address = web.address();
    port = typeof address === 'object' && address ? address.port : 0;
    // A container on the default bridge: reachable from the bridge, never from the limited network.
    target = dockerCli('run', '-d', '--rm', BUSYBOX_IMAGE, 'sh', '-c', 'while true; do echo pong | nc -l -p 8080; done');
    targetIp = dockerCli('inspect', '--format', '{{.NetworkSettings.IPAddress}}', target);
  });

  afterAll(async () => {
    await new Promise((resolve) => web.close(resolve));
    if (target) execFileSync('docker', ['rm', '-f', target], { stdio: 'ignore' });
    // The shared internal network Drover made for limited hands (refused, harmlessly, while another container uses it).
    spawnSync('docker', ['network', 'rm', LIMITED_NETWORK], { stdio: 'ignore' });
  });

  function rig() {
    const dir = tempDir('drover-egress-');
    const store = SessionStore.open({ dataDir: dir });
    const registry = new HandRegistry({ store, docker: new DockerEngine({ instance: instanceIdOf(dir) }), log: () => undefined });
    const { id } = store.createSession({ title: 'egress' });
    cleanups.push(async () => {
      await registry.close();
      await registry.sessionDeleted(id);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const bash = async (hand: string, command: string): Promise<string> => {
      const hands = await registry.handsFor(id);
      const found = hands.find((candidate) => candidate.id === hand);
      if (!found) throw new Error(`no hand ${hand}`);
      const outcome = await found.execute(`${hand}__bash`, { command }, { signal: new AbortController().signal });
      return outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
    };
    return { registry, id, bash };
  }

  it('reaches an allowed host through the proxy (http and CONNECT), is refused any other, and has no direct route out', async () => {
    const r = rig();
    r.registry.attach(r.id, {
      name: 'limited',
      config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'bridge', allowed_hosts: ['localhost'] },
    });
    r.registry.attach(r.id, { name: 'open', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'bridge' } });

    const [limited] = await r.registry.handsFor(r.id);
    expect(limited?.tools()[0]?.description).toContain('network limited to localhost through an HTTP(S) proxy');

    const plain = await r.bash('limited', viaProxy(`GET http://localhost:${port}/plain HTTP/1.0\\r\\nHost: localhost:${port}\\r\\n\\r\\n`));
    expect(plain).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(plain).toContain('hello from the allowed host: /plain');

    const tunnel = await r.bash('limited', viaProxy(`CONNECT localhost:${port} HTTP/1.1\\r\\n\\r\\nGET /tunnel HTTP/1.0\\r\\n\\r\\n`));
    expect(tunnel).toMatch(/^HTTP\/1\.1 200 Connection Established/);
    expect(tunnel).toContain('hello from the allowed host: /tunnel');

    const other = await r.bash('limited', viaProxy(`GET http://127.0.0.1:${port}/ HTTP/1.0\\r\\n\\r\\n`));
    expect(other).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(other).toContain(
      "Drover's egress proxy refused 127.0.0.1: this environment's networking is limited to its allowed_hosts (localhost)",
    );
    const secure = await r.bash('limited', viaProxy('CONNECT example.com:443 HTTP/1.1\\r\\n\\r\\n'));
    expect(secure).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(secure).toContain('refused example.com');

    // Directly, without the proxy: the bridge reaches the target container, the limited network does not.
    expect(await r.bash('open', `nc -w 3 ${targetIp} 8080 </dev/null`)).toMatch(/^pong\n/);
    const direct = await r.bash('limited', `nc -w 3 ${targetIp} 8080 </dev/null; echo "exit $?"`);
    expect(direct).not.toContain('pong');
    expect(direct).toMatch(/exit 1/);
  }, 120_000);

  it('a container kept alive across a restart gets its proxy back where its environment points', async () => {
    const dir = tempDir('drover-egress-keep-');
    const store = SessionStore.open({ dataDir: dir });
    const engine = new DockerEngine({ instance: instanceIdOf(dir) });
    const keepFile = path.join(dir, 'kept.json');
    const { id } = store.createSession({ title: 'kept' });
    cleanups.push(async () => {
      await new HandRegistry({ store, docker: engine, log: () => undefined }).sessionDeleted(id);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const request = viaProxy(`GET http://localhost:${port}/again HTTP/1.0\\r\\n\\r\\n`);
    const run = async (registry: HandRegistry): Promise<string> => {
      const [hand] = await registry.handsFor(id);
      const outcome = await hand?.execute('limited__bash', { command: request }, { signal: new AbortController().signal });
      return (outcome?.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('\n');
    };
    const first = new HandRegistry({ store, docker: engine, keepAliveMs: 60_000, keepFile, log: () => undefined });
    first.attach(id, {
      name: 'limited',
      config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'bridge', allowed_hosts: ['localhost'] },
    });
    expect(await run(first)).toContain('hello from the allowed host: /again');
    const container = first.statuses(id)[0]?.container;
    await first.close(); // the container stays; its proxy stops with Drover

    const again = new HandRegistry({ store, docker: engine, keepAliveMs: 60_000, keepFile, log: () => undefined });
    expect(await run(again)).toContain('hello from the allowed host: /again');
    expect(again.statuses(id)[0]?.container).toBe(container);
    await again.close();
    const last = new HandRegistry({ store, docker: engine, log: () => undefined });
    await last.sessionDeleted(id);
    await last.close();
  }, 120_000);
});

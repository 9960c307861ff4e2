/**
 * A terminal on a Docker hand whose engine is on another machine, reached over `ssh://` (issue 23,
 * with issue 22's remote engines), through the RPC a UI uses, on real parts only: a second dockerd
 * in a network namespace of its own (test/support/second-engine.ts) with an OpenSSH server beside
 * it, a key from a real vault, the host key trusted in Drover's known-hosts list.
 *
 * The hand's image exists on the second engine only, so the terminal's exec (create, hijacked
 * stream, resize, the hang-up on close) cannot be served by this computer's engine. What the person
 * types reaches a real TTY there; closing records the terminal span and a checkpoint taken on that
 * engine, and a fork after the close sees the file the person made.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { LABELS } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { Vault } from '#services/vault/vault';
import { BASH_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { FileKeySource } from '#test/support/file-key-source';
import { secondEngineUnavailableReason, startSecondEngine, type SecondEngine } from '#test/support/second-engine';
import { makeKey, sshdUnavailableReason, TestSshd, testUser } from '#test/support/sshd';
import { requirePart, tempDir } from '#test/support/system';
import { terminalCaller } from '#test/support/terminal-caller';

const ready =
  (await requireDocker()) &&
  requirePart('a second Docker engine', secondEngineUnavailableReason()) &&
  requirePart('OpenSSH server', sshdUnavailableReason());

/** An image only the second engine has: bash with a file of its own. */
const FAR_IMAGE = `drover-test/far-terminal:${randomBytes(4).toString('hex')}`;

describe.runIf(ready)("a terminal on a Docker hand on another machine's engine (ssh://)", () => {
  let second: SecondEngine;
  let sshd: TestSshd;
  let vault: Vault;
  let store: SessionStore;
  let host: Host;
  const dir = tempDir('drover-remote-terminal-');
  const keyDir = tempDir('drover-remote-terminal-key-');

  async function rpc<T>(name: string, arg: unknown): Promise<T> {
    const outcome = await host.dispatch(name, arg);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result as T;
  }

  /** The session's containers on the second engine and on this computer's (docker CLI). */
  function where(sessionId: string): { remote: string[]; local: string[] } {
    const ids = (text: string): string[] => text.split('\n').filter((line) => line !== '');
    const filter = `label=${LABELS.session}=${sessionId}`;
    return { remote: ids(second.docker('ps', '-q', '--filter', filter)), local: ids(dockerCli('ps', '-q', '--filter', filter)) };
  }

  function terminalEvents(sessionId: string) {
    return store.getEvents(sessionId, { types: ['hand.terminal_opened', 'hand.terminal_closed', 'hand.checkpoint'] }) as Array<
      EventOf<'hand.terminal_opened'> | EventOf<'hand.terminal_closed'> | EventOf<'hand.checkpoint'>
    >;
  }

  beforeAll(async () => {
    second = await startSecondEngine({ link: true });
    const address = second.address ?? '';
    second.loadImages(BASH_IMAGE);
    const maker = `drover-far-terminal-maker-${randomBytes(4).toString('hex')}`;
    second.docker('run', '--name', maker, BASH_IMAGE, 'sh', '-c', 'mkdir -p /workspace && echo far-only > /workspace/far.txt');
    second.docker('commit', maker, FAR_IMAGE);
    second.docker('rm', '-f', maker);
    chmodSync(path.dirname(second.socket), 0o755);
    chmodSync(second.socket, 0o666);
    sshd = await TestSshd.start({ netns: second.netns, address });
    const key = makeKey(dir);
    sshd.authorize(key);
    vault = Vault.open({ dataDir: dir, keySource: new FileKeySource(path.join(keyDir, 'vault.key')) });
    const keySecret = (await vault.create({ name: 'engine key', kind: 'ssh-private-key', value: key.privateKey })).id;
    store = SessionStore.open({ dataDir: dir });
    host = createHost({
      store,
      vault,
      info: { version: 'test', dataDir: dir, platform: process.platform },
      push: () => undefined,
      log: () => undefined,
    });
    host.hands.knownHosts.trust({ host: address, port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
    await rpc('engines-put', {
      engine: {
        id: 'far',
        kind: 'ssh',
        name: 'Far box',
        url: `ssh://${testUser().user}@${address}:${sshd.port}`,
        auth: { method: 'key', key_secret_id: keySecret },
        socket_path: second.socket,
        labels: ['far'],
      },
    });
  }, 300_000);

  afterAll(async () => {
    if (host) {
      await host.terminals.closeAll();
      await host.hands.settled();
      for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
      await host.close();
      await host.hands.close();
    }
    await sshd?.stop();
    await second?.close();
    await vault?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  }, 120_000);

  it('types into a TTY on the far engine, resizes, closes into the log and a checkpoint there; a fork after it has the file', async () => {
    const ui = terminalCaller(host, 'window-far');
    const launched = await rpc<SessionSummary>('sessions-launch', {
      title: 'remote terminal',
      hands: [{ name: 'box', config: { kind: 'docker', image: FAR_IMAGE, network: 'none', engine: 'far' } }],
    });
    const sessionId = launched.id;
    const id = await ui.open(sessionId, 'box', { cols: 80, rows: 24 });
    // The terminal's container runs on the second engine, none on this computer's.
    expect(where(sessionId).remote).toHaveLength(1);
    expect(where(sessionId).local).toEqual([]);

    await ui.type(id, 'cat /workspace/far.txt; stty size\n');
    await ui.waitFor(id, /[\r\n]far-only\r\n24 80\r\n/, { timeoutMs: 60_000 });
    await ui.call('terminal-resize', { terminalId: id, cols: 120, rows: 33 });
    await ui.type(id, 'stty size; echo "$TERM"\n');
    await ui.waitFor(id, /[\r\n]33 120\r\nxterm-256color\r\n/, { timeoutMs: 60_000 });

    await ui.type(id, 'echo typed-on-the-far-engine > /workspace/person.txt && echo written\n');
    await ui.waitFor(id, /[\r\n]written\r\n/, { timeoutMs: 60_000 });
    await ui.call('terminal-close', { terminalId: id });
    await host.terminals.settled();
    await host.hands.settled();
    expect(ui.exits()).toEqual([{ terminalId: id, ended: 'closed', code: null, message: 'Terminal closed.' }]);

    const events = terminalEvents(sessionId);
    const opened = events.find((event) => event.type === 'hand.terminal_opened');
    const closed = events.find((event) => event.type === 'hand.terminal_closed');
    expect(opened?.payload).toEqual({ hand_id: 'box', terminal_id: id });
    expect(closed?.payload).toEqual({ hand_id: 'box', terminal_id: id, opened_seq: opened?.seq, ended: 'closed' });
    const checkpoint = events.find((event) => event.type === 'hand.checkpoint' && event.payload.at_seq === closed?.seq);
    expect(checkpoint?.payload.hand_id).toBe('box');

    // The shell was hung up on the far engine, not left running in the container.
    const [container] = where(sessionId).remote;
    const left = second.docker(
      'exec',
      container ?? '',
      'sh',
      '-c',
      `for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done | grep -c '^DROVER_TERMINAL=${id}$' || true`,
    );
    expect(left.trim()).toBe('0');

    // A fork after the close starts its container from that checkpoint, on the far engine: the person's file is there.
    const forked = await rpc<SessionSummary>('sessions-fork', { sessionId, atSeq: closed?.seq ?? 0 });
    const inFork = await ui.open(forked.id, 'box');
    expect(where(forked.id).remote).toHaveLength(1);
    expect(where(forked.id).local).toEqual([]);
    await ui.type(inFork, 'cat /workspace/person.txt\n');
    await ui.waitFor(inFork, /[\r\n]typed-on-the-far-engine\r\n/, { timeoutMs: 60_000 });
    await ui.call('terminal-close', { terminalId: inFork });
    await host.terminals.settled();
    expect(host.terminals.openCount).toBe(0);
  }, 360_000);
});

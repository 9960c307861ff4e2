// A terminal on any hand (issue 23), through the RPC a UI uses, with real parts only: the host
// (dispatcher, handlers, registry, terminal service) over a real store and vault in a temp folder,
// a real Docker container (test/support/docker.ts) and a real OpenSSH server (test/support/sshd.ts).
// Each test plays one or two UI connections (test/support/terminal-caller.ts): what a person types
// reaches a real shell on a TTY, its output (colours included) comes back only to that connection,
// a resize reaches the TTY (`stty size`), and closing records `hand.terminal_closed` and a checkpoint
// of the hand, so a fork after the close has the files the person made.
import { existsSync, mkdirSync, readFileSync, rmSync, chownSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { TERMINAL_LIMITS } from '#shared/terminals';
import type { Host } from '#rpc/host';
import { instanceIdOf } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import { BASH_IMAGE, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { vaultHostRig, type VaultHostRig } from '#test/support/host-rig';
import { makeKey, requireSshd, TestSshd, testUser } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { terminalCaller } from '#test/support/terminal-caller';

const dockerReady = await requireDocker();
const sshdReady = requireSshd();
/** A vault value no terminal may ever show. */
const SECRET = 'sk-terminal-secret-7f3a9c21e5';

let rig: VaultHostRig | undefined;
let dir: string;
let store: SessionStore;
let host: Host;

beforeAll(async () => {
  rig = vaultHostRig('drover-terminals-', { apiKey: 'sk-ant-unused' });
  ({ dir, store, host } = rig);
  await host.credentials.start();
  await host.credentials.create({ name: 'deploy token', kind: 'token', value: SECRET });
}, 60_000);

afterAll(async () => {
  await host?.terminals.closeAll();
  await host?.hands.settled();
  for (const session of store?.listSessions() ?? []) await host.hands.sessionDeleted(session.id);
  await rig?.close();
  if (dockerReady && dir) removeInstanceObjects(instanceIdOf(dir));
}, 120_000);

function terminalEvents(sessionId: string) {
  return store.getEvents(sessionId, { types: ['hand.terminal_opened', 'hand.terminal_closed', 'hand.checkpoint'] }) as Array<
    EventOf<'hand.terminal_opened'> | EventOf<'hand.terminal_closed'> | EventOf<'hand.checkpoint'>
  >;
}

async function launch(title: string, hand: unknown): Promise<string> {
  const outcome = await host.dispatch('sessions-launch', { title, hands: [hand] });
  if (!outcome.ok) throw new Error(outcome.error.message);
  return (outcome.result as SessionSummary).id;
}

async function fork(sessionId: string, atSeq: number): Promise<string> {
  const outcome = await host.dispatch('sessions-fork', { sessionId, atSeq });
  if (!outcome.ok) throw new Error(outcome.error.message);
  return (outcome.result as SessionSummary).id;
}

describe.runIf(dockerReady)('a terminal on a Docker hand', () => {
  it('types into a real TTY, shows colours, resizes, closes into the log and a checkpoint; a fork after it has the file', async () => {
    const ui = terminalCaller(host, 'window-a');
    const other = terminalCaller(host, 'window-b');
    const sessionId = await launch('docker terminal', { name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } });
    const id = await ui.open(sessionId, 'box', { cols: 80, rows: 24 });
    expect(id).toMatch(/^term_[0-9a-f]{16}$/);

    await ui.type(id, "echo hi; printf '\\e[31mred\\e[0m\\n'\n");
    await ui.waitFor(id, /[\r\n]hi\r\n/);
    await ui.waitFor(id, '\u001b[31mred\u001b[0m');
    await ui.type(id, 'stty size\n');
    await ui.waitFor(id, /[\r\n]24 80\r\n/);
    await ui.call('terminal-resize', { terminalId: id, cols: 132, rows: 40 });
    await ui.type(id, 'stty size; echo "$TERM"\n');
    await ui.waitFor(id, /[\r\n]40 132\r\nxterm-256color\r\n/);

    // No secret reaches it: the vault's values are nowhere in its environment.
    const before = ui.output(id).length;
    await ui.type(id, 'env; echo env-done\n');
    const env = await ui.waitFor(id, /[\r\n]env-done\r\n/, { from: before });
    expect(env).toContain(`DROVER_TERMINAL=${id}`);
    expect(env).not.toContain(SECRET);

    // Another connection neither sees its output nor can type in it.
    expect(other.output(id)).toBe('');
    expect(await other.refused('terminal-input', { terminalId: id, data: 'rm -rf /workspace\n' })).toMatch(
      /no open terminal .*another window/,
    );
    // Too much at once is refused before it reaches the shell.
    expect(await ui.refused('terminal-input', { terminalId: id, data: 'x'.repeat(TERMINAL_LIMITS.inputChars + 1) })).toMatch(
      /at most 65536 characters/,
    );

    await ui.type(id, 'echo made-by-a-person > /workspace/person.txt && echo written\n');
    await ui.waitFor(id, /[\r\n]written\r\n/);
    await ui.call('terminal-close', { terminalId: id });
    expect(ui.exits()).toEqual([{ terminalId: id, ended: 'closed', code: null, message: 'Terminal closed.' }]);
    const events = terminalEvents(sessionId);
    const opened = events.find((event) => event.type === 'hand.terminal_opened');
    const closed = events.find((event) => event.type === 'hand.terminal_closed');
    expect(opened?.payload).toEqual({ hand_id: 'box', terminal_id: id });
    expect(closed?.payload).toEqual({ hand_id: 'box', terminal_id: id, opened_seq: opened?.seq, ended: 'closed' });
    const checkpoint = events.find((event) => event.type === 'hand.checkpoint' && event.payload.at_seq === closed?.seq);
    expect(checkpoint?.payload.hand_id).toBe('box');
    expect(await ui.refused('terminal-input', { terminalId: id, data: 'ls\n' })).toMatch(/no open terminal/);

    // The shell is hung up, not left running in the container.
    const check = await ui.open(sessionId, 'box');
    await ui.type(
      check,
      `for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done | grep -c '^DROVER_TERMINAL=${id}$'; echo scanned\n`,
    );
    await ui.waitFor(check, /[\r\n]0\r\nscanned\r\n/);
    await ui.call('terminal-close', { terminalId: check });

    // A fork after the close starts its container from that checkpoint: the person's file is there.
    const forked = await fork(sessionId, closed?.seq ?? 0);
    const inFork = await ui.open(forked, 'box');
    await ui.type(inFork, 'cat /workspace/person.txt\n');
    await ui.waitFor(inFork, /[\r\n]made-by-a-person\r\n/);

    // The connection ending closes its terminals (recorded as such, and checkpointed).
    ui.close();
    await host.terminals.settled();
    const forkClosed = terminalEvents(forked).filter((event) => event.type === 'hand.terminal_closed' && event.seq > (closed?.seq ?? 0));
    expect(forkClosed.map((event) => event.payload)).toEqual([
      { hand_id: 'box', terminal_id: inFork, opened_seq: expect.any(Number) as number, ended: 'disconnected' },
    ]);
    expect(host.terminals.openCount).toBe(0);
  }, 240_000);

  it('at most 8 per hand; a shell that exits ends its terminal; output is paused until the UI catches up', async () => {
    const ui = terminalCaller(host, 'window-c');
    const sessionId = await launch('docker limits', { name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } });
    const ids: string[] = [];
    for (let index = 0; index < TERMINAL_LIMITS.perHand; index += 1) ids.push(await ui.open(sessionId, 'box'));
    expect(await ui.refused('terminal-open', { sessionId, hand: 'box', cols: 80, rows: 24 })).toMatch(
      /already has 8 terminals open.*close one of them first/,
    );
    for (const id of ids.slice(1)) await ui.call('terminal-close', { terminalId: id });
    const [id = ''] = ids;

    // 3 MB of output with no acknowledgement: the program is paused a little past the limit.
    const total = 3_000_000;
    await ui.type(id, `head -c ${total} /dev/zero | tr '\\0' x; echo; echo flood-$((1+1))-done\n`);
    await ui.waitFor(id, /x{1000}/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stalled = ui.output(id).length;
    expect(stalled).toBeGreaterThan(TERMINAL_LIMITS.unackedBytes);
    expect(stalled).toBeLessThan(TERMINAL_LIMITS.unackedBytes + 300_000);
    // Acknowledged as drawn, it runs to the end.
    let acked = 0;
    const deadline = Date.now() + 60_000;
    while (!ui.output(id).includes('flood-2-done')) {
      const seen = ui.output(id).length;
      if (seen > acked) await ui.call('terminal-ack', { terminalId: id, chars: seen - acked });
      acked = seen;
      if (Date.now() > deadline) throw new Error(`the output stopped at ${seen} characters`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((ui.output(id).match(/x/g) ?? []).length).toBeGreaterThanOrEqual(total);

    await ui.type(id, 'exit 3\n');
    const deadlineExit = Date.now() + 30_000;
    while (ui.exits().every((exit) => exit.terminalId !== id)) {
      if (Date.now() > deadlineExit) throw new Error('the terminal did not end after exit');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(ui.exits().find((exit) => exit.terminalId === id)).toMatchObject({ ended: 'exited', code: 3 });
    await host.terminals.settled();
    const closed = terminalEvents(sessionId).filter((event) => event.type === 'hand.terminal_closed');
    expect(closed).toHaveLength(TERMINAL_LIMITS.perHand);
    expect(closed.at(-1)?.payload).toMatchObject({ hand_id: 'box', terminal_id: id, ended: 'exited' });
    ui.close();
  }, 240_000);

  it('refuses what cannot have a terminal, in words, recording nothing', async () => {
    const sessionId = await launch('refusals', {
      name: 'files',
      config: { kind: 'mcp', transport: { type: 'stdio', command: 'node', args: ['-e', ''] } },
    });
    const ui = terminalCaller(host, 'window-d');
    expect(await ui.refused('terminal-open', { sessionId, hand: 'files', cols: 80, rows: 24 })).toMatch(/MCP server.*no shell/);
    expect(await ui.refused('terminal-open', { sessionId, hand: 'worker', cols: 80, rows: 24 })).toMatch(
      /no hand named "worker".*self-hosted worker runs tools only/,
    );
    const inside = await host.dispatch('terminal-open', { sessionId, hand: 'files', cols: 80, rows: 24 });
    expect(inside.ok ? '' : inside.error.message).toMatch(/needs a window/);
    expect(await ui.refused('terminal-open', { sessionId, hand: 'files', cols: 1, rows: 24 })).toMatch(/at least 2 columns/);
    expect(terminalEvents(sessionId)).toEqual([]);
  });
});

describe.runIf(sshdReady)('a terminal on an SSH machine', () => {
  let sshd: TestSshd;
  let folder: string;

  beforeAll(async () => {
    sshd = await TestSshd.start();
    const key = makeKey(tempDir('drover-terminals-keys-'));
    sshd.authorize(key);
    const secret = await host.credentials.create({ name: 'laptop key', kind: 'ssh-private-key', value: key.privateKey });
    keyId = secret.id;
    await host.dispatch('ssh-trust-host', {
      hostKey: { host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() },
    });
    const { user, home } = testUser();
    folder = path.join(home, `drover-terminals-${process.pid}-${Date.now()}`);
    mkdirSync(folder);
    const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
    chownSync(folder, uid, gid);
  }, 60_000);

  afterAll(async () => {
    await sshd?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  let keyId = '';

  it('a shell with a PTY in the working folder: colours, resize, close into the log and a checkpoint; a fork after it has the file', async () => {
    const { user } = testUser();
    const ui = terminalCaller(host, 'window-ssh');
    const config = {
      kind: 'ssh',
      host: '127.0.0.1',
      port: sshd.port,
      user,
      auth: { method: 'key', key_secret_id: keyId },
      working_dir: folder,
    };
    const sessionId = await launch('ssh terminal', { name: 'laptop', config });
    const id = await ui.open(sessionId, 'laptop', { cols: 90, rows: 20 });
    await ui.type(id, "echo hi; printf '\\e[31mred\\e[0m\\n'; pwd\n");
    await ui.waitFor(id, /[\r\n]hi\r\n/);
    await ui.waitFor(id, '\u001b[31mred\u001b[0m');
    await ui.waitFor(id, `${folder}\r\n`);
    await ui.type(id, 'stty size\n');
    await ui.waitFor(id, /[\r\n]20 90\r\n/);
    await ui.call('terminal-resize', { terminalId: id, cols: 120, rows: 33 });
    await ui.type(id, 'stty size; echo "$TERM"\n');
    await ui.waitFor(id, /[\r\n]33 120\r\nxterm-256color\r\n/);
    const before = ui.output(id).length;
    await ui.type(id, 'env; echo env-done\n');
    expect(await ui.waitFor(id, /[\r\n]env-done\r\n/, { from: before })).not.toContain(SECRET);

    await ui.type(id, 'echo typed-over-ssh > person.txt && echo written\n');
    await ui.waitFor(id, /[\r\n]written\r\n/);
    expect(readFileSync(path.join(folder, 'person.txt'), 'utf8')).toBe('typed-over-ssh\n');
    await ui.call('terminal-close', { terminalId: id });
    const events = terminalEvents(sessionId);
    const closed = events.find((event) => event.type === 'hand.terminal_closed');
    expect(closed?.payload).toMatchObject({ hand_id: 'laptop', terminal_id: id, ended: 'closed' });
    expect(events.some((event) => event.type === 'hand.checkpoint' && event.payload.at_seq === closed?.seq)).toBe(true);

    // The machine's folder changes on; a fork after the close puts the person's file back when it connects.
    rmSync(path.join(folder, 'person.txt'));
    const forked = await fork(sessionId, closed?.seq ?? 0);
    const inFork = await ui.open(forked, 'laptop');
    await ui.type(inFork, 'cat person.txt\n');
    await ui.waitFor(inFork, /[\r\n]typed-over-ssh\r\n/);
    expect(existsSync(path.join(folder, 'person.txt'))).toBe(true);
    await ui.call('terminal-close', { terminalId: inFork });
    ui.close();
  }, 180_000);
});

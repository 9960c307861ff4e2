// A terminal never receives a secret (issue 23), even when a program prints a vault value in
// pieces: real parts only — the host over a real store and vault (a real secret in it), a real
// Docker hand's terminal opened over the host's RPC as a UI connection (test/support/terminal-caller.ts).
// The secret is never typed whole: the shell glues it from two variables, so only the output can carry it.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionSummary } from '#shared/sessions';
import type { Host } from '#rpc/host';
import { instanceIdOf } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import { secretMarker } from '#services/vault/redact';
import { SETTLE_MS } from '#services/vault/stream-redact';
import { BASH_IMAGE, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { vaultHostRig, type VaultHostRig } from '#test/support/host-rig';
import { makeKey, requireSshd, TestSshd, testUser } from '#test/support/sshd';
import { tempDir } from '#test/support/system';
import { terminalCaller, type TerminalCaller } from '#test/support/terminal-caller';

const dockerReady = await requireDocker();
const sshdReady = requireSshd();
const S1 = 'sk-termi';
const S2 = 'nal-secret-7f3a9c21e5';
const SECRET = `${S1}${S2}`;
const MARKER = secretMarker('deploy token');
/** The secret less its last character, then something else: ordinary text that must come out as it was. */
const NEAR_MISS = `${SECRET.slice(0, -1)}X`;
/** Sets the two halves in the shell (typed, so echoed: neither is the secret). */
const HALVES = `S1=${S1}; S2=${S2}; `;

let dir: string;
let store: SessionStore;
let host: Host;
let rig: VaultHostRig | undefined;
let sessionId: string;

beforeAll(async () => {
  rig = vaultHostRig('drover-terminal-redaction-', { apiKey: 'sk-ant-unused' });
  ({ dir, store, host } = rig);
  await host.credentials.start();
  await host.credentials.create({ name: 'deploy token', kind: 'token', value: SECRET });
  if (!dockerReady) return;
  const outcome = await host.dispatch('sessions-launch', {
    title: 'terminal redaction',
    hands: [{ name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } }],
  });
  if (!outcome.ok) throw new Error(outcome.error.message);
  sessionId = (outcome.result as SessionSummary).id;
}, 120_000);

afterAll(async () => {
  await host?.terminals.closeAll();
  await host?.hands.settled();
  for (const session of store?.listSessions() ?? []) await host.hands.sessionDeleted(session.id);
  await rig?.close();
  if (dockerReady && dir) removeInstanceObjects(instanceIdOf(dir));
}, 120_000);

/** A file of `lines` lines, each: i % 5 dots (so the secret sits at every offset mod 5), the secret, a space, the near miss. */
function floodCommand(file: string, lines: number): string {
  return `awk -v a="$S1" -v b="$S2" 'BEGIN { for (i = 0; i < ${lines}; i++) printf "%s%s%s %s%sX\\n", substr(".....", 1, i % 5), a, b, a, substr(b, 1, length(b) - 1) }' > ${file}; wc -c < ${file}`;
}

function floodExpected(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `${'.'.repeat(i % 5)}${MARKER} ${NEAR_MISS}\r\n`).join('');
}

/** A UI connection that acknowledges what it draws (as the terminal pane does), so output is never paused. */
function acking(id: string): TerminalCaller {
  const ui = terminalCaller(host, id);
  ui.onOutput((terminalId, data) => void ui.call('terminal-ack', { terminalId, chars: data.length }).catch(() => undefined));
  return ui;
}

/** Runs `command` in the terminal; what it printed between BEGIN and END (the markers are typed split, so their echo does not match). */
async function printed(ui: TerminalCaller, terminalId: string, command: string, timeoutMs = 30_000): Promise<string> {
  const from = ui.output(terminalId).length;
  await ui.type(terminalId, `echo BE""GIN; ${command}; echo EN""D\n`);
  const text = await ui.waitFor(terminalId, /BEGIN\r\n[^]*END\r\n/, { from, timeoutMs });
  return text.slice(text.indexOf('BEGIN\r\n') + 'BEGIN\r\n'.length, text.lastIndexOf('END\r\n'));
}

describe.runIf(dockerReady)('a Docker hand terminal never shows a vault secret, whatever pieces it arrives in', () => {
  it('two pieces with a pause between: the first piece becomes the marker once output goes quiet, the second is swallowed by it', async () => {
    const ui = acking('window-pieces');
    const other = acking('window-other');
    const id = await ui.open(sessionId, 'box');
    const second = await other.open(sessionId, 'box');
    await ui.type(id, HALVES + '\n');
    await other.type(second, HALVES + '\n');
    const from = ui.output(id).length;
    await ui.type(id, `echo BE""GIN; printf %s "$S1"; sleep 1; printf '%s\\n' "$S2"; echo EN""D\n`);
    // The held first piece is decided while the program sleeps (a partial secret never waits for ever)…
    const early = await ui.waitFor(id, MARKER, { from, timeoutMs: 900 + SETTLE_MS * 5 });
    expect(early).not.toContain('END\r\n');
    // …and another terminal printing the second half alone meanwhile is not completed by it (one state per terminal).
    expect(await printed(other, second, `printf '%s\\n' "$S2"`)).toBe(`${S2}\r\n`);
    const text = await ui.waitFor(id, /END\r\n/, { from });
    expect(text.slice(text.indexOf('BEGIN\r\n') + 7, text.lastIndexOf('END\r\n'))).toBe(`${MARKER}\r\n`);
    for (const [caller, terminal] of [
      [ui, id],
      [other, second],
    ] as const) {
      expect(caller.output(terminal)).not.toContain(SECRET);
      await caller.call('terminal-close', { terminalId: terminal });
    }
  }, 90_000);

  it('one character at a time: quickly, the whole secret is the marker; slowly (past the quiet time), only the first 3 characters show', async () => {
    const ui = acking('window-chars');
    const id = await ui.open(sessionId, 'box');
    await ui.type(id, HALVES + '\n');
    const each = `for c in $(echo "$S1$S2" | sed 's/./& /g'); do printf %s "$c"`;
    // Each character its own write; a loaded machine may pause between them past the quiet time.
    expect(await printed(ui, id, `${each}; done; echo`)).toMatch(/^(?:s|sk|sk-)?\[secret “deploy token” redacted\]\r\n$/);
    expect(await printed(ui, id, `${each}; sleep 0.2; done; echo`, 60_000)).toBe(`sk-${MARKER}\r\n`);
    // The first 3 characters of a near miss, then a pause, then the rest: all of it shows.
    expect(await printed(ui, id, `printf sk-; sleep 0.3; printf '%s\\n' "${NEAR_MISS.slice(3)}"`)).toBe(`${NEAR_MISS}\r\n`);
    expect(ui.output(id)).not.toContain(SECRET);
    await ui.call('terminal-close', { terminalId: id });
  }, 120_000);

  it('1 MiB of output with the secret and a near miss on every line: each secret masked, each near miss intact, nothing lost', async () => {
    const ui = acking('window-flood');
    const id = await ui.open(sessionId, 'box');
    await ui.type(id, HALVES + '\n');
    const lines = 17_000;
    const size = Number((await printed(ui, id, floodCommand('/tmp/flood', lines))).trim());
    expect(size).toBeGreaterThan(1024 * 1024);
    const started = performance.now();
    const out = await printed(ui, id, 'cat /tmp/flood', 120_000);
    const ms = performance.now() - started;
    const expected = floodExpected(lines);
    expect(out.length).toBe(expected.length);
    expect(out === expected).toBe(true);
    expect(ui.output(id)).not.toContain(SECRET);
    console.log(
      `terminal redaction: ${(size / 1024 / 1024).toFixed(2)} MiB with ${lines} secrets through the terminal in ${ms.toFixed(0)} ms`,
    );
    await ui.call('terminal-close', { terminalId: id });
  }, 180_000);
});

describe.runIf(sshdReady)('an SSH machine terminal never shows a vault secret either', () => {
  let sshd: TestSshd;
  let folder: string;
  let keyId = '';

  beforeAll(async () => {
    sshd = await TestSshd.start();
    const key = makeKey(tempDir('drover-terminal-redaction-keys-'));
    sshd.authorize(key);
    keyId = (await host.credentials.create({ name: 'laptop key', kind: 'ssh-private-key', value: key.privateKey })).id;
    await host.dispatch('ssh-trust-host', {
      hostKey: { host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() },
    });
    const { user, home } = testUser();
    folder = path.join(home, `drover-terminal-redaction-${process.pid}-${Date.now()}`);
    mkdirSync(folder);
    chownSync(
      folder,
      Number(execFileSync('id', ['-u', user]).toString().trim()),
      Number(execFileSync('id', ['-g', user]).toString().trim()),
    );
  }, 60_000);

  afterAll(async () => {
    await sshd?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('two pieces with a pause, and 1 MiB with the secret and a near miss on every line, over SSH', async () => {
    const config = {
      kind: 'ssh',
      host: '127.0.0.1',
      port: sshd.port,
      user: testUser().user,
      auth: { method: 'key', key_secret_id: keyId },
      working_dir: folder,
    };
    const outcome = await host.dispatch('sessions-launch', { title: 'ssh terminal redaction', hands: [{ name: 'laptop', config }] });
    if (!outcome.ok) throw new Error(outcome.error.message);
    const ui = acking('window-ssh');
    const id = await ui.open((outcome.result as SessionSummary).id, 'laptop');
    await ui.type(id, HALVES + '\n');
    expect(await printed(ui, id, `printf %s "$S1"; sleep 0.5; printf '%s\\n' "$S2"`)).toBe(`${MARKER}\r\n`);
    const lines = 17_000;
    expect(Number((await printed(ui, id, floodCommand('flood.txt', lines))).trim())).toBeGreaterThan(1024 * 1024);
    const out = await printed(ui, id, 'cat flood.txt', 120_000);
    const expected = floodExpected(lines);
    expect(out.length).toBe(expected.length);
    expect(out === expected).toBe(true);
    expect(ui.output(id)).not.toContain(SECRET);
    await ui.call('terminal-close', { terminalId: id });
  }, 180_000);
});

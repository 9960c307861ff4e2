// MCP tools marked as changing files, with an SSH hand (issue 20 item 1): the real harness against
// the local Messages API server (test/support/api-rig.ts's host), a real OpenSSH server on this
// machine (test/support/sshd.ts) as the SSH hand, and the real server-filesystem allowed the SSH
// hand's working folder — on this same machine, so what the MCP tool writes is the hand's files.
// A marked write is followed by a `hand.checkpoint` of the SSH hand at its result holding the file;
// an unmarked create_directory records none.
import { chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SshHandConfigSchema, type HandSpecInput } from '#shared/hands';
import { SessionSummarySchema } from '#shared/sessions';
import { BlobStore } from '#services/checkpoints/blob-store';
import { loadManifest } from '#services/checkpoints/manifest';
import { apiRig, endTurn, type ApiRig } from '#test/support/api-rig';
import { referenceServer } from '#test/support/mcp';
import { rpcCalls, toolUseReply } from '#test/support/rpc-calls';
import { makeKey, requireSshd, TestSshd, testUser, type KeyPair } from '#test/support/sshd';
import { tempDir } from '#test/support/system';

const ready = requireSshd();

let rig: ApiRig;
let sshd: TestSshd;
let keys: string;
let key: KeyPair;
let folder: string;

const toolUse = toolUseReply;

beforeAll(async () => {
  if (!ready) return;
  rig = await apiRig();
  sshd = await TestSshd.start();
  keys = tempDir('drover-mcp-writing-ssh-keys-');
  key = makeKey(keys);
  sshd.authorize(key);
  // The hand's working folder, the test user's own (the MCP server runs as this process's user and writes into it).
  const user = testUser();
  folder = path.join(user.home, `mcp-writing-${process.pid}-${Date.now()}`);
  mkdirSync(folder);
  const home = lstatSync(user.home);
  chownSync(folder, home.uid, home.gid);
  rig.host.hands.knownHosts.trust({ host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() });
}, 60_000);

afterAll(async () => {
  if (!ready) return;
  await rig?.close();
  await sshd?.stop();
  for (const dir of [folder, keys]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const call = <T = unknown>(name: string, arg?: unknown): Promise<T> => rpcCalls(rig.host, rig.store).call<T>(name, arg);

function events<K extends StoredEvent['type']>(sessionId: string, type: K): Array<Extract<StoredEvent, { type: K }>> {
  return rig.store.getEvents(sessionId, { types: [type] }) as Array<Extract<StoredEvent, { type: K }>>;
}

describe.runIf(ready)('MCP tools marked as changing files, with an SSH hand', () => {
  it('a marked write checkpoints the SSH hand’s working folder at its result; an unmarked call records nothing', async () => {
    const secret = await rig.vault.create({ name: 'ssh key', kind: 'ssh-private-key', value: key.privateKey });
    const box: HandSpecInput = {
      name: 'box',
      config: SshHandConfigSchema.parse({
        kind: 'ssh',
        host: '127.0.0.1',
        port: sshd.port,
        user: testUser().user,
        auth: { method: 'key', key_secret_id: secret.id },
        working_dir: folder,
      }),
    };
    const fs: HandSpecInput = {
      name: 'fs',
      config: { kind: 'mcp', transport: referenceServer('server-filesystem', [folder]), trusted: true, writing_tools: ['write_file'] },
    };
    const id = SessionSummarySchema.parse(await call('sessions-launch', { title: 'MCP writes over SSH', hands: [box, fs] })).id;
    // The user lets this machine's tools run without asking (SSH hands ask by default).
    rig.store.emitEvent(id, { type: 'policy.set', payload: { hand: 'box', tool: null, policy: 'always_allow' } });

    rig.script.push(
      () => toolUse('box__bash', { command: 'echo a > a.txt' }),
      () => toolUse('fs__write_file', { path: path.join(folder, 'from-mcp.txt'), content: 'written by an MCP tool\n' }),
      () => toolUse('fs__create_directory', { path: path.join(folder, 'unmarked-dir') }),
      () => endTurn('Done.'),
    );
    await rpcCalls(rig.host, rig.store).send(id, 'Write on the machine and through the MCP server.');

    const [bashResult] = events(id, 'agent.tool_result');
    const [written, created] = events(id, 'agent.mcp_tool_result');
    expect([bashResult?.payload.is_error, written?.payload.is_error, created?.payload.is_error]).toEqual([false, false, false]);
    const checkpoints = events(id, 'hand.checkpoint').filter((event) => event.payload.hand_id === 'box');
    const atSeqs = checkpoints.map((event) => event.payload.at_seq);
    // A baseline at connection, the bash call's, the marked write's — nothing after the unmarked call.
    expect(atSeqs.slice(-2)).toEqual([bashResult?.seq, written?.seq]);
    expect(atSeqs).not.toContain(created?.seq);
    const manifest = await loadManifest(new BlobStore(rig.dir), checkpoints.at(-1)?.payload.manifest ?? '');
    const names = manifest.entries.map((entry) => path.basename(entry.path));
    expect(names).toContain('from-mcp.txt');
    expect(names).not.toContain('unmarked-dir');
  }, 120_000);
});

// The credential boundary end to end, with canary secrets through every path: the API key and a
// git token go into the vault (a real gnome-keyring holds its key) through the RPC a UI uses; a
// scripted session with a Docker hand clones a repository that needs the token, commits and
// pushes through Drover's git proxy to a local git HTTP server that demands it. Then every place
// a secret could leak is searched: the data folder (SQLite, WAL, vault file), log lines, every
// RPC reply and push, the container's environment, files, processes and `docker inspect`, host
// command lines, and every request body the model received. The canaries must appear nowhere —
// and a third secret that the repository itself leaks reaches the log only as a redaction marker.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionSummarySchema } from '#shared/sessions';
import type { PushMessage } from '#shared/rpc';
import { createHost, type Host } from '#rpc/host';
import { BlobStore } from '#services/checkpoints/blob-store';
import { instanceIdOf } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { createKeyringKeySource } from '#services/vault/keyring-key-source';
import { Vault } from '#services/vault/vault';
import {
  dockerCli,
  ensureGitImage,
  GIT_IMAGE,
  gitImageUnavailableReason,
  removeInstanceObjects,
  requireDocker,
} from '#test/support/docker';
import { startGitServer, gitServerUnavailableReason, type GitServer } from '#test/support/git-server';
import { startSecretService, type SecretService } from '#test/support/keyring';
import { startModelServer, type ModelServer } from '#test/support/model-server';
import { folderBytes, requirePart, tempDir } from '#test/support/system';

const CANARY_API_KEY = 'sk-ant-canary-API-7f3a9c1e5b2d4086';
const CANARY_GIT_TOKEN = 'ghp_canaryGitToken_91b0d2e4f6a8c3e5';
/** A secret the user also stored, which their repository happens to contain (a leak to catch). */
const CANARY_LEAKED = 'leaked-canary-c0ffee-5eed-1234';

const ready =
  (await requireDocker()) &&
  requirePart(
    'git on this machine (the test repository server and the git test image)',
    gitServerUnavailableReason() ?? gitImageUnavailableReason(),
  );
const keyring = ready ? await startSecretService() : null;

let dir: string;
let store: SessionStore;
let vault: Vault;
let host: Host;
let model: ModelServer;
let git: GitServer;
const logs: string[] = [];
const wire: string[] = [];
const hostCommandLines = new Set<string>();
const containerProcesses = new Set<string>();

describe.skipIf(!ready || keyring === null)('the credential boundary', () => {
  let secrets: SecretService;
  let containerId = '';

  beforeAll(async () => {
    secrets = keyring as SecretService;
    // The keyring library reads the bus address once per process: set it before any vault call.
    process.env['DBUS_SESSION_BUS_ADDRESS'] = secrets.env.DBUS_SESSION_BUS_ADDRESS;
    delete process.env['ANTHROPIC_API_KEY'];
    ensureGitImage();
    dir = tempDir('drover-canary-');
    git = await startGitServer({ token: CANARY_GIT_TOKEN });
    git.createBareRepo('app.git', { 'README.md': '# app\n', 'notes.txt': 'first\n', 'config/leak.txt': `token=${CANARY_LEAKED}\n` });
    model = await startModelServer({
      apiKey: CANARY_API_KEY,
      respond: (request) => {
        const last = request.body.messages.at(-1);
        const answersTool = Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
        if (answersTool)
          return { kind: 'message', message: { content: [{ type: 'text', text: 'Pushed the change.' }], stop_reason: 'end_turn' } };
        const command = [
          'cd /workspace/app',
          'cat config/leak.txt',
          'echo second >> notes.txt',
          'git -c user.name=Agent -c user.email=agent@drover.invalid commit -qam "second line"',
          'git push -q origin HEAD:main 2>&1; echo "push-exit=$?"',
          'git remote get-url origin',
          'env | sort',
        ].join(' && ');
        return {
          kind: 'message',
          message: { content: [{ type: 'tool_use', name: 'box__bash', input: { command } }], stop_reason: 'tool_use' },
        };
      },
    });
    store = SessionStore.open({ dataDir: dir });
    vault = Vault.open({ dataDir: dir, keySource: createKeyringKeySource(dir) });
    host = createHost({
      store,
      vault,
      info: { version: 'test', dataDir: dir, platform: process.platform },
      baseURL: model.url,
      push: (message: PushMessage) => wire.push(JSON.stringify(message)),
      log: (message, error) =>
        logs.push(`${message} ${error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : (JSON.stringify(error) ?? '')}`),
    });
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    await vault?.close();
    store?.close();
    await model?.close();
    await git?.close();
    await secrets?.stop();
    if (containerId !== '') dockerCli('rm', '-f', containerId);
    if (dir !== undefined) removeInstanceObjects(instanceIdOf(dir)); // the session's snapshot
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** An RPC call as a UI makes it; the reply is recorded as the renderer would receive it. */
  async function call(name: string, arg?: unknown): Promise<unknown> {
    const outcome = await host.dispatch(name, arg);
    wire.push(JSON.stringify(outcome));
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result;
  }

  it('keeps the API key and a git token out of everything while a session clones, commits and pushes', async () => {
    // Through the UI's RPC: the key is stored and tested, the token stored; values never return.
    const keyStatus = (await call('api-key-set', { value: CANARY_API_KEY })) as { source: string; test: { ok: boolean } };
    expect(keyStatus).toMatchObject({ source: 'vault', test: { ok: true } });
    const token = (await call('secrets-create', { name: 'Git token', kind: 'git-token', value: CANARY_GIT_TOKEN })) as { id: string };
    await call('secrets-create', { name: 'Old deploy token', kind: 'token', value: CANARY_LEAKED });
    expect(JSON.stringify(await call('secrets-list'))).not.toContain('canary');

    const session = SessionSummarySchema.parse(
      await call('sessions-launch', {
        title: 'Canary',
        hands: [
          {
            name: 'box',
            config: {
              kind: 'docker',
              image: GIT_IMAGE,
              repos: [{ url: git.url('app.git'), token_secret_id: token.id, path: '/workspace/app' }],
            },
          },
        ],
        message: 'Add a line to notes.txt and push it.',
      }),
    );

    // Sample host command lines and the container's processes while the session runs (without
    // blocking this process's event loop, where the session itself runs).
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sampleHostCommandLines();
        const listed = await dockerAsync('ps', '-q', '--filter', `label=app.drover.session=${session.id}`);
        const id = listed.split('\n')[0]?.trim() ?? '';
        if (id !== '') {
          containerId = id;
          const processes = await dockerAsync('top', id, '-o', 'pid,args');
          if (processes !== '') containerProcesses.add(processes);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await waitForIdle(session.id);
    } finally {
      sampling = false;
      await sampler;
    }

    // The checkpoints after the tool call (or a turn-end snapshot) read the container: let them finish.
    await host.hands.settled();

    // The work happened: the commit is upstream, pushed through the proxy with the token.
    expect(git.git('app.git', 'log', '--format=%s', 'main')).toContain('second line');
    const result = store.getEvents(session.id, { types: ['agent.tool_result'] })[0];
    const output = JSON.stringify(result?.payload);
    expect(output).toContain('push-exit=0');
    // The repository's own leak was caught on the way out of the tool.
    expect(output).toContain('[secret “Old deploy token” redacted]');
    expect(output).not.toContain(CANARY_LEAKED);

    containerId = containerId || (dockerCli('ps', '-aq', '--filter', `label=app.drover.session=${session.id}`).split('\n')[0] ?? '');
    expect(containerId).not.toBe('');
    const inspect = dockerCli('inspect', containerId);
    const environment = dockerCli('exec', containerId, 'env');
    const gitConfig = dockerCli('exec', containerId, 'cat', '/workspace/app/.git/config');
    const files = exportContainer(containerId);
    expect(gitConfig).toContain('[remote "origin"]');

    // Checkpoints keep the container's files (the user's) in the data folder, some compressed: read back decoded.
    const blobRoot = path.join(dir, 'checkpoints', 'blobs');
    const blobStore = new BlobStore(dir);
    const blobNames = existsSync(blobRoot) ? (readdirSync(blobRoot, { recursive: true }) as string[]) : [];
    const blobHashes = blobNames.filter((name) => statSync(path.join(blobRoot, name)).isFile()).map((name) => name.replace(/[\\/]/, ''));
    const checkpointed = Buffer.concat(
      await Promise.all(blobHashes.filter((hash) => /^[0-9a-f]{64}$/.test(hash)).map((hash) => blobStore.get(hash))),
    );
    const places: Record<string, string | Buffer> = {
      'the data folder (SQLite, WAL, vault file)': folderBytes(dir),
      "the checkpoints' blobs, decoded": checkpointed,
      'the data folder but the checkpoints': Buffer.concat(
        readdirSync(dir)
          .filter((name) => name !== 'checkpoints')
          .map((name) => path.join(dir, name))
          .map((entry) => (statSync(entry).isDirectory() ? folderBytes(entry) : readFileSync(entry))),
      ),
      'log lines': logs.join('\n'),
      'RPC replies and pushes to the UI': wire.join('\n'),
      'docker inspect': inspect,
      "the container's environment": environment,
      "the container's files": files,
      "the container's processes": [...containerProcesses].join('\n'),
      'host command lines': [...hostCommandLines].join('\n'),
      "the model's requests": model.requests.map((request) => JSON.stringify(request.body)).join('\n'),
    };
    for (const canary of [CANARY_API_KEY, CANARY_GIT_TOKEN]) {
      for (const form of [canary, Buffer.from(`x-access-token:${canary}`).toString('base64')]) {
        for (const [where, haystack] of Object.entries(places)) {
          expect(occurrences(haystack, form), `${canary} in ${where}`).toBe(0);
        }
      }
    }
    // The leaked one is in the user's own repository files (which checkpoints keep), and nowhere else Drover writes.
    expect(occurrences(checkpointed, CANARY_LEAKED), "the user's file in a checkpoint").toBeGreaterThan(0);
    for (const where of ['the data folder but the checkpoints', 'log lines', 'RPC replies and pushes to the UI', "the model's requests"]) {
      expect(occurrences(places[where] ?? '', CANARY_LEAKED), `${CANARY_LEAKED} in ${where}`).toBe(0);
    }
    // The samplers did see the work (a check that cannot pass on empty samples).
    expect(containerProcesses.size).toBeGreaterThan(0);
    expect(hostCommandLines.size).toBeGreaterThan(0);
  }, 180_000);

  it('refuses a wrong keyring clearly and writes nothing in plaintext', async () => {
    const other = tempDir('drover-canary-other-');
    try {
      // Same vault file, but a keyring that has never seen its key: a fresh key source in a
      // data folder whose keyring account is different.
      const copy = Vault.open({ dataDir: other, keySource: createKeyringKeySource(other) });
      await copy.create({ name: 'x', kind: 'token', value: 'value-for-the-other-vault' });
      await copy.close();
      const vaultFile = readFileSync(path.join(other, 'vault.json'));
      expect(occurrences(vaultFile, 'value-for-the-other-vault')).toBe(0);
      // Move this data folder's vault file under the other folder's name: its key is not there.
      const misplaced = tempDir('drover-canary-misplaced-');
      try {
        const original = readFileSync(path.join(dir, 'vault.json'));
        writeFileSync(path.join(misplaced, 'vault.json'), original, { mode: 0o600 });
        const wrong = Vault.open({ dataDir: misplaced, keySource: createKeyringKeySource(misplaced) });
        const status = await wrong.status();
        expect(status.available).toBe(false);
        expect(status.reason).toMatch(/key/i);
        await expect(wrong.reveal('sec_0000000000000000', 'test')).rejects.toThrow();
        expect(readFileSync(path.join(misplaced, 'vault.json')).equals(original)).toBe(true);
        await wrong.close();
      } finally {
        rmSync(misplaced, { recursive: true, force: true });
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 60_000);
});

async function waitForIdle(sessionId: string): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    const [last] = store.getEvents(sessionId, {
      types: ['session.status_idle', 'session.status_terminated'],
      direction: 'backward',
      limit: 1,
    });
    if (last !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the session did not finish: ${JSON.stringify(store.getEvents(sessionId, { direction: 'backward', limit: 5 }))}`);
}

/** `docker …` without blocking; '' when it fails (the container may be starting or gone). */
function dockerAsync(...args: string[]): Promise<string> {
  return new Promise((resolve) =>
    execFile('docker', args, { encoding: 'utf8' }, (error, stdout) => resolve(error === null ? stdout.trim() : '')),
  );
}

function sampleHostCommandLines(): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (line !== '') hostCommandLines.add(line);
    } catch {
      // The process ended between listing and reading.
    }
  }
}

/** Every byte of every file under `folder`. */

/** The container's whole filesystem as a tar stream's bytes. */
function exportContainer(id: string): Buffer {
  return execFileSync('docker', ['export', id], { maxBuffer: 512 * 1024 * 1024 });
}

function occurrences(haystack: string | Buffer, needle: string): number {
  const text = typeof haystack === 'string' ? Buffer.from(haystack) : haystack;
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

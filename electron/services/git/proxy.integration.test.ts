// Drover's git proxy and the host-side clone against a real git server (git http-backend) that
// requires a token, with this machine's git as the client (see test/support/git-server.ts).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { GIT_IDENTITY, gitServerUnavailableReason, startGitServer, type GitServer } from '#test/support/git-server';
import { requirePart, tempDir } from '#test/support/system';
import { cloneThroughProxy, type CloneProgress } from './clone.ts';
import { GitProxy, type GitProxyRoute } from './proxy.ts';

const ready = requirePart('git (client and http-backend)', gitServerUnavailableReason());
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
/** The token as it travels in a header: it must not show up there either. */
const TOKEN_FORMS = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString('base64')];

let server: GitServer;
let proxy: GitProxy;
const logs: string[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

beforeAll(async () => {
  if (!ready) return;
  server = await startGitServer({ token: TOKEN });
  server.createBareRepo('app.git', { 'README.md': '# app\n', 'src/main.sh': 'echo hello\n' });
  // Incompressible bytes: the clone takes long enough to be watched in /proc.
  server.createBareRepo('big.git', { 'README.md': '# big\n', 'data.bin': randomBytes(6 * 1024 * 1024).toString('base64') });
  proxy = new GitProxy({ log: (line) => logs.push(line) });
  await proxy.start({ hosts: ['127.0.0.1'] });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function route(repo: string, token: () => Promise<string | null> = () => Promise.resolve(TOKEN)): GitProxyRoute {
  const registered = proxy.register({ upstream: server.url(repo), token });
  cleanups.push(() => proxy.unregister(registered));
  return registered;
}

function dest(): string {
  const dir = tempDir('drover-clone-test-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'repo');
}

function clone(
  url: string,
  options: { branch?: string | null; tokenName?: string | null; onProgress?: (progress: CloneProgress) => void; git?: string } = {},
): Promise<string> {
  const into = dest();
  return cloneThroughProxy({
    proxyUrl: url,
    dest: into,
    branch: options.branch ?? null,
    signal: AbortSignal.timeout(60_000),
    repo: 'http://git.example/team/app.git',
    tokenName: options.tokenName === undefined ? 'the vault secret sec_0123456789abcdef' : options.tokenName,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.git ? { git: options.git } : {}),
  }).then(() => into);
}

/** `git` on this machine as a user would run it, with no way to prompt (async: the server runs in this process). */
function git(cwd: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-c', 'credential.helper=', ...GIT_IDENTITY, ...args],
      { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function holdsToken(bytes: Buffer): boolean {
  return TOKEN_FORMS.some((form) => bytes.includes(form));
}

/** Every process's command line (and a git process's environment), sampled until stopped. */
function watchProcesses(): { stop(): { samples: number; lines: string[] } } {
  const seen = new Set<string>();
  let samples = 0;
  const sample = (): void => {
    samples++;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`).toString('utf8').split('\0').join(' ');
        seen.add(cmdline);
        if (/\bgit\b/.test(cmdline)) seen.add(`env of ${pid}: ${readFileSync(`/proc/${pid}/environ`).toString('utf8')}`);
      } catch {
        // gone between the listing and the read
      }
    }
  };
  const timer = setInterval(sample, 2);
  return {
    stop() {
      clearInterval(timer);
      return { samples, lines: [...seen] };
    },
  };
}

describe.runIf(ready)('the git proxy', () => {
  it('clones a token-protected repository through the proxy; no token anywhere git or the clone can see', async () => {
    const big = route('big.git');
    const progress: CloneProgress[] = [];
    const watcher = watchProcesses();
    const before = server.requests.length;
    const into = await clone(big.urlFor('127.0.0.1'), { onProgress: (p) => progress.push(p) });
    const watched = watcher.stop();

    expect(readFileSync(path.join(into, 'README.md'), 'utf8')).toBe('# big\n');
    const requests = server.requests.slice(before);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((request) => request.auth && request.status === 200)).toBe(true);
    expect(requests.map((request) => request.path)).toContain('/big.git/git-upload-pack');
    expect(progress.some((p) => p.stage === 'Receiving objects' && p.percent === 100)).toBe(true);

    // The clone: its config names the capability URL only; no byte of any file holds the token.
    const config = readFileSync(path.join(into, '.git', 'config'), 'utf8');
    expect(config).toContain(`url = ${big.urlFor('127.0.0.1')}`);
    const files = filesUnder(into);
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((file) => holdsToken(readFileSync(file)))).toEqual([]);

    // The processes while it cloned: the watcher saw the clone (by its capability URL), never the token.
    expect(watched.samples).toBeGreaterThan(3);
    expect(watched.lines.some((line) => line.includes(big.urlFor('127.0.0.1')))).toBe(true);
    expect(watched.lines.filter((line) => TOKEN_FORMS.some((form) => line.includes(form)))).toEqual([]);

    expect(logs.some((line) => line.includes('big.git GET info/refs → 200'))).toBe(true);
    expect(logs.filter((line) => holdsToken(Buffer.from(line)) || /[0-9a-f]{32}/.test(line))).toEqual([]);
  });

  it('is needed: the server refuses the same clone without the token (401)', async () => {
    const before = server.requests.length;
    const direct = await git(path.dirname(dest()), 'clone', server.url('app.git'), 'direct');
    expect(direct.status).not.toBe(0);
    expect(server.requests.slice(before)).toContainEqual(expect.objectContaining({ path: '/app.git/info/refs', status: 401, auth: false }));
    // Through the proxy without a token: a clear error, not a password prompt.
    await expect(clone(route('app.git', () => Promise.resolve(null)).urlFor('127.0.0.1'), { tokenName: null })).rejects.toThrow(
      /^The git server wants credentials for http:\/\/git\.example\/team\/app\.git: it is private/,
    );
  });

  it('says clearly when the token is refused, and picks up a replaced token at once', async () => {
    let token = 'wrong-token';
    const changing = route('app.git', () => Promise.resolve(token));
    const refused = clone(changing.urlFor('127.0.0.1'));
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toThrow(
      'The git server refused the token in the vault secret sec_0123456789abcdef: check it has read access to http://git.example/team/app.git',
    );
    await refused.catch((error: unknown) => expect(String(error)).not.toMatch(/[0-9a-f]{32}/)); // no capability in the message
    // The vault cannot give the token (deleted, locked): its reason reaches the user.
    const missing = route('app.git', () =>
      Promise.reject(new AppError('not-found', 'There is no secret sec_0123456789abcdef in the vault.')),
    );
    await expect(clone(missing.urlFor('127.0.0.1'))).rejects.toThrow(
      /^Drover could not get the token for 127\.0\.0\.1:\d+\/app\.git: There is no secret sec_0123456789abcdef in the vault\. Check the repository's token secret/,
    );
    token = TOKEN;
    const into = await clone(changing.urlFor('127.0.0.1'));
    expect(readFileSync(path.join(into, 'src/main.sh'), 'utf8')).toBe('echo hello\n');
  });

  it('pushes through the proxy: the commit lands in the server repository', async () => {
    const app = route('app.git');
    const into = await clone(app.urlFor('127.0.0.1'));
    writeFileSync(path.join(into, 'CHANGES.md'), 'pushed through the proxy\n');
    expect((await git(into, 'add', '-A')).status).toBe(0);
    expect((await git(into, 'commit', '-q', '-m', 'Through the proxy')).status).toBe(0);
    const before = server.requests.length;
    const push = await git(into, 'push', 'origin', 'HEAD:refs/heads/pushed');
    expect(push.stderr).toContain('[new branch]');
    expect(push.status).toBe(0);
    expect(server.git('app.git', 'log', '--format=%s', 'pushed')).toBe('Through the proxy\nInitial commit');
    expect(server.requests.slice(before)).toContainEqual(
      expect.objectContaining({ method: 'POST', path: '/app.git/git-receive-pack', status: 200, auth: true }),
    );
    expect(filesUnder(into).filter((file) => holdsToken(readFileSync(file)))).toEqual([]);
  });

  it('answers 404 for an unknown or unregistered capability, and forwards only git requests', async () => {
    const port = new URL(route('app.git').urlFor('127.0.0.1')).port;
    const unknown = await fetch(`http://127.0.0.1:${port}/${'0'.repeat(32)}/info/refs?service=git-upload-pack`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/^Drover's git proxy: this repository link is unknown or expired[^\n]*\n$/);

    const gone = proxy.register({ upstream: server.url('app.git'), token: () => Promise.resolve(TOKEN) });
    proxy.unregister(gone);
    expect((await fetch(`${gone.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`)).status).toBe(404);

    const app = route('app.git');
    const before = server.requests.length;
    expect((await fetch(`${app.urlFor('127.0.0.1')}../../other.git/info/refs`)).status).toBe(404);
    expect((await fetch(`${app.urlFor('127.0.0.1')}%2e%2e/%2e%2e/other.git/info/refs`)).status).toBe(404);
    expect((await fetch(`${app.urlFor('127.0.0.1')}settings`)).status).toBe(404);
    expect((await fetch(`${app.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`, { method: 'PUT' })).status).toBe(405);
    expect(server.requests.length).toBe(before);
    expect((await fetch(`${app.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`)).status).toBe(200);
  });

  it("drops the client's own Authorization and Cookie", async () => {
    const open = route('app.git', () => Promise.resolve(null));
    const before = server.requests.length;
    const response = await fetch(`${open.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`, {
      headers: { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, Cookie: 'session=1' },
    });
    // Forwarded, that header would have opened the repository; dropped, the server asks for credentials.
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('asks for credentials');
    expect(server.requests.slice(before)).toEqual([expect.objectContaining({ status: 401, auth: false })]);
  });

  it('follows a same-origin redirect (a renamed repository) but never sends the token to another origin', async () => {
    server.move('old-name.git', 'app.git');
    const renamed = route('old-name.git');
    const into = await clone(renamed.urlFor('127.0.0.1'));
    expect(readFileSync(path.join(into, 'README.md'), 'utf8')).toBe('# app\n');

    // Another origin redirects to the git server: the proxy refuses to follow.
    let hits = 0;
    const elsewhere = http.createServer((request, response) => {
      hits++;
      response.writeHead(302, { Location: `${server.origin}/app.git${(request.url ?? '').replace(/^\/[^/]+/, '')}` });
      response.end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())));
    const address = elsewhere.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const redirecting = proxy.register({ upstream: `http://127.0.0.1:${port}/app.git`, token: () => Promise.resolve(TOKEN) });
    cleanups.push(() => proxy.unregister(redirecting));
    const before = server.requests.length;
    const response = await fetch(`${redirecting.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`);
    expect(response.status).toBe(502);
    expect(await response.text()).toContain(
      `redirected 127.0.0.1:${port}/app.git to 127.0.0.1:${server.origin.split(':').pop() ?? ''}; Drover does not send the token to another host`,
    );
    expect(hits).toBe(1);
    expect(server.requests.length).toBe(before);
  });

  it('answers 502 with a message git shows when the server is unreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = proxy.register({ upstream: `http://127.0.0.1:${port}/app.git`, token: () => Promise.resolve(TOKEN) });
    cleanups.push(() => proxy.unregister(unreachable));
    const response = await fetch(`${unreachable.urlFor('127.0.0.1')}info/refs?service=git-upload-pack`);
    expect(response.status).toBe(502);
    expect(await response.text()).toBe(
      `Drover's git proxy could not reach 127.0.0.1:${port}: the connection was refused (is the server running?)\n`,
    );
    await expect(clone(unreachable.urlFor('127.0.0.1'))).rejects.toThrow(
      `Drover could not reach the git server of http://git.example/team/app.git: Drover's git proxy could not reach 127.0.0.1:${port}`,
    );
  });

  it('says so when a branch does not exist, or when git is missing on this computer', async () => {
    const app = route('app.git');
    await expect(clone(app.urlFor('127.0.0.1'), { branch: 'nope' })).rejects.toThrow(
      'http://git.example/team/app.git has no branch "nope"',
    );
    await expect(clone(app.urlFor('127.0.0.1'), { git: '/nonexistent/git' })).rejects.toThrow(
      /^Drover clones repositories with git on this computer, and git is not installed here/,
    );
    const main = await clone(app.urlFor('127.0.0.1'), { branch: 'main' });
    expect(execFileSync('git', ['-C', main, 'branch', '--show-current'], { encoding: 'utf8' }).trim()).toBe('main');
  });

  it('listens on several addresses, on one port where it can', async () => {
    const more = new GitProxy();
    cleanups.push(() => more.close());
    await more.start({ hosts: ['127.0.0.1'] });
    await more.start({ hosts: ['127.0.0.1', '127.0.0.2'] });
    expect(more.hosts()).toEqual(['127.0.0.1', '127.0.0.2']);
    const app = more.register({ upstream: server.url('app.git'), token: () => Promise.resolve(TOKEN) });
    expect(new URL(app.urlFor('127.0.0.2')).port).toBe(new URL(app.urlFor('127.0.0.1')).port);
    expect((await fetch(`${app.urlFor('127.0.0.2')}info/refs?service=git-upload-pack`)).status).toBe(200);
    expect(() => app.urlFor('10.9.8.7')).toThrow("Drover's git proxy does not listen on 10.9.8.7.");
    await expect(more.start({ hosts: ['192.0.2.1'] })).rejects.toThrow(
      "Drover's git proxy could not listen on 192.0.2.1 (this computer has no such address): EADDRNOTAVAIL.",
    );
  });
});

/**
 * The host side of bringing a repository into a hand: `git clone` run on this computer through
 * Drover's git proxy (see proxy.ts), with its progress, and errors written for the user.
 *
 * The clone's URL is the proxy's capability URL, which holds no secret: nothing on this command
 * line, in git's environment or in the clone's `.git/config` is a credential. It must never pass a
 * token to git (argument, environment, config or credential helper); the proxy adds it upstream.
 */
import { spawn } from 'node:child_process';
import { AppError } from '#shared/errors';

export interface CloneProgress {
  /** git's stage, e.g. "Receiving objects", "Resolving deltas". */
  stage: string;
  percent: number;
  /** Objects (or deltas) done and in all, in this stage. */
  current: number;
  total: number;
}

export interface CloneOptions {
  /** The repository's capability URL on the proxy's 127.0.0.1 address. */
  proxyUrl: string;
  /** An empty or missing folder to clone into. */
  dest: string;
  /** The branch to check out; null: the repository's default branch. */
  branch: string | null;
  signal: AbortSignal;
  onProgress?: (progress: CloneProgress) => void;
  /** The repository as the user knows it (its URL): errors name it, never the proxy's URL. */
  repo?: string;
  /** What held the token, for "the git server refused the token in …"; null: there was no token. */
  tokenName?: string | null;
  /** The git program (default: `git` on the PATH). */
  git?: string;
}

/**
 * Config for every git run here: no credential helper or askpass can be asked (the proxy adds the
 * token), line endings and symlinks as the repository has them whatever this computer's
 * defaults are (the files go to a Linux container).
 */
const SAFE_CONFIG = ['-c', 'credential.helper=', '-c', 'core.askPass=', '-c', 'core.autocrlf=false', '-c', 'core.symlinks=true'];

/** Clones `proxyUrl` into `dest`. Rejects with an AppError saying what went wrong and what to do. */
export async function cloneThroughProxy(options: CloneOptions): Promise<void> {
  const repo = options.repo ?? options.proxyUrl;
  const args = [
    ...SAFE_CONFIG,
    'clone',
    '--progress',
    '--no-recurse-submodules',
    ...(options.branch ? ['--branch', options.branch] : []),
    '--',
    options.proxyUrl,
    options.dest,
  ];
  let lastReport = 0;
  const result = await runGit(options.git ?? 'git', args, {
    signal: options.signal,
    onStderrLine: (line) => {
      const progress = parseProgress(line);
      if (!progress || !options.onProgress) return;
      const now = Date.now();
      if (progress.percent < 100 && now - lastReport < 100) return;
      lastReport = now;
      options.onProgress(progress);
    },
  }).catch((error: unknown) => {
    throw spawnFailure(error, options.signal);
  });
  if (result.code === 0) return;
  throw cloneFailure(scrub(result.stderr, options.proxyUrl, repo), { repo, branch: options.branch, tokenName: options.tokenName ?? null });
}

/** Sets `remote.origin.url` in a git config file (a clone's `.git/config`) with this computer's git. */
export async function setOriginUrl(configFile: string, url: string, options: { git?: string; signal?: AbortSignal } = {}): Promise<void> {
  const result = await runGit(options.git ?? 'git', ['config', '--file', configFile, 'remote.origin.url', url], {
    signal: options.signal ?? new AbortController().signal,
  }).catch((error: unknown) => {
    throw spawnFailure(error, options.signal);
  });
  if (result.code !== 0)
    throw new Error(`git could not set the remote in ${configFile}: ${result.stderr.trim() || `exit code ${result.code}`}`);
}

/** A line of `git clone --progress` as progress, or null. */
export function parseProgress(line: string): CloneProgress | null {
  const match = /^(?:remote: )?([A-Z][a-z]+(?: [a-z]+)*):\s+(\d+)% \((\d+)\/(\d+)\)/.exec(line.trim());
  if (!match) return null;
  const [, stage = '', percent = '0', current = '0', total = '0'] = match;
  return { stage, percent: Number(percent), current: Number(current), total: Number(total) };
}

// ------------------------------------------------------------------------------- internals

interface GitRun {
  code: number | null;
  stderr: string;
}

const MAX_STDERR = 64 * 1024;

function runGit(git: string, args: string[], options: { signal: AbortSignal; onStderrLine?: (line: string) => void }): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      LC_ALL: 'C',
      LANGUAGE: 'C',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    };
    // Nothing may ask for a password, nor route 127.0.0.1 through another proxy.
    for (const name of [
      'GIT_ASKPASS',
      'SSH_ASKPASS',
      'GIT_CONFIG_PARAMETERS',
      'GIT_DIR',
      'GIT_WORK_TREE',
      'http_proxy',
      'HTTP_PROXY',
      'all_proxy',
      'ALL_PROXY',
    ])
      delete env[name];
    const child = spawn(git, args, { env, stdio: ['ignore', 'ignore', 'pipe'], signal: options.signal, windowsHide: true });
    let stderr = '';
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_STDERR);
      // Progress lines end in \r (updated in place) or \n.
      const lines = (partial + chunk).split(/[\r\n]/);
      partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') options.onStderrLine?.(line);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

function spawnFailure(error: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return new Error('The clone was stopped.', { cause: error });
  if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') {
    return new AppError(
      'not-found',
      'Drover clones repositories with git on this computer, and git is not installed here (or not on the PATH): install git (https://git-scm.com/downloads; Debian/Ubuntu: apt install git; macOS: xcode-select --install), then start the hand again.',
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** git's messages name the URL it used: the user knows the repository's own. */
function scrub(stderr: string, proxyUrl: string, repo: string): string {
  return stderr.split(proxyUrl).join(repo).split(proxyUrl.replace(/\/$/, '')).join(repo);
}

function cloneFailure(stderr: string, context: { repo: string; branch: string | null; tokenName: string | null }): AppError {
  const lines = stderr
    .split(/[\r\n]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && parseProgress(line) === null && !line.startsWith('Cloning into'));
  const detail = lines.slice(-4).join(' ');
  const { repo } = context;
  // The proxy's own messages (git prints a text/plain body as "remote: …").
  const said = lines.find((line) => line.includes("Drover's git proxy"))?.replace(/^remote:\s*/, '');
  if (said?.includes('could not get the token')) {
    return new AppError(
      'not-found',
      `${said.replace(/^Drover's git proxy c/, 'Drover c')} Check the repository's token secret in the vault, then start the hand again.`,
    );
  }
  if (
    /refused the token|asks for credentials|returned error: 40[13]\b|Authentication failed|could not read (Username|Password)/.test(stderr)
  ) {
    if (context.tokenName === null) {
      return new AppError(
        'invalid-argument',
        `The git server wants credentials for ${repo}: it is private, or only its owner may read it. Give the repository a token secret (a git token with read access), then start the hand again.`,
      );
    }
    return new AppError(
      'invalid-argument',
      `The git server refused the token in ${context.tokenName}: check it has read access to ${repo} (and write access, to push) and has not expired, or replace it in the vault, then start the hand again.`,
    );
  }
  if (
    /could not reach|Could not resolve host|Failed to connect|Connection refused|Connection timed out|returned error: 50[234]\b/.test(
      stderr,
    )
  ) {
    return new AppError(
      'not-found',
      `Drover could not reach the git server of ${repo}: ${said ?? detail}. Check the URL and this computer's network, then start the hand again.`,
    );
  }
  if (context.branch !== null && /Remote branch .* not found|couldn't find remote ref/i.test(stderr)) {
    return new AppError(
      'not-found',
      `${repo} has no branch "${context.branch}". Check the branch name in the hand's repository settings (or leave it empty for the default branch).`,
    );
  }
  if (/returned error: 404\b|not found|does not appear to be a git repository/i.test(stderr)) {
    return new AppError(
      'not-found',
      `The git server has no repository at ${repo}${context.tokenName === null ? '' : ` that the token in ${context.tokenName} can see`}. Check the URL (and the token's access: some servers answer "not found" to a token without access).`,
    );
  }
  return new AppError('not-found', `git could not clone ${repo}: ${said ?? (detail || 'it failed without a message')}.`);
}

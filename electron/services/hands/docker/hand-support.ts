/** Small helpers of the Docker hand (docker-hand.ts). */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { DockerHandConfig, GitRepo } from '#shared/hands';
import { setOriginUrl } from '#services/git/clone';
import type { SecretResolver } from '#services/vault/resolver';
import type { DockerEngine } from './engine.ts';
import type { ArchiveOwner } from './folder-archive.ts';

/** Keeps the container alive doing nothing; `docker stop` ends it at once. */
export const IDLE_COMMAND = 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done';
/** A thread's read-only copy of a hand (issue 21): writes fail with EROFS, except in a small /tmp. */
export const READ_ONLY_ROOT = { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=256m' } } as const;
/** A hand's name where Docker allows fewer characters (container names, image tags): a copy's `box~a1b2` as `box.a1b2`. */
export function dockerSafe(name: string): string {
  return name.replace(/[^a-zA-Z0-9_.-]/g, '.');
}
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** No pagers (nothing would page them), no prompts from package managers, colours where a tool chooses them. */
export const SHELL_ENV = ['TERM=xterm-256color', 'PAGER=cat', 'GIT_PAGER=cat', 'DEBIAN_FRONTEND=noninteractive'];
/** Where the proxy listens for the host-side clone. */
export const LOOPBACK = '127.0.0.1';

/** A hash of what a container is made from: a kept container is reused only when it matches. */
export function configHash(config: DockerHandConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/** The files of a checkpoint could not be put into a new container: it starts without them (the message says so). */
export class RestoreFailedError extends Error {}

/** A repository's URL as shown to people: without query or fragment. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

export function isEngineError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ('statusCode' in error || 'code' in error);
}

export async function checkHostFolder(hostPath: string): Promise<void> {
  if (!path.isAbsolute(hostPath)) throw new Error(`The mount source ${hostPath} is not an absolute path. Edit the hand's mounts.`);
  try {
    await stat(hostPath);
  } catch {
    throw new Error(`The folder ${hostPath} to mount does not exist on this computer. Create it or edit the hand's mounts.`);
  }
}

/** Creates the folder a repository goes to; the container user's ids (its files will be theirs). */
export async function prepareFolder(
  engine: DockerEngine,
  container: Docker.Container,
  folder: string,
  signal: AbortSignal,
): Promise<ArchiveOwner> {
  const result = await engine.exec(
    container,
    ['/bin/sh', '-c', 'mkdir -p "$1" || exit 1; id -u 2>/dev/null || echo 0; id -g 2>/dev/null || echo 0', 'sh', folder],
    { signal },
  );
  if (result.exitCode !== 0)
    throw new Error(
      `Could not create ${folder} in the container for the repository: ${result.stderr.toString('utf8').trim() || `exit code ${result.exitCode ?? 'unknown'}`}.`,
    );
  const [uid = 0, gid = 0] = result.stdout
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => Number.parseInt(line, 10) || 0);
  return { uid, gid };
}

/**
 * Points a repository's `origin` (in the container) at the proxy's current URL: rewritten with
 * this computer's git, so it works in images without git. A note when the repository is gone.
 */
export async function pointOrigin(
  engine: DockerEngine,
  container: Docker.Container,
  repo: GitRepo,
  remote: string,
  signal: AbortSignal,
): Promise<string | null> {
  const configPath = `${repo.path.replace(/\/$/, '')}/.git/config`;
  const read = await engine.exec(container, ['cat', configPath], { signal });
  if (read.exitCode !== 0) {
    return `Note: ${repo.path} is no longer a git repository in the container (${read.stderr.toString('utf8').trim() || 'no .git/config'}), so its origin could not be pointed at ${displayUrl(repo.url)}.`;
  }
  const temp = await mkdtemp(path.join(tmpdir(), 'drover-git-config-'));
  try {
    const file = path.join(temp, 'config');
    await writeFile(file, read.stdout);
    await setOriginUrl(file, remote, { signal });
    const updated = await readFile(file);
    if (updated.equals(read.stdout)) return null;
    const write = await engine.exec(container, ['/bin/sh', '-c', 'cat > "$1"', 'sh', configPath], { stdin: updated, signal });
    if (write.exitCode !== 0)
      throw new Error(
        `Could not update ${configPath} in the container: ${write.stderr.toString('utf8').trim() || `exit code ${write.exitCode ?? 'unknown'}`}.`,
      );
    return null;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** A repository's token, read from the vault on each request the git proxy forwards (a replaced secret takes effect at once). */
export function repoToken(repo: GitRepo, shown: string, secrets: SecretResolver | undefined): () => Promise<string | null> {
  const id = repo.token_secret_id;
  if (id === null) return () => Promise.resolve(null);
  return async () => {
    if (!secrets) throw new Error('this Drover has no vault');
    return secrets.reveal(id, `git clone/fetch/push for ${shown}`);
  };
}

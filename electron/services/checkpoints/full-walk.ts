/**
 * A container's whole tree (in checkpoint scope) as a manifest, by walking it inside the container
 * with busybox-level tools (`find`, `stat`, `sha256sum`, `readlink`): every path with its type,
 * mode, owner, size, content hash or link target, and file mtime. Nothing is stored.
 *
 * It is the independent measure of a checkpoint: two containers whose walks are equal have the
 * same files. It reads every byte of every file, so it costs the tree's size — a check, not a
 * capture (captures read only what changed, docker-capture.ts).
 */
import type Docker from 'dockerode';
import type { DockerEngine } from '#services/hands/docker/engine';
import { scopeOf } from './container-io.ts';
import { comparePaths, type Manifest, type ManifestEntry } from './manifest.ts';

export async function walkContainer(engine: DockerEngine, container: Docker.Container): Promise<Manifest> {
  const scope = await scopeOf(engine, container);
  const prune = ['(', ...scope.excluded.flatMap((path, index) => [...(index === 0 ? [] : ['-o']), '-path', path]), ')', '-prune', '-o'];
  const run = async (tail: string[]): Promise<string> => {
    const result = await engine.exec(container, ['find', '/', ...prune, ...tail]);
    if (result.exitCode !== 0) throw new Error(`Walking the container failed: ${result.stderr.toString('utf8').trim()}`);
    return result.stdout.toString('utf8');
  };
  const stats = await run(['-exec', 'stat', '-c', '%f %u %g %s %Y %n', '{}', '+']);
  const sums = await run(['-type', 'f', '-exec', 'sha256sum', '{}', '+']);
  const links = await run([
    '-type',
    'l',
    '-exec',
    'sh',
    '-c',
    'for p; do printf "%s\\0%s\\0" "$p" "$(readlink "$p")"; done',
    'sh',
    '{}',
    '+',
  ]);

  const hashes = new Map<string, string>();
  for (const line of sums.split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
    if (match) hashes.set(match[2] ?? '', match[1] ?? '');
  }
  const targets = new Map<string, string>();
  const parts = links.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) targets.set(parts[i] ?? '', parts[i + 1] ?? '');

  const entries: ManifestEntry[] = [];
  for (const line of stats.split('\n')) {
    const match = /^([0-9a-f]+) (\d+) (\d+) (\d+) (\d+) (.*)$/.exec(line);
    const path = match?.[6];
    if (!match || !path || path === '/') continue;
    const raw = Number.parseInt(match[1] ?? '0', 16);
    const format = raw & 0o170000;
    const base = { path, mode: raw & 0o7777, uid: Number(match[2]), gid: Number(match[3]) };
    const mtime = Number(match[5]);
    if (format === 0o040000) entries.push({ ...base, type: 'dir', size: 0 });
    else if (format === 0o120000) entries.push({ ...base, type: 'symlink', size: 0, target: targets.get(path) ?? '', mtime });
    else if (format === 0o100000) entries.push({ ...base, type: 'file', size: Number(match[4]), hash: hashes.get(path) ?? '', mtime });
  }
  entries.sort((a, b) => comparePaths(a.path, b.path));
  return { version: 1, base: null, entries };
}

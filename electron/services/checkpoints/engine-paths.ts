/**
 * Folders the Docker engine makes in a container as it starts it, before any tool runs: the
 * working directory (`WorkingDir`, e.g. /workspace) and its parents, and the parents of every mount
 * point — /sbin for the init program `Init: true` binds at /sbin/docker-init, /mnt/host for a host
 * folder mounted at /mnt/host/data, and so on (Docker's own /etc files and /.dockerenv live in a
 * layer `docker diff` does not report). `docker diff` names these folders as added (or, when the
 * image has them, changed), so without care the first checkpoint of every fresh container would
 * count them as the first tool's changes ("3 files changed" for one file written) and the Changes
 * view would list /sbin and /workspace as added.
 *
 * A capture leaves such a folder out of the manifest while it is as the engine left it: added
 * with the engine's mode and owner (0755, root — how it makes them), or of the image and with the
 * image's mode and owner (the engine only added a mount point in it). A tool's chmod or chown of
 * one shows as a change as usual. Restores make them again: a fresh container has them anyway,
 * and an in-place restore writes the engine's folder (or the image's) where the target leaves one
 * out (docker-restore.ts), instead of deleting it.
 */
import type { ContainerScope } from './container-io.ts';
import { sameMode, type ManifestEntry } from './manifest.ts';

/** The engine's mode for the folders it makes (MkdirAll 0755, owned by the container's root). */
const ENGINE_MODE = 0o755;

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * The folders the engine makes for a container: `workingDir` and its parents, and the parents of
 * `mountPoints` (normalised absolute paths) — never `/`, nor a path `excluded` covers. Sorted.
 */
export function engineMadeFolders(workingDir: string, mountPoints: readonly string[], excluded: readonly string[]): string[] {
  const made = new Set<string>();
  const withParents = (start: string): void => {
    for (let path = start; path !== '/' && path.startsWith('/'); path = parentOf(path)) made.add(path);
  };
  if (workingDir.startsWith('/')) withParents(workingDir.replace(/\/+/g, '/').replace(/\/$/, ''));
  for (const point of mountPoints) withParents(parentOf(point));
  const covered = (path: string): boolean => excluded.some((root) => path === root || path.startsWith(`${root}/`));
  return [...made].filter((path) => !covered(path)).sort();
}

/** The folder the engine makes at `path`, as a manifest entry (added: the image lacks it). */
export function engineFolder(path: string): ManifestEntry {
  return { path, type: 'dir', mode: ENGINE_MODE, uid: 0, gid: 0, size: 0, added: true };
}

/**
 * Whether a capture's `entry` is one of the scope's engine-made folders as the engine left it.
 * `image`: the image's entry for the path (null: the image lacks it; undefined: unknown — then a
 * folder of the image is kept, never guessed).
 */
export function asTheEngineMadeIt(entry: ManifestEntry, scope: ContainerScope, image: ManifestEntry | null | undefined): boolean {
  if (entry.type !== 'dir' || !scope.made.includes(entry.path)) return false;
  if (entry.added) return sameMode(entry, engineFolder(entry.path));
  return image !== null && image !== undefined && image.type === 'dir' && sameMode(image, entry);
}

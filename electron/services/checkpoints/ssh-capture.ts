/**
 * A checkpoint of an SSH hand's working folder, costing what changed since the last one (issue 20).
 *
 * The manifest is a whole tree (`base: null`) of the folder: every file, folder (empty ones too)
 * and symbolic link below it, by absolute path (`/home/me/project/src/a.ts`); the folder itself is
 * not an entry, nothing outside it is covered. The `hand.checkpoint` event's `base` names the folder
 * (`ssh:user@host:port:/home/me/project`, see `sshBase`).
 *
 * One remote shell script per capture (POSIX `sh` with `find -print0`, `stat -c`, `xargs -0`, `awk`,
 * `tar`, `mktemp`, `dd` and `date` — GNU or busybox): it prints the machine's clock, every path
 * (NUL-separated), their stat lines, `::tar::`, then a tar of the files and links whose ctime is at
 * or after the previous capture's clock. Paths the previous manifest lacks or whose stat disagrees
 * with it, yet were not in that tar (a clock set back, a name with a newline), are read in a second
 * exec by name. Deletions are the previous manifest's paths that are gone. Paths are data: the
 * folder and any list of names go on stdin (the folder as `dd`-counted bytes, names NUL-separated),
 * never into a command's text.
 */
import { performance } from 'node:perf_hooks';
import { BlobQueue, type BlobStore } from './blob-store.ts';
import { FileWriter } from './container-io.ts';
import { afterMarker, countChanged, parseStat, sameStat, type Stat } from './docker-capture.ts';
import { comparePaths, entryMap, loadManifest, storeManifest, type Checkpoint, type Manifest, type ManifestEntry } from './manifest.ts';
import { readTar } from './tar.ts';

/** A command on the machine with bytes on its stdin and its stdout streamed (SshConnection.execStream). */
export type RemoteExec = (
  command: string,
  stdin: Buffer | AsyncIterable<Buffer>,
  signal?: AbortSignal,
) => Promise<{ stdout: AsyncIterable<Buffer>; done: Promise<{ exitCode: number | null; stderr: string }> }>;

/** What a hand's `hand.checkpoint` events say they are laid over: the machine and its folder. */
export function sshBase(machine: string, folder: string): string {
  return `ssh:${machine}:${folder}`;
}

/** Reads the folder from stdin (`$1` bytes, then whatever follows is the command's) and enters it. */
const ENTER = `d=$(dd bs=1 count="$1" 2>/dev/null); cd -- "$d" || { echo "cannot enter the folder $d" >&2; exit 3; }`;

/** `sh -c WALK sh BYTES SECOND`: the clock, the NUL list, the stat lines, `::tar::`, a tar of files/links with ctime ≥ SECOND. */
const WALK = `${ENTER}
t=$(mktemp) || exit 4
trap 'rm -f "$t"' EXIT
date +%s
find . -mindepth 1 -print0 > "$t" 2>/dev/null
cat "$t"
printf '\\000'
s=$(xargs -0 -r stat -c '%f %u %g %s %Y %Z %n' -- < "$t" 2>/dev/null)
printf '%s\\n::tar::\\n' "$s"
printf '%s\\n' "$s" | awk -v t="$2" '{ k = substr($1, 1, 1); n = $0; for (i = 0; i < 6; i++) sub(/^[^ ]+ /, "", n);
  if ((k == "8" || k == "a") && $6 >= t) print n }' | tr '\\n' '\\000' | xargs -0 -r tar -cf - --no-recursion -- 2>/dev/null
exit 0`;

/** `sh -c READ sh BYTES`: a tar of the NUL-separated names on stdin (after the folder). */
const READ = `${ENTER}
xargs -0 -r tar -cf - --no-recursion -- 2>/dev/null
exit 0`;

/** What the machine needs, checked once per connection (`command -v`). */
const TOOLS = ['find', 'stat', 'xargs', 'awk', 'tar', 'mktemp', 'dd', 'date', 'tr', 'rm'];

/** Runs a script with `sh -c`, its arguments numbers only. */
export function scriptCommand(script: string, ...args: number[]): string {
  return `exec /bin/sh -c '${script.replace(/'/g, `'\\''`)}' sh ${args.map((arg) => String(Math.max(0, Math.floor(arg)))).join(' ')}`;
}

/** The folder (as `ENTER` reads it) followed by `rest`. */
export function withFolder(folder: string, rest: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(folder), rest]);
}

/** Why checkpoints cannot be taken on this machine (a tool missing), or null. */
export async function sshCheckpointsUnavailable(exec: RemoteExec, signal?: AbortSignal): Promise<string | null> {
  const probe = `for c in ${TOOLS.join(' ')}; do command -v "$c" >/dev/null 2>&1 || printf '%s ' "$c"; done; find . -maxdepth 0 -print0 >/dev/null 2>&1 || printf 'find-print0 '; stat -c %f . >/dev/null 2>&1 || printf 'stat-c '`;
  const run = await exec(scriptCommand(probe), Buffer.alloc(0), signal); // sh whatever the login shell
  const output = (await collect(run.stdout)).toString('utf8').trim();
  await run.done;
  if (output === '') return null;
  return `This machine lacks ${output.split(/\s+/).join(', ')} (checkpoints need POSIX sh with find -print0, stat -c, xargs -0, awk, tar, mktemp, dd and date — GNU or busybox), so its files are not checkpointed.`;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of source) pieces.push(piece);
  return Buffer.concat(pieces);
}

/** A path on the machine and its stat (`ctime` too: what tells the capture a path changed). */
export interface WalkedPath {
  stat: Stat;
  ctime: number;
}

export interface Walk {
  /** The machine's clock (seconds) before it walked. */
  clock: number;
  /** By absolute path; sockets, fifos and devices are left out. */
  paths: Map<string, WalkedPath>;
}

/** `./a/b` (as find names it) under `folder`, as an absolute path. */
function absolute(folder: string, name: string): string {
  const rest = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  return folder === '/' ? `/${rest}` : `${folder}/${rest}`;
}

/** The header text of a walk's reply: `clock\n`, NUL-separated names, an empty name, the stat lines. */
function parseWalk(folder: string, text: string): Walk {
  const newline = text.indexOf('\n');
  const clock = Number.parseInt(text.slice(0, newline), 10);
  const names: string[] = [];
  let at = newline + 1;
  for (;;) {
    const end = text.indexOf('\0', at);
    if (end === -1 || end === at) {
      at = end === -1 ? text.length : end + 1;
      break;
    }
    names.push(text.slice(at, end));
    at = end + 1;
  }
  // The last line's newline went with the `::tar::` marker.
  const stats = `${text.slice(at)}\n`;
  const paths = new Map<string, WalkedPath>();
  // Lines in the order of the names, each `%f %u %g %s %Y %Z NAME\n`; a name whose stat failed (gone) has none.
  let position = 0;
  const head = /^([0-9a-f]+) (\d+) (\d+) (\d+) (\d+) (\d+) /;
  for (const name of names) {
    const match = head.exec(stats.slice(position, position + 120));
    if (!match || !stats.startsWith(`${name}\n`, position + match[0].length)) continue;
    const parsed = parseStat(`${match[0]}x`);
    position += match[0].length + name.length + 1;
    if (!parsed || parsed.stat.type === 'other') continue;
    paths.set(absolute(folder, name), { stat: parsed.stat, ctime: Number(match[6]) });
  }
  return { clock, paths };
}

/** Walks the folder (no file read): the clock and every path's stat. */
export async function walkFolder(exec: RemoteExec, folder: string, signal?: AbortSignal): Promise<Walk> {
  const run = await exec(scriptCommand(WALK, Buffer.byteLength(folder), Number.MAX_SAFE_INTEGER), withFolder(folder), signal);
  let header: string | null = null;
  const rest = afterMarker(run.stdout, (text) => (header = text));
  for await (const piece of rest) void piece;
  const { exitCode, stderr } = await run.done;
  if (header === null || exitCode !== 0)
    throw new Error(`Could not list ${folder} on the machine: ${stderr || `exit code ${exitCode ?? 'unknown'}`}.`);
  return parseWalk(folder, header);
}

export interface SshCaptureOptions {
  exec: RemoteExec;
  blobs: BlobStore;
  /** The working folder (absolute). */
  folder: string;
  /** The checkpoint the folder's files were last captured as (null: read every file once). */
  previous: Checkpoint | null;
  signal?: AbortSignal;
}

export interface SshCapture {
  checkpoint: Checkpoint;
  manifest: Manifest;
  stats: { examined: number; read: number; bytes_read: number; bytes_stored: number; changed_paths: number; duration_ms: number };
}

export async function captureFolder(options: SshCaptureOptions): Promise<SshCapture> {
  const { exec, blobs, folder } = options;
  const started = performance.now();
  const previous = options.previous === null ? null : await loadManifest(blobs, options.previous.manifest);
  const known = previous === null ? new Map<string, ManifestEntry>() : entryMap(previous);
  const since = options.previous === null ? 0 : options.previous.captured_at;
  const hold = blobs.hold();
  try {
    const queue = new BlobQueue(blobs, hold);
    const read = new Map<string, ManifestEntry>();
    let bytesRead = 0;
    const readTarInto = async (stdout: AsyncIterable<Buffer>): Promise<void> => {
      await readTar(stdout, (header) => {
        const path = absolute(folder, header.name);
        const base = { path, mode: header.mode, uid: header.uid, gid: header.gid };
        if (header.type === 'symlink') read.set(path, { ...base, type: 'symlink', size: 0, target: header.linkname, mtime: header.mtime });
        if (header.type === 'hardlink') {
          const linked = read.get(absolute(folder, header.linkname));
          if (linked?.type === 'file') read.set(path, { ...linked, ...base, mtime: header.mtime });
        }
        if (header.type !== 'file') return null;
        const writer = new FileWriter(queue);
        return {
          push: (piece: Buffer) => writer.push(piece),
          end: async () => {
            read.set(path, { ...base, type: 'file', size: writer.size, ...(await writer.end()), mtime: header.mtime });
            bytesRead += writer.size;
          },
        };
      });
    };

    const run = await exec(scriptCommand(WALK, Buffer.byteLength(folder), since), withFolder(folder), options.signal);
    let header: string | null = null;
    await readTarInto(afterMarker(run.stdout, (text) => (header = text)));
    const { exitCode, stderr } = await run.done;
    if (header === null || exitCode !== 0) {
      throw new Error(`Could not read ${folder} on the machine for a checkpoint: ${stderr || `exit code ${exitCode ?? 'unknown'}`}.`);
    }
    const walk = parseWalk(folder, header);
    if (!Number.isFinite(walk.clock)) throw new Error(`Could not read ${folder} on the machine for a checkpoint: no clock in the reply.`);

    // Files and links neither read nor the same as before (a clock set back, a name with a newline): read by name.
    const alone: string[] = [];
    for (const [path, { stat }] of walk.paths) {
      if (stat.type === 'dir' || read.has(path)) continue;
      const before = known.get(path);
      if (!before || !sameStat(stat, before)) alone.push(path);
    }
    if (alone.length > 0) {
      const names = Buffer.from(alone.map((path) => `./${path.slice(folder === '/' ? 1 : folder.length + 1)}\0`).join(''));
      const again = await exec(scriptCommand(READ, Buffer.byteLength(folder)), withFolder(folder, names), options.signal);
      await readTarInto(again.stdout);
      await again.done;
    }
    const bytesStored = await queue.drain();

    const entries: ManifestEntry[] = [];
    for (const [path, { stat }] of walk.paths) {
      const fresh = read.get(path);
      const before = known.get(path);
      if (fresh) entries.push(fresh);
      else if (stat.type === 'dir') entries.push({ path, type: 'dir', mode: stat.mode, uid: stat.uid, gid: stat.gid, size: 0 });
      else if (before && sameStat(stat, before)) entries.push(before);
      // else: gone between the walk and the read — not in this checkpoint (the next one sees it, if it is back).
    }
    entries.sort((a, b) => comparePaths(a.path, b.path));
    const manifest: Manifest = { version: 1, base: null, entries };
    const stored = await storeManifest(blobs, manifest, hold);
    return {
      checkpoint: { manifest: stored.id, parent: options.previous?.manifest ?? null, captured_at: walk.clock },
      manifest,
      stats: {
        examined: walk.paths.size,
        read: read.size,
        bytes_read: bytesRead,
        bytes_stored: bytesStored + stored.stored,
        changed_paths: countChanged(previous, manifest),
        duration_ms: performance.now() - started,
      },
    };
  } finally {
    hold.release();
  }
}

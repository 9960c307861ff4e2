/**
 * A container's filesystem for the file editor: short execs of plain POSIX sh and busybox-level
 * tools (`cat`, `find`, `mkdir`), so it works on any image with a shell. A path must never be
 * part of a command's text: it goes as an argument (`"$1"`), so no file name can run anything.
 */
import type Docker from 'dockerode';
import { FileAccessError, type FileAccess, type FileInfo, type FoundFile, type GrepMatch } from '#services/hands/files';
import type { DockerEngine } from './engine.ts';

const STAT = `if [ -d "$1" ]; then echo directory; elif [ -f "$1" ]; then echo file; stat -c %s "$1" 2>/dev/null || wc -c < "$1"; elif [ -e "$1" ] || [ -L "$1" ]; then echo other; else echo missing; fi`;
const WRITE = `mkdir -p "$(dirname "$1")" && cat > "$1"`;
const LIST = `cd "$1" && find . -mindepth 1 -maxdepth "$2" ! -path '*/.*' -type d | sort | head -n "$3"; echo ::files::; find . -mindepth 1 -maxdepth "$2" ! -path '*/.*' ! -type d | sort | head -n "$3"`;

const FIND = `cd "$1" && find . -name .git -prune -o -type f -exec stat -c '%Y %n' {} + | head -n "$2"`;
/** File names come NUL-separated on stdin; a bad pattern is grep's complaint on stderr. */
const GREP = `cd "$1" && xargs -0 grep -nHs $4 -E -e "$2" -- | head -n "$3"`;

export class ContainerFiles implements FileAccess {
  constructor(
    private readonly engine: DockerEngine,
    private readonly container: () => Promise<Docker.Container>,
  ) {}

  async stat(path: string, signal: AbortSignal): Promise<FileInfo | null> {
    const out = await this.sh(STAT, [path], signal);
    const [kind, size] = out.stdout.toString('utf8').trim().split('\n');
    if (kind === 'missing') return null;
    if (kind === 'file') return { kind: 'file', size: Number.parseInt(size ?? '0', 10) || 0 };
    return { kind: kind === 'directory' ? 'directory' : 'other', size: 0 };
  }

  async read(path: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
    const out = await this.sh('cat -- "$1"', [path], signal, undefined, maxBytes);
    return out.stdout;
  }

  async write(path: string, data: Buffer, signal: AbortSignal): Promise<void> {
    await this.sh(WRITE, [path], signal, data);
  }

  async list(path: string, depth: number, limit: number, signal: AbortSignal): Promise<{ entries: string[]; truncated: boolean }> {
    const out = (await this.sh(LIST, [path, String(depth), String(limit + 1)], signal)).stdout.toString('utf8');
    const [dirs = '', files = ''] = out.split('::files::\n');
    const clean = (line: string): string => line.replace(/^\.\//, '');
    const entries = [
      ...dirs
        .split('\n')
        .filter((line) => line.startsWith('./'))
        .map((line) => `${clean(line)}/`),
      ...files
        .split('\n')
        .filter((line) => line.startsWith('./'))
        .map(clean),
    ].sort();
    return { entries: entries.slice(0, limit), truncated: entries.length > limit };
  }

  async findFiles(root: string, limit: number, signal: AbortSignal): Promise<{ files: FoundFile[]; truncated: boolean }> {
    const out = (await this.sh(FIND, [root, String(limit + 1)], signal)).stdout.toString('utf8');
    const files: FoundFile[] = [];
    for (const line of out.split('\n')) {
      const match = /^(\d+) \.\/(.+)$/.exec(line);
      if (match) files.push({ mtime: Number(match[1]), path: match[2] ?? '' });
    }
    return { files: files.slice(0, limit), truncated: files.length > limit };
  }

  async grep(
    root: string,
    files: readonly string[],
    pattern: string,
    options: { ignoreCase: boolean; limit: number },
    signal: AbortSignal,
  ): Promise<{ matches: GrepMatch[]; truncated: boolean }> {
    if (files.length === 0) return { matches: [], truncated: false };
    const stdin = Buffer.from(files.map((file) => `${file}\0`).join(''));
    const args = [root, pattern, String(options.limit + 1), options.ignoreCase ? '-i' : ''];
    const { stdout, stderr } = await this.sh(GREP, args, signal, stdin);
    const complaint = stderr.toString('utf8').trim();
    if (complaint !== '') throw new FileAccessError(complaint.replace(/^grep: /, ''));
    const known = new Set(files);
    const matches: GrepMatch[] = [];
    for (const line of stdout.toString('utf8').split('\n')) {
      // `file:line:text`, where the file name may itself hold colons: the known name that fits.
      for (let at = line.indexOf(':'); at !== -1; at = line.indexOf(':', at + 1)) {
        const file = line.slice(0, at);
        const rest = /^(\d+):/.exec(line.slice(at + 1));
        if (known.has(file) && rest) {
          matches.push({ file, line: Number(rest[1]), text: line.slice(at + 1 + (rest[0]?.length ?? 0)) });
          break;
        }
      }
    }
    return { matches: matches.slice(0, options.limit), truncated: matches.length > options.limit };
  }

  private async sh(
    script: string,
    args: string[],
    signal: AbortSignal,
    stdin?: Buffer,
    maxBytes?: number,
  ): Promise<{ stdout: Buffer; stderr: Buffer }> {
    const container = await this.container();
    let result;
    try {
      result = await this.engine.exec(container, ['/bin/sh', '-c', script, 'sh', ...args], {
        signal,
        ...(stdin ? { stdin } : {}),
        ...(maxBytes === undefined ? {} : { maxBytes }),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new FileAccessError(error instanceof Error ? error.message : String(error));
    }
    if (result.exitCode !== 0) {
      const reason = result.stderr
        .toString('utf8')
        .trim()
        .replace(/^(sh|cat|mkdir|find): (line \d+: )?/, '');
      throw new FileAccessError(reason || `the command failed (exit code ${result.exitCode ?? 'unknown'})`);
    }
    return result;
  }
}

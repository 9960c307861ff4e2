/**
 * A container's filesystem for the file editor: short execs of plain POSIX sh and busybox-level
 * tools (`cat`, `find`, `mkdir`), so it works on any image with a shell. A path must never be
 * part of a command's text: it goes as an argument (`"$1"`), so no file name can run anything.
 */
import type Docker from 'dockerode';
import { FileAccessError, type FileAccess, type FileInfo } from '#services/hands/files';
import type { DockerEngine } from './engine.ts';

const STAT = `if [ -d "$1" ]; then echo directory; elif [ -f "$1" ]; then echo file; stat -c %s "$1" 2>/dev/null || wc -c < "$1"; elif [ -e "$1" ] || [ -L "$1" ]; then echo other; else echo missing; fi`;
const WRITE = `mkdir -p "$(dirname "$1")" && cat > "$1"`;
const LIST = `cd "$1" && find . -mindepth 1 -maxdepth "$2" ! -path '*/.*' -type d | sort | head -n "$3"; echo ::files::; find . -mindepth 1 -maxdepth "$2" ! -path '*/.*' ! -type d | sort | head -n "$3"`;

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

  private async sh(script: string, args: string[], signal: AbortSignal, stdin?: Buffer, maxBytes?: number): Promise<{ stdout: Buffer }> {
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

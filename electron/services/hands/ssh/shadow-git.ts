/**
 * File snapshots for hands on personal machines: a "shadow" git store, kept outside the working
 * folder (and outside any `.git` of the user's), records the folder at each turn end, so a fork
 * or rewind can put the files back as they were.
 *
 * It runs git on the machine through `exec` (a shell command line; over SSH on a real machine).
 * It must never touch the user's own repository: every command names the shadow store with
 * --git-dir and the folder with --work-tree, and git itself never adds a path named `.git`.
 * What it cannot keep: files the folder's .gitignore rules exclude (node_modules, build output)
 * and the contents of repositories nested below the top folder (git records only their commit).
 */
import { shellQuote } from '#services/hands/shell';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type Exec = (command: string, signal?: AbortSignal) => Promise<ExecResult>;

export interface ShadowOptions {
  /** The folder whose files are kept (absolute, on the machine). */
  workDir: string;
  /** The shadow store's folder (absolute, on the machine; created on first use). */
  storeDir: string;
}

export class ShadowSnapshots {
  private readonly git: string;
  private ready = false;

  constructor(
    private readonly exec: Exec,
    private readonly options: ShadowOptions,
  ) {
    // core.hooksPath=/dev/null: the user's global hooks must not run on Drover's commits.
    this.git = `git --git-dir=${shellQuote(options.storeDir)} --work-tree=${shellQuote(options.workDir)} -c core.hooksPath=/dev/null -c user.name=Drover -c user.email=drover@localhost -c commit.gpgsign=false`;
  }

  /** Why snapshots cannot be kept on this machine (no git), or null. */
  async unavailableReason(signal?: AbortSignal): Promise<string | null> {
    const probe = await this.exec('command -v git >/dev/null 2>&1 && git --version', signal);
    if (probe.code !== 0)
      return 'git is not installed on this machine, so its files cannot be snapshotted for forks (install git to have them follow).';
    return null;
  }

  /**
   * Records the folder; its commit, or null when nothing changed since the last snapshot (the
   * last one still stands for this point).
   */
  async snapshot(label: string, signal?: AbortSignal): Promise<string | null> {
    await this.init(signal);
    const add = await this.exec(`${this.git} add -A -- . 2>&1`, signal);
    if (add.code !== 0) throw new Error(`Snapshotting ${this.options.workDir} failed: ${add.stdout.trim() || add.stderr.trim()}`);
    const staged = await this.exec(`${this.git} diff --cached --quiet --exit-code 2>/dev/null; echo $?`, signal);
    const hasHead = (await this.exec(`${this.git} rev-parse -q --verify HEAD >/dev/null 2>&1; echo $?`, signal)).stdout.trim() === '0';
    if (hasHead && staged.stdout.trim() === '0') return null;
    const commit = await this.exec(
      `${this.git} commit -q --no-verify --allow-empty -m ${shellQuote(label)} 2>&1 && ${this.git} rev-parse HEAD`,
      signal,
    );
    if (commit.code !== 0) throw new Error(`Snapshotting ${this.options.workDir} failed: ${commit.stdout.trim() || commit.stderr.trim()}`);
    return commit.stdout.trim().split('\n').at(-1) ?? null;
  }

  /**
   * Puts the folder back as it was at `commit`: files changed or deleted since are restored, and
   * files created since (that the snapshot would have kept) are removed. Ignored files stay.
   */
  async restore(commit: string, signal?: AbortSignal): Promise<void> {
    if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`Not a snapshot id: ${commit}`);
    await this.init(signal);
    const result = await this.exec(
      `${this.git} read-tree -u --reset ${commit} 2>&1 && ${this.git} clean -fdq -- . 2>&1 && ${this.git} reset -q ${commit} 2>&1`,
      signal,
    );
    if (result.code !== 0)
      throw new Error(`Restoring ${this.options.workDir} to its snapshot failed: ${result.stdout.trim() || result.stderr.trim()}`);
  }

  /** Bytes the shadow store takes on the machine. */
  async storeBytes(signal?: AbortSignal): Promise<number> {
    const result = await this.exec(`du -sk ${shellQuote(this.options.storeDir)} 2>/dev/null | cut -f1`, signal);
    const kib = Number(result.stdout.trim());
    return Number.isFinite(kib) ? kib * 1024 : 0;
  }

  private async init(signal?: AbortSignal): Promise<void> {
    if (this.ready) return;
    const store = shellQuote(this.options.storeDir);
    const result = await this.exec(
      `mkdir -p ${shellQuote(this.options.workDir)} && { [ -f ${store}/HEAD ] || git init -q --bare ${store} 2>&1; }`,
      signal,
    );
    if (result.code !== 0)
      throw new Error(`Could not create the snapshot store ${this.options.storeDir}: ${result.stdout.trim() || result.stderr.trim()}`);
    this.ready = true;
  }
}

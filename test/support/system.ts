/**
 * Real system parts the tests need (mounts, processes). Where one is missing a test skips with
 * the reason printed — except under CI=true, where a missing part fails the run: a green CI
 * that skipped the real parts would be a lie.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** True when the part is there; otherwise prints why a test skips, or throws under CI=true. */
export function requirePart(part: string, missingReason: string | null): boolean {
  if (missingReason === null) return true;
  if (process.env['CI'] === 'true') {
    throw new Error(`${part} is required under CI=true but is missing: ${missingReason}`);
  }
  console.warn(`[skip] ${part}: ${missingReason}`);
  return false;
}

/** Why tmpfs mounts cannot be used here, or null when they can (root with CAP_SYS_ADMIN). */
export function tmpfsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts are Linux-only';
  if (process.getuid?.() !== 0) return 'mounting a size-limited tmpfs needs root';
  const probe = mkdtempSync(path.join(tmpdir(), 'drover-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `mount -t tmpfs failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** A tmpfs of `size` (e.g. '1m') mounted on a fresh temp dir; call `unmount` when done. */
export function mountTmpfs(size: string): { dir: string; remount(options: string): void; unmount(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  return {
    dir,
    remount(options) {
      execFileSync('mount', ['-o', `remount,${options}`, dir], { stdio: 'pipe' });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where the test run's ledger of temp folders is (set by docker-leftovers.ts, the global set-up). */
export const LEDGER_ENV = 'DROVER_TEST_TEMP_LEDGER';

/** A fresh folder in the system's temp folder, written to the run's ledger (its Docker objects are checked at the end). */
export function tempDir(prefix = 'drover-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const ledger = process.env[LEDGER_ENV];
  if (ledger) appendFileSync(ledger, `${dir}\n`);
  return dir;
}

/** Every file's bytes below `folder`, concatenated (to search a data folder for what must not be in it). */
export function folderBytes(folder: string): Buffer {
  const parts: Buffer[] = [];
  for (const name of readdirSync(folder, { recursive: true }) as string[]) {
    const file = path.join(folder, name);
    if (statSync(file).isFile()) parts.push(readFileSync(file));
  }
  return Buffer.concat(parts);
}

/**
 * Rotation of the installed app's log file (electron-log's `archiveLogFn`): when `main.log`
 * reaches its size limit it becomes `main.1.log`, the older ones move up one (`main.1.log` →
 * `main.2.log` …) and the oldest beyond `keep` is deleted. electron-log then starts a new file.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/** `main.log` → `main.<n>.log`. */
export function rotatedName(file: string, n: number): string {
  const extension = path.extname(file);
  return path.join(path.dirname(file), `${path.basename(file, extension)}.${n}${extension}`);
}

/** Moves `file` to `<name>.1<ext>`, keeping at most `keep` old files. Never throws (logging must not stop the app). */
export function rotateLogFiles(file: string, keep: number, warn: (message: string) => void = () => undefined): void {
  try {
    rmSync(rotatedName(file, keep), { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      const from = rotatedName(file, n);
      if (existsSync(from)) renameSync(from, rotatedName(file, n + 1));
    }
    if (existsSync(file)) renameSync(file, rotatedName(file, 1));
  } catch (error) {
    warn(`Could not rotate the log file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

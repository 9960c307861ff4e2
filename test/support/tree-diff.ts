/**
 * Two folders compared by the real `diff -rq --no-dereference` (GNU diffutils), as sets of paths
 * added, changed and deleted — the independent measure the checkpoint acceptance test holds the
 * Changes view (`sessions-changes`) to. `diff -r` names a folder found on one side only once; its
 * contents are listed here too (walked on the side that has them), so the sets name every path.
 * `diff` sees no modes: a path whose only change is its mode is in none of the sets.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface TreeDiff {
  added: string[];
  changed: string[];
  deleted: string[];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every path under `dir` (relative, with a leading '/'), folders included. */
function below(dir: string, relative: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(path.join(dir, relative))) {
    const child = `${relative}/${name}`;
    found.push(child);
    if (lstatSync(path.join(dir, child)).isDirectory()) found.push(...below(dir, child));
  }
  return found;
}

/**
 * `diff -rq --no-dereference before after`, parsed: paths relative to the two folders, prefixed with
 * `prefix` (the folder's path in the container, e.g. '/workspace'), sorted.
 */
export function diffTrees(before: string, after: string, prefix: string): TreeDiff {
  const run = spawnSync('diff', ['-rq', '--no-dereference', before, after], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`diff -r failed (${run.status}): ${run.stderr}`);
  const a = escape(before);
  const b = escape(after);
  const only = new RegExp(`^Only in (${a}|${b})(/.*)?: (.+)$`);
  const differ = new RegExp(`^(?:Files|Symbolic links) ${a}(/.*) and ${b}\\1 differ$`);
  const kinds = new RegExp(`^File ${a}(/.*) is an? (.+) while file ${b}\\1 is an? (.+)$`);
  const added = new Set<string>();
  const changed = new Set<string>();
  const deleted = new Set<string>();
  for (const line of run.stdout.split('\n')) {
    if (line === '') continue;
    const one = only.exec(line);
    if (one) {
      const side = one[1] === before ? before : after;
      const relative = `${one[2] ?? ''}/${one[3] ?? ''}`;
      const into = side === before ? deleted : added;
      into.add(relative);
      if (lstatSync(path.join(side, relative)).isDirectory()) for (const child of below(side, relative)) into.add(child);
      continue;
    }
    const content = differ.exec(line);
    if (content) {
      changed.add(content[1] ?? '');
      continue;
    }
    const type = kinds.exec(line);
    if (type) {
      // A path whose type changed (file ↔ folder ↔ link): changed; a folder's contents come or go with it.
      const relative = type[1] ?? '';
      changed.add(relative);
      if (type[2] === 'directory') for (const child of below(before, relative)) deleted.add(child);
      if (type[3] === 'directory') for (const child of below(after, relative)) added.add(child);
      continue;
    }
    throw new Error(`diff -r printed a line this parser does not know: ${line}`);
  }
  const out = (set: Set<string>) => [...set].map((relative) => `${prefix}${relative}`).sort();
  return { added: out(added), changed: out(changed), deleted: out(deleted) };
}

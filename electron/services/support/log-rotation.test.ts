import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotatedName, rotateLogFiles } from './log-rotation.ts';

describe('rotateLogFiles', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'drover-logs-'));
    file = path.join(dir, 'main.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names old files main.1.log, main.2.log…', () => {
    expect(rotatedName('/logs/main.log', 3)).toBe(path.join('/logs', 'main.3.log'));
  });

  it('keeps the newest `keep` old files, the newest as .1, and drops the oldest', () => {
    for (let round = 1; round <= 5; round++) {
      writeFileSync(file, `round ${round}`);
      rotateLogFiles(file, 3);
    }
    expect(readdirSync(dir).sort()).toEqual(['main.1.log', 'main.2.log', 'main.3.log']);
    expect(readFileSync(path.join(dir, 'main.1.log'), 'utf8')).toBe('round 5');
    expect(readFileSync(path.join(dir, 'main.3.log'), 'utf8')).toBe('round 3');
    expect(existsSync(file)).toBe(false);
  });

  it('warns instead of throwing when it cannot rotate', () => {
    const warnings: string[] = [];
    rotateLogFiles(path.join(dir, 'missing-folder', 'main.log'), 2, (message) => warnings.push(message));
    writeFileSync(file, 'x');
    // A folder where the oldest kept file goes cannot be deleted as a file.
    mkdirSync(path.join(rotatedName(file, 2), 'inside'), { recursive: true });
    expect(() => rotateLogFiles(file, 2, (message) => warnings.push(message))).not.toThrow();
    expect(warnings.some((message) => message.startsWith(`Could not rotate the log file ${file}`))).toBe(true);
  });
});

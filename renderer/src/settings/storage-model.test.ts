import { describe, expect, it } from 'vitest';
import { formatBytes } from '#shared/storage';
import { capText, parseCap, parseSize, parseTurns } from './storage-model.ts';

describe('Settings → Storage threshold field', () => {
  it('reads sizes with units (MiB without one) and what formatBytes writes', () => {
    expect(parseSize('2 GiB')).toBe(2 * 1024 ** 3);
    expect(parseSize('500mb')).toBe(500 * 1024 ** 2);
    expect(parseSize('2048')).toBe(2048 * 1024 ** 2);
    expect(parseSize('0 bytes')).toBe(0);
    expect(parseSize(formatBytes(2 * 1024 ** 3))).toBe(2 * 1024 ** 3);
    expect(parseSize(formatBytes(1536))).toBe(1536);
  });
  it('refuses what is not a size', () => {
    expect(parseSize('')).toBeNull();
    expect(parseSize('two GiB')).toBeNull();
    expect(parseSize('-1 GiB')).toBeNull();
    expect(parseSize('5 parsecs')).toBeNull();
  });
  it('formatBytes says bytes below 1 KiB and one decimal above', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(20 * 1024 ** 3)).toBe('20.0 GiB');
  });
  it('reads caps (empty or "none": no cap) and turns (whole numbers from 1)', () => {
    expect(parseCap('')).toBeNull();
    expect(parseCap(' none ')).toBeNull();
    expect(parseCap('No cap')).toBeNull();
    expect(parseCap('2 GiB')).toBe(2 * 1024 ** 3);
    expect(parseCap('lots')).toBeUndefined();
    expect(parseCap(capText(512 * 1024 ** 2))).toBe(512 * 1024 ** 2);
    expect(capText(null)).toBe('');
    expect(parseTurns('10')).toBe(10);
    expect(parseTurns('0')).toBeNull();
    expect(parseTurns('2.5')).toBeNull();
    expect(parseTurns('ten')).toBeNull();
  });
});

// The window's remembered preferences (ui/preferences.ts): theme and panel sizes, and what a bad stored value reads as.
import { describe, expect, it } from 'vitest';
import {
  SIDEBAR_WIDTH,
  SIDE_PANEL_WIDTH,
  TIMELINE_HEIGHT,
  readSize,
  readTheme,
  resolveTheme,
  sizeAfterKey,
  writeSize,
  writeTheme,
  type PreferenceStorage,
} from './preferences.ts';

function memory(entries: Record<string, string> = {}): PreferenceStorage & { map: Map<string, string> } {
  const map = new Map(Object.entries(entries));
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
}

describe('theme preference', () => {
  it('is system until chosen, and reads back what was written', () => {
    const storage = memory();
    expect(readTheme(storage)).toBe('system');
    writeTheme(storage, 'dark');
    expect(readTheme(storage)).toBe('dark');
  });

  it('reads anything else stored as system', () => {
    expect(readTheme(memory({ 'drover.theme': 'solarized' }))).toBe('system');
  });

  it('resolves system by the OS, and a choice as itself', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });

  it('a storage that throws gives the default and does not throw', () => {
    const broken: PreferenceStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    expect(readTheme(broken)).toBe('system');
    expect(() => writeTheme(broken, 'light')).not.toThrow();
  });
});

describe('panel sizes', () => {
  it('start at the first size (the side panel: the layout’s own) and are remembered within bounds', () => {
    const storage = memory();
    expect(readSize(storage, SIDE_PANEL_WIDTH)).toBeNull();
    expect(readSize(storage, SIDEBAR_WIDTH)).toBe(SIDEBAR_WIDTH.initial);
    expect(writeSize(storage, SIDE_PANEL_WIDTH, 512.4)).toBe(512);
    expect(readSize(storage, SIDE_PANEL_WIDTH)).toBe(512);
    expect(writeSize(storage, SIDE_PANEL_WIDTH, 99_999)).toBe(SIDE_PANEL_WIDTH.max);
    expect(writeSize(storage, SIDE_PANEL_WIDTH, 1)).toBe(SIDE_PANEL_WIDTH.min);
  });

  it('forget a size written as null: the first size again', () => {
    const storage = memory();
    writeSize(storage, SIDE_PANEL_WIDTH, 500);
    expect(writeSize(storage, SIDE_PANEL_WIDTH, null)).toBeNull();
    expect(storage.map.has(SIDE_PANEL_WIDTH.key)).toBe(false);
    expect(readSize(storage, SIDE_PANEL_WIDTH)).toBeNull();
  });

  it('read a malformed or out-of-range stored value as the first size or the nearest bound', () => {
    expect(readSize(memory({ [SIDEBAR_WIDTH.key]: 'wide' }), SIDEBAR_WIDTH)).toBe(SIDEBAR_WIDTH.initial);
    expect(readSize(memory({ [SIDEBAR_WIDTH.key]: '-40' }), SIDEBAR_WIDTH)).toBe(SIDEBAR_WIDTH.initial);
    expect(readSize(memory({ [SIDE_PANEL_WIDTH.key]: 'wide' }), SIDE_PANEL_WIDTH)).toBeNull();
    expect(readSize(memory({ [SIDE_PANEL_WIDTH.key]: '5' }), SIDE_PANEL_WIDTH)).toBe(SIDE_PANEL_WIDTH.min);
  });

  it('move by a step per arrow key (four with Shift), toward the side that grows the panel', () => {
    const spec = SIDE_PANEL_WIDTH;
    expect(sizeAfterKey(spec, 400, 'ArrowLeft', false, 'ArrowLeft')).toBe(400 + spec.step);
    expect(sizeAfterKey(spec, 400, 'ArrowRight', false, 'ArrowLeft')).toBe(400 - spec.step);
    expect(sizeAfterKey(spec, 400, 'ArrowLeft', true, 'ArrowLeft')).toBe(400 + 4 * spec.step);
    expect(sizeAfterKey(TIMELINE_HEIGHT, 26, 'ArrowUp', false, 'ArrowUp')).toBe(26 + TIMELINE_HEIGHT.step);
    expect(sizeAfterKey(spec, 400, 'Home', false, 'ArrowLeft')).toBe(spec.min);
    expect(sizeAfterKey(spec, 400, 'End', false, 'ArrowLeft')).toBe(spec.max);
    expect(sizeAfterKey(spec, spec.max, 'ArrowLeft', false, 'ArrowLeft')).toBe(spec.max);
    expect(sizeAfterKey(spec, 400, 'ArrowUp', false, 'ArrowLeft')).toBeNull();
    expect(sizeAfterKey(spec, 400, 'a', false, 'ArrowLeft')).toBeNull();
  });
});

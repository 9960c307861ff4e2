import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '#test/support/system';
import { DEFAULT_SIZE, loadWindowState, saveWindowState, windowStatePath, type Rectangle, type WindowState } from './window-state.ts';

// A 1920×1080 laptop screen with a top bar, and a 2560×1440 monitor to its right.
const laptop: Rectangle = { x: 0, y: 25, width: 1920, height: 1055 };
const monitor: Rectangle = { x: 1920, y: 0, width: 2560, height: 1440 };

let dir: string;
let file: string;

beforeEach(() => {
  dir = tempDir('drover-window-state-');
  file = windowStatePath(dir);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const defaults: WindowState = { ...DEFAULT_SIZE, maximized: false, fullScreen: false };

describe('loadWindowState', () => {
  it('gives the defaults (1280×820, centred) when there is no file', () => {
    expect(loadWindowState(file, [laptop])).toEqual(defaults);
  });

  it('round-trips a saved state', () => {
    const saved: WindowState = { x: 100, y: 80, width: 1400, height: 900, maximized: true, fullScreen: false };
    saveWindowState(file, saved);
    expect(loadWindowState(file, [laptop, monitor])).toEqual(saved);
  });

  it('writes a file only its owner can read, like every data file', () => {
    const previous = process.umask(0o022);
    try {
      saveWindowState(file, { x: 100, y: 80, width: 1400, height: 900, maximized: false, fullScreen: false });
    } finally {
      process.umask(previous);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('round-trips a window on the second monitor and a full-screen one without a position', () => {
    const onMonitor: WindowState = { x: 2200, y: 100, width: 2000, height: 1200, maximized: false, fullScreen: false };
    saveWindowState(file, onMonitor);
    expect(loadWindowState(file, [laptop, monitor])).toEqual(onMonitor);

    const fullScreen: WindowState = { width: 1000, height: 700, maximized: false, fullScreen: true };
    saveWindowState(file, fullScreen);
    expect(loadWindowState(file, [laptop])).toEqual(fullScreen);
  });

  it('gives the defaults for a corrupt file', () => {
    writeFileSync(file, '{"x": 10, "y": 20, "width": 12');
    expect(loadWindowState(file, [laptop])).toEqual(defaults);
    writeFileSync(file, '');
    expect(loadWindowState(file, [laptop])).toEqual(defaults);
  });

  it('gives the defaults for invalid values', () => {
    const invalid: unknown[] = [
      null,
      [],
      'big',
      { width: 'wide', height: 800, maximized: false, fullScreen: false },
      { width: -1280, height: 800, maximized: false, fullScreen: false },
      { width: 1280, height: 0, maximized: false, fullScreen: false },
      { width: 1280, height: 800, maximized: 'yes', fullScreen: false },
      { width: 1280, height: 800, maximized: false },
      { x: 'left', y: 0, width: 1280, height: 800, maximized: false, fullScreen: false },
    ];
    for (const value of invalid) {
      writeFileSync(file, JSON.stringify(value));
      expect(loadWindowState(file, [laptop]), JSON.stringify(value)).toEqual(defaults);
    }
  });

  it('gives the defaults when the path cannot be read as a file', () => {
    expect(loadWindowState(dir, [laptop])).toEqual(defaults);
  });

  it('drops the position of a window on a monitor that was unplugged, keeping its size clamped to the display', () => {
    saveWindowState(file, { x: 2200, y: 100, width: 2000, height: 1200, maximized: true, fullScreen: false });
    expect(loadWindowState(file, [laptop])).toEqual({ width: 1920, height: 1055, maximized: true, fullScreen: false });
  });

  it('drops a position whose title bar cannot be reached', () => {
    const cases: Array<Pick<Rectangle, 'x' | 'y'>> = [
      { x: 100, y: -300 }, // title bar above the screen
      { x: 100, y: 1070 }, // only a sliver at the bottom
      { x: -1250, y: 100 }, // 30 px showing on the left
      { x: 1880, y: 100 }, // 40 px showing on the right
    ];
    for (const position of cases) {
      saveWindowState(file, { ...position, width: 1280, height: 820, maximized: false, fullScreen: false });
      expect(loadWindowState(file, [laptop]), JSON.stringify(position)).toEqual(defaults);
    }
  });

  it('keeps a window that is partly off screen but can still be dragged back', () => {
    const partly: WindowState = { x: -1000, y: 500, width: 1280, height: 820, maximized: false, fullScreen: false };
    saveWindowState(file, partly);
    expect(loadWindowState(file, [laptop])).toEqual(partly);
  });

  it('drops a position that comes without its other half', () => {
    writeFileSync(file, JSON.stringify({ x: 100, width: 1280, height: 820, maximized: false, fullScreen: false }));
    expect(loadWindowState(file, [laptop])).toEqual(defaults);
  });

  it('clamps sizes to the minimum and to the display, and rounds them', () => {
    saveWindowState(file, { x: 10, y: 40, width: 300, height: 200, maximized: false, fullScreen: false });
    expect(loadWindowState(file, [laptop])).toMatchObject({ x: 10, y: 40, width: 760, height: 480 });

    saveWindowState(file, { x: 0, y: 25, width: 5000, height: 3000, maximized: false, fullScreen: false });
    expect(loadWindowState(file, [laptop])).toMatchObject({ x: 0, y: 25, width: 1920, height: 1055 });

    saveWindowState(file, { x: 10.4, y: 39.6, width: 1000.5, height: 700.2, maximized: false, fullScreen: false });
    expect(loadWindowState(file, [laptop])).toMatchObject({ x: 10, y: 40, width: 1001, height: 700 });
  });

  it('fits the default size to a small primary display, but never below the minimum', () => {
    expect(loadWindowState(file, [{ x: 0, y: 0, width: 1024, height: 768 }])).toEqual({
      width: 1024,
      height: 768,
      maximized: false,
      fullScreen: false,
    });
    expect(loadWindowState(file, [{ x: 0, y: 0, width: 640, height: 400 }])).toEqual({
      width: 760,
      height: 480,
      maximized: false,
      fullScreen: false,
    });
  });

  it('drops the position when no display is known', () => {
    saveWindowState(file, { x: 10, y: 40, width: 1000, height: 700, maximized: false, fullScreen: false });
    expect(loadWindowState(file, [])).toEqual({ width: 1000, height: 700, maximized: false, fullScreen: false });
  });

  it('ignores keys it does not know (a newer Drover may save more)', () => {
    writeFileSync(file, JSON.stringify({ x: 10, y: 40, width: 1000, height: 700, maximized: false, fullScreen: false, display: 'DELL' }));
    expect(loadWindowState(file, [laptop])).toEqual({ x: 10, y: 40, width: 1000, height: 700, maximized: false, fullScreen: false });
  });
});

describe('saveWindowState', () => {
  it('writes JSON atomically and leaves no temporary file', () => {
    saveWindowState(file, { x: 1, y: 30, width: 1000, height: 700, maximized: false, fullScreen: false });
    saveWindowState(file, { x: 2, y: 30, width: 1000, height: 700, maximized: false, fullScreen: false });
    expect(readdirSync(dir)).toEqual(['window-state.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ x: 2 });
  });

  it('removes its temporary file when the rename fails', () => {
    // A non-empty directory where the file should go: the write succeeds, the rename cannot.
    mkdirSync(file);
    writeFileSync(path.join(file, 'keep'), '');
    expect(() => saveWindowState(file, defaults)).toThrow();
    expect(readdirSync(dir)).toEqual(['window-state.json']);
    expect(readdirSync(file)).toEqual(['keep']);
  });

  it('refuses to write an invalid state', () => {
    expect(() => saveWindowState(file, { width: Number.NaN, height: 700, maximized: false, fullScreen: false })).toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});

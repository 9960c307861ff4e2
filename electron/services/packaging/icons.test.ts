// The icons: generated from build/icon.svg by scripts/icons.ts (really rendered here), in every size
// each target needs, and the committed build/icons are complete and made from the current SVG.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSvg, writeIcons } from './icons-render.ts';
import { decodeIcns, decodeIco, encodeIco, ICNS_TYPES, ICO_SIZES, ICON_FILES, PNG_SIZES, pngSize, sourceDigest } from './icons.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const svgFile = path.join(projectRoot, 'build', 'icon.svg');

/** Checks a folder holds every icon file, each image of the size its name or container says. */
function expectCompleteIcons(dir: string): void {
  for (const size of PNG_SIZES) {
    expect(pngSize(readFileSync(path.join(dir, ICON_FILES.png(size))))).toEqual({ width: size, height: size });
  }
  const ico = decodeIco(readFileSync(path.join(dir, ICON_FILES.ico)));
  expect(ico.map(({ size }) => size)).toEqual([...ICO_SIZES]);
  for (const { size, png } of ico) expect(pngSize(png)).toEqual({ width: size, height: size });
  const icns = decodeIcns(readFileSync(path.join(dir, ICON_FILES.icns)));
  expect(icns.map(({ type }) => type)).toEqual(ICNS_TYPES.map(({ type }) => type));
  for (const [index, { png }] of icns.entries()) {
    const size = ICNS_TYPES[index]?.size ?? 0;
    expect(pngSize(png)).toEqual({ width: size, height: size });
  }
}

describe('scripts/icons.ts', () => {
  let out: string;
  beforeAll(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'drover-icons-'));
    await writeIcons(svgFile, out);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('renders every PNG size (16–1024), an .ico up to 256 and an .icns up to 1024 from the one SVG', () => {
    expectCompleteIcons(out);
  });

  it('draws the mark, not an empty canvas', () => {
    // The 16 px image of a blank canvas compresses to well under 100 bytes; the mark does not.
    const png = readFileSync(path.join(out, ICON_FILES.png(16)));
    expect(png.length).toBeGreaterThan(200);
    expect(readFileSync(path.join(out, ICON_FILES.png(1024))).length).toBeGreaterThan(png.length);
  });
});

describe('build/icons (committed, packed by electron-builder)', () => {
  const dir = path.join(projectRoot, 'build', 'icons');

  it('has every size each target needs', () => {
    expectCompleteIcons(dir);
  });

  it('was made from the current build/icon.svg (else run `npm run icons`)', () => {
    expect(readFileSync(path.join(dir, ICON_FILES.source), 'utf8').split(' ')[0]).toBe(sourceDigest(readFileSync(svgFile)));
  });

  it('is where electron-builder.yml points each platform', () => {
    const config = readFileSync(path.join(projectRoot, 'electron-builder.yml'), 'utf8');
    for (const icon of ['build/icons/png', 'build/icons/icon.icns', 'build/icons/icon.ico']) {
      expect(config).toContain(`icon: ${icon}`);
      expect(existsSync(path.join(projectRoot, icon))).toBe(true);
    }
  });
});

describe('encodeIco', () => {
  it('refuses an image over 256 px, which the format cannot hold', () => {
    expect(() => encodeIco([renderSvg(readFileSync(svgFile), 512)])).toThrow(/at most 256 px/);
  });
});

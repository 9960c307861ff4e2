/**
 * The app's icons, derived from one source image (build/icon.svg) by scripts/icons.ts: PNGs for
 * Linux (one per size, named as electron-builder's icon folder expects), an .ico for Windows and
 * an .icns for macOS. The containers are written here, by pure functions, from PNG images: both
 * formats store PNG data as it is (ICO since Windows Vista, ICNS since macOS 10.7), so no image
 * library is needed beyond the one that rasterises the SVG.
 */
import { createHash } from 'node:crypto';

/** Every PNG size rendered; Linux's AppImage and deb take them all (hicolor icon theme sizes). */
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
/** Windows: what the shell asks for, up to 256 (electron-builder refuses an .ico without 256). */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;

/** macOS: the ICNS element types that hold PNG data, and the pixel size of each. */
export const ICNS_TYPES = [
  { type: 'icp4', size: 16 },
  { type: 'ic11', size: 32 }, // 16@2x
  { type: 'icp5', size: 32 },
  { type: 'ic12', size: 64 }, // 32@2x
  { type: 'icp6', size: 64 },
  { type: 'ic07', size: 128 },
  { type: 'ic13', size: 256 }, // 128@2x
  { type: 'ic08', size: 256 },
  { type: 'ic14', size: 512 }, // 256@2x
  { type: 'ic09', size: 512 },
  { type: 'ic10', size: 1024 }, // 512@2x
] as const;

/** Where each generated file goes, relative to the icons folder (build/icons). */
export const ICON_FILES = {
  png: (size: number) => `png/${size}x${size}.png`,
  ico: 'icon.ico',
  icns: 'icon.icns',
  /** The SHA-256 of the icon.svg they were made from, so a test can tell they are stale. */
  source: 'source.sha256',
} as const;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height of a PNG image (from its IHDR chunk); throws when `data` is not a PNG. */
export function pngSize(data: Buffer): { width: number; height: number } {
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG image');
  }
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

/** An .ico holding the given square PNG images (each at most 256 px). */
export function encodeIco(images: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(images.length, 4);
  const entries: Buffer[] = [];
  let offset = 6 + 16 * images.length;
  for (const image of images) {
    const { width, height } = pngSize(image);
    if (width !== height || width > 256) throw new Error(`an .ico image must be square and at most 256 px (got ${width}×${height})`);
    const entry = Buffer.alloc(16);
    entry.writeUInt8(width === 256 ? 0 : width, 0); // 0 means 256
    entry.writeUInt8(height === 256 ? 0 : height, 1);
    entry.writeUInt8(0, 2); // no palette
    entry.writeUInt8(0, 3); // reserved
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(image.length, 8);
    entry.writeUInt32LE(offset, 12);
    entries.push(entry);
    offset += image.length;
  }
  return Buffer.concat([header, ...entries, ...images]);
}

/** The images of an .ico: their sizes (as the directory says) and PNG data. */
export function decodeIco(data: Buffer): Array<{ size: number; png: Buffer }> {
  if (data.length < 6 || data.readUInt16LE(0) !== 0 || data.readUInt16LE(2) !== 1) throw new Error('not an .ico file');
  const count = data.readUInt16LE(4);
  const images: Array<{ size: number; png: Buffer }> = [];
  for (let index = 0; index < count; index++) {
    const entry = 6 + 16 * index;
    const width = data.readUInt8(entry) || 256;
    const length = data.readUInt32LE(entry + 8);
    const offset = data.readUInt32LE(entry + 12);
    images.push({ size: width, png: data.subarray(offset, offset + length) });
  }
  return images;
}

/** An .icns holding one PNG per element type (`images` maps each type of ICNS_TYPES to its PNG). */
export function encodeIcns(images: ReadonlyArray<{ type: string; png: Buffer }>): Buffer {
  const elements = images.map(({ type, png }) => {
    if (type.length !== 4) throw new Error(`an ICNS element type has four characters (got "${type}")`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(8 + png.length, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + elements.reduce((total, element) => total + element.length, 0), 4);
  return Buffer.concat([head, ...elements]);
}

/** The elements of an .icns file: type and data. */
export function decodeIcns(data: Buffer): Array<{ type: string; png: Buffer }> {
  if (data.length < 8 || data.toString('latin1', 0, 4) !== 'icns' || data.readUInt32BE(4) !== data.length) {
    throw new Error('not an .icns file');
  }
  const elements: Array<{ type: string; png: Buffer }> = [];
  let offset = 8;
  while (offset + 8 <= data.length) {
    const length = data.readUInt32BE(offset + 4);
    if (length < 8 || offset + length > data.length) throw new Error('a truncated .icns element');
    elements.push({ type: data.toString('latin1', offset, offset + 4), png: data.subarray(offset + 8, offset + length) });
    offset += length;
  }
  return elements;
}

/** The fingerprint recorded in `source.sha256` for an icon.svg. */
export function sourceDigest(svg: Buffer | string): string {
  return createHash('sha256').update(svg).digest('hex');
}

/**
 * Every icon file for `render(size)` (a square PNG of that size), keyed by its path under the
 * icons folder. Renders each size once.
 */
export async function iconFiles(svg: Buffer, render: (size: number) => Promise<Buffer> | Buffer): Promise<Map<string, Buffer>> {
  const sizes = [...new Set<number>([...PNG_SIZES, ...ICO_SIZES, ...ICNS_TYPES.map(({ size }) => size)])];
  const rendered = new Map<number, Buffer>();
  for (const size of sizes) {
    const png = await render(size);
    const actual = pngSize(png);
    if (actual.width !== size || actual.height !== size) throw new Error(`rendered ${actual.width}×${actual.height} for ${size}×${size}`);
    rendered.set(size, png);
  }
  const at = (size: number): Buffer => rendered.get(size) ?? Buffer.alloc(0);
  const files = new Map<string, Buffer>();
  for (const size of PNG_SIZES) files.set(ICON_FILES.png(size), at(size));
  files.set(ICON_FILES.ico, encodeIco(ICO_SIZES.map(at)));
  files.set(ICON_FILES.icns, encodeIcns(ICNS_TYPES.map(({ type, size }) => ({ type, png: at(size) }))));
  files.set(ICON_FILES.source, Buffer.from(`${sourceDigest(svg)}  icon.svg\n`));
  return files;
}

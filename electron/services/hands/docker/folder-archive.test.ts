// A host folder as the tar stream a container's putArchive takes (headers from checkpoints/tar.ts):
// read back by GNU tar (an independent reader, extracting into a temp folder) and by checkpoints'
// readTar — long and non-ASCII names (pax), a symbolic link kept as a link, an empty folder, modes,
// the given owner, a file of a whole number of blocks and one that is not.
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTar, type TarHeader } from '#services/checkpoints/tar';
import { tempDir } from '#test/support/system';
import { archiveFolder } from './folder-archive.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = tempDir('drover-folder-archive-');
  dirs.push(dir);
  return dir;
}

async function bytesOf(stream: AsyncIterable<Buffer | string | Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

describe('archiveFolder', () => {
  it('gives a tar GNU tar and readTar read back exactly: pax names, links, empty folders, modes, owner', async () => {
    const root = scratch();
    const long = `${'deep-folder-name/'.repeat(8)}file-with-a-long-name.txt`;
    const unicode = 'notes-éàü-日本.md';
    mkdirSync(path.join(root, path.dirname(long)), { recursive: true });
    writeFileSync(path.join(root, long), 'x'.repeat(1024)); // a whole number of blocks
    writeFileSync(path.join(root, unicode), 'héllo\n');
    writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(path.join(root, 'run.sh'), 0o750);
    mkdirSync(path.join(root, 'empty'));
    symlinkSync('../outside/target', path.join(root, 'link'));

    const archive = await bytesOf(archiveFolder(root, { uid: 1234, gid: 4321 }));
    expect(archive.length % 512).toBe(0);

    // GNU tar: extracts the same tree.
    const out = scratch();
    const tarFile = path.join(scratch(), 'a.tar');
    writeFileSync(tarFile, archive);
    execFileSync('tar', ['-xf', tarFile, '-C', out, '--numeric-owner']);
    expect(readFileSync(path.join(out, long), 'utf8')).toBe('x'.repeat(1024));
    expect(readFileSync(path.join(out, unicode), 'utf8')).toBe('héllo\n');
    expect(lstatSync(path.join(out, 'run.sh')).mode & 0o7777).toBe(0o750);
    expect(lstatSync(path.join(out, 'empty')).isDirectory()).toBe(true);
    expect(readlinkSync(path.join(out, 'link'))).toBe('../outside/target');
    const listing = execFileSync('tar', ['-tvf', tarFile, '--numeric-owner'], { encoding: 'utf8' });
    expect(listing).toContain('1234/4321');

    // readTar (the checkpoints' reader): every entry, with its header fields.
    const seen: Array<Pick<TarHeader, 'name' | 'type' | 'uid' | 'gid' | 'size' | 'linkname'> & { body: string }> = [];
    await readTar(
      (async function* () {
        yield archive;
      })(),
      (header) => {
        const entry = {
          name: header.name,
          type: header.type,
          uid: header.uid,
          gid: header.gid,
          size: header.size,
          linkname: header.linkname,
          body: '',
        };
        seen.push(entry);
        return { push: (piece: Buffer) => void (entry.body += piece.toString('utf8')) };
      },
    );
    const byName = new Map(seen.map((entry) => [entry.name, entry]));
    expect(byName.get(long)).toMatchObject({ type: 'file', size: 1024, uid: 1234, gid: 4321, body: 'x'.repeat(1024) });
    expect(byName.get(unicode)).toMatchObject({ type: 'file', body: 'héllo\n' });
    expect(byName.get('empty/')).toMatchObject({ type: 'dir' });
    expect(byName.get('link')).toMatchObject({ type: 'symlink', linkname: '../outside/target' });
    expect(
      seen
        .filter((entry) => entry.type === 'file')
        .map((entry) => entry.name)
        .sort(),
    ).toEqual([long, unicode, 'run.sh'].sort());
  });
});

// The MCP tool name mapping: safe names kept, unsafe ones sanitized with a hash, collisions and
// truncation handled, the same result in any order, and every pair reversible.
import { describe, expect, it } from 'vitest';
import { TOOL_NAME_PATTERN } from '#services/hands/hand';
import { mapToolNames, toolNameRoom } from './tool-names.ts';

describe('mapToolNames', () => {
  it('keeps names the API accepts as they are', () => {
    const map = mapToolNames(['read_file', 'get-sum', 'echo']);
    expect(map.toExposed('read_file')).toBe('read_file');
    expect(map.toServer('get-sum')).toBe('get-sum');
    expect(map.entries.map((entry) => entry.server)).toEqual(['echo', 'get-sum', 'read_file']);
  });

  it('sanitizes unsafe names with a hash suffix, never taking a kept name', () => {
    const map = mapToolNames(['fs.read', 'fs_read', 'fs/read', 'a b']);
    expect(map.toExposed('fs_read')).toBe('fs_read');
    const dotted = map.toExposed('fs.read') ?? '';
    const slashed = map.toExposed('fs/read') ?? '';
    expect(dotted).toMatch(/^fs_read_[0-9a-f]{8}$/);
    expect(slashed).toMatch(/^fs_read_[0-9a-f]{8}$/);
    expect(new Set([dotted, slashed, 'fs_read']).size).toBe(3);
    expect(map.toServer(dotted)).toBe('fs.read');
    expect(map.toServer(slashed)).toBe('fs/read');
    expect(map.toExposed('a b')).toMatch(TOOL_NAME_PATTERN);
    expect(map.toExposed('missing')).toBeUndefined();
    expect(map.toServer('missing')).toBeUndefined();
  });

  it('truncates long names to the room left by the hand prefix, uniquely', () => {
    const room = toolNameRoom('my-server');
    expect(room).toBe(128 - 'my-server'.length - 2);
    const long = 'x'.repeat(200);
    const names = [long, `${long}y`, 'x'.repeat(room), 'x'.repeat(room + 1)];
    const map = mapToolNames(names, room);
    const exposed = names.map((name) => map.toExposed(name) ?? '');
    for (const name of exposed) {
      expect(name.length).toBeLessThanOrEqual(room);
      expect(name).toMatch(TOOL_NAME_PATTERN);
      expect(`my-server__${name}`).toMatch(TOOL_NAME_PATTERN);
    }
    expect(new Set(exposed).size).toBe(names.length);
    expect(map.toExposed('x'.repeat(room))).toBe('x'.repeat(room));
    names.forEach((name, i) => expect(map.toServer(exposed[i] ?? '')).toBe(name));
  });

  it('lengthens the hash when a sanitized name collides with a kept one', () => {
    const first = mapToolNames(['a.b']).toExposed('a.b') ?? '';
    // A server tool literally named like the hashed name of another one.
    const map = mapToolNames(['a.b', first]);
    expect(map.toExposed(first)).toBe(first);
    expect(map.toExposed('a.b')).toMatch(/^a_b_[0-9a-f]{16}$/);
  });

  it('is deterministic whatever the order, and ignores duplicates', () => {
    const names = ['z.z', 'a.a', 'ok', 'ünïcode', 'ok'];
    const one = mapToolNames(names);
    const two = mapToolNames([...names].reverse());
    expect(one.entries).toEqual(two.entries);
    expect(one.entries).toHaveLength(4);
  });

  it('refuses a room too small for a hashed name', () => {
    expect(() => mapToolNames(['a'], 10)).toThrow(/shorter hand name/);
  });
});

// Passing an MCP server to threads (issue 21): held read-only, a thread is offered only the tools the
// user did not mark as changing files, and a marked tool it calls anyway is refused without running;
// shared, it gets them all; a fresh copy is refused with a reason. A real reference server over stdio.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { Hand } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { referenceServer } from '#test/support/mcp';
import { tempDir } from '#test/support/system';
import { grantThreadHands, resolveThreadHand, type ThreadHandContext } from './thread-hands.ts';

const READER = 'sthr_reader0000000001';
const WRITER = 'sthr_writer0000000001';

describe('an MCP server passed to threads', () => {
  const dir = tempDir('drover-thread-mcp-');
  const folder = path.join(dir, 'files');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'notes.txt'), 'hello\n');
  const store = SessionStore.open({ dataDir: dir });
  const hands = new HandRegistry({ store, docker: new DockerEngine({ instance: instanceIdOf(dir) }), log: () => undefined });
  const { id: sessionId } = store.createSession({ title: 'mcp threads' });
  hands.attach(sessionId, {
    name: 'fs',
    config: { kind: 'mcp', transport: referenceServer('server-filesystem', [folder]), trusted: true, writing_tools: ['write_file'] },
  });

  afterAll(async () => {
    await hands.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function context(): Promise<ThreadHandContext> {
    return { sessionId, hands: await hands.handsFor(sessionId, AbortSignal.timeout(60_000)), events: [] };
  }
  const names = (hand: Hand | null | undefined): string[] => (hand?.tools() ?? []).map((tool) => tool.name);
  const textOf = (content: Array<{ type: string; text?: string }>): string => content.map((block) => block.text ?? '').join('');

  it('read-only offers the tools not marked as changing files and refuses a marked one; shared offers all', async () => {
    const fresh = grantThreadHands(READER, null, [{ hand: 'fs', mode: 'fresh' }], await context());
    expect('refused' in fresh && fresh.refused).toMatch(/fresh copy of the MCP server fs is not offered/);

    for (const [thread, mode] of [
      [READER, 'read_only'],
      [WRITER, 'shared'],
    ] as const) {
      const granted = grantThreadHands(thread, null, [{ hand: 'fs', mode }], await context());
      if ('refused' in granted) throw new Error(granted.refused);
      // An MCP server held read-only is the same server: no copy is named.
      expect(granted.events).toEqual([
        { type: 'hand.thread_access', payload: { hand: 'fs', session_thread_id: thread, mode, action: 'granted' } },
      ]);
      store.emitEvents(sessionId, [
        {
          type: 'session.thread_created',
          payload: { session_thread_id: thread, agent_name: mode, task: 'files', hands: [{ hand: 'fs', mode }] },
        },
        ...granted.events,
      ]);
    }
    const ctx = await context();
    const primary = ctx.hands.find((hand) => hand.id === 'fs');
    const reader = resolveThreadHand(READER, 'fs', ctx);
    const writer = resolveThreadHand(WRITER, 'fs', ctx);
    expect(names(primary)).toContain('fs__write_file');
    expect(names(writer)).toEqual(names(primary));
    expect(names(reader)).toContain('fs__read_text_file');
    expect(names(reader)).not.toContain('fs__write_file');
    expect(names(reader)).toHaveLength(names(primary).length - 1);

    const signal = AbortSignal.timeout(60_000);
    const read = await reader?.execute('fs__read_text_file', { path: path.join(folder, 'notes.txt') }, { signal });
    expect(read?.isError).toBe(false);
    expect(textOf(read?.content ?? [])).toContain('hello');
    const target = path.join(folder, 'reader.txt');
    const refused = await reader?.execute('fs__write_file', { path: target, content: 'no' }, { signal });
    expect(refused?.isError).toBe(true);
    expect(textOf(refused?.content ?? [])).toMatch(/this thread holds fs read-only, and write_file is marked as changing files/);
    expect(existsSync(target)).toBe(false);
    const written = await writer?.execute('fs__write_file', { path: path.join(folder, 'writer.txt'), content: 'yes' }, { signal });
    expect(written?.isError).toBe(false);
    expect(readFileSync(path.join(folder, 'writer.txt'), 'utf8')).toBe('yes');
  }, 120_000);
});

// MCP tools the user marks as changing files (issue 20 item 1), end to end through the RPC a UI uses:
// the real harness against the local Messages API server (test/support/api-rig.ts's host), a real Docker hand (busybox) and the real
// server-filesystem from node_modules. So that what the MCP tool writes is the container's own files
// (not a mounted host folder, which checkpoints never touch), server-filesystem is pointed at the
// container's root as the engine keeps it on this machine (overlay2's merged folder): a file it
// writes there is in the container's writable layer, as if a command in it had written it.
// - A call to a marked tool is followed by a `hand.checkpoint` of the Docker hand at its result's seq,
//   holding the file it wrote; a marked tool that changed nothing records none (cheap); an unmarked
//   tool that changes files records none (the next marked call's checkpoint takes its change).
// - The marks are the hand's configuration: recorded by hands-update, inherited by a fork, unknown
//   tool names kept; bad marks refused in words, recording nothing.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StoredEvent } from '#shared/events';
import type { HandSpecInput, HandStatus } from '#shared/hands';
import { SessionSummarySchema } from '#shared/sessions';
import type { Host } from '#rpc/host';
import { BlobStore } from '#services/checkpoints/blob-store';
import { loadManifest } from '#services/checkpoints/manifest';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import type { SessionStore } from '#services/session/store';
import { apiRig, endTurn, type ApiRig } from '#test/support/api-rig';
import { BUSYBOX_IMAGE, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { referenceServer } from '#test/support/mcp';
import type { Reply } from '#test/support/model-server';
import { rpcCalls, toolUseReply } from '#test/support/rpc-calls';

const ready = await requireDocker();

let rig: ApiRig;
let store: SessionStore;
let host: Host;
let engine: DockerEngine;

const toolUse = toolUseReply;
/** What the model answers, in order (then "Done."). */
const script = (...replies: Reply[]): void => void rig.script.splice(0, rig.script.length, ...replies.map((reply) => () => reply));

beforeAll(async () => {
  if (!ready) return;
  rig = await apiRig();
  ({ store, host } = rig);
  engine = new DockerEngine({ instance: instanceIdOf(rig.dir) });
}, 60_000);

afterAll(async () => {
  if (!ready) return;
  await rig?.close();
  removeInstanceObjects(engine.instance);
});

const call = <T = unknown>(name: string, arg?: unknown): Promise<T> => rpcCalls(host, store).call<T>(name, arg);
const refused = (name: string, arg?: unknown): Promise<string> => rpcCalls(host, store).refused(name, arg);
const send = (sessionId: string, text: string): Promise<void> => rpcCalls(host, store).send(sessionId, text);

function events<K extends StoredEvent['type']>(sessionId: string, type: K): Array<Extract<StoredEvent, { type: K }>> {
  return store.getEvents(sessionId, { types: [type] }) as Array<Extract<StoredEvent, { type: K }>>;
}

/** The `/workspace` paths a checkpoint's manifest holds. */
async function workspacePaths(manifestId: string | undefined): Promise<string[]> {
  const manifest = await loadManifest(new BlobStore(rig.dir), manifestId ?? '');
  return manifest.entries.map((entry) => entry.path).filter((entry) => entry.startsWith('/workspace/'));
}

const box: HandSpecInput = { name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } };
const fsHand = (root: string, writing?: string[]): HandSpecInput =>
  ({
    name: 'fs',
    config: {
      kind: 'mcp',
      transport: referenceServer('server-filesystem', [root]),
      trusted: true,
      ...(writing ? { writing_tools: writing } : {}),
    },
  }) as HandSpecInput;

describe.runIf(ready)('MCP tools marked as changing files', () => {
  it('a call to a marked tool checkpoints the Docker hand’s files; unmarked ones and unchanged files record nothing', async () => {
    const session = SessionSummarySchema.parse(await call('sessions-launch', { title: 'MCP writes', hands: [box] }));
    const id = session.id;
    script(toolUse('box__bash', { command: 'mkdir -p /workspace && echo a > /workspace/a' }), endTurn('Done.'));
    await send(id, 'Start the box.');
    expect(events(id, 'hand.checkpoint')).toHaveLength(1);

    // server-filesystem, allowed only the container's /workspace as the engine keeps it on this machine.
    const container = (await call<HandStatus[]>('hands-list', { sessionId: id })).find((hand) => hand.name === 'box')?.container;
    const inspected = await engine.docker.getContainer(container ?? 'none').inspect();
    const data = z.looseObject({ MergedDir: z.string().optional() }).parse(inspected.GraphDriver.Data ?? {});
    const merged = data.MergedDir;
    if (merged === undefined) throw new Error(`the engine keeps no merged folder for the container (storage driver ${inspected.Driver})`);
    const root = path.join(merged, 'workspace');
    await call('hands-attach', { sessionId: id, hand: fsHand(root, ['write_file', 'read_text_file', 'no_such_tool']) });
    expect(events(id, 'hand.attached').at(-1)?.payload.config).toMatchObject({
      writing_tools: ['write_file', 'read_text_file', 'no_such_tool'],
    });

    script(
      toolUse('fs__write_file', { path: path.join(root, 'from-mcp.txt'), content: 'written by an MCP tool\n' }),
      toolUse('fs__read_text_file', { path: path.join(root, 'from-mcp.txt') }),
      toolUse('fs__create_directory', { path: path.join(root, 'unmarked-dir') }),
      endTurn('Done.'),
    );
    await send(id, 'Write through the MCP server.');
    const results = events(id, 'agent.mcp_tool_result');
    expect(results.map((result) => result.payload.is_error)).toEqual([false, false, false]);
    const [written, read, created] = results.map((result) => result.seq);
    const checkpoints = events(id, 'hand.checkpoint');
    // Only the marked write that changed files is followed by one: not the marked read (nothing changed), not the unmarked create_directory.
    expect(checkpoints.map((checkpoint) => [checkpoint.payload.hand_id, checkpoint.payload.at_seq])).toEqual([
      ['box', expect.any(Number)],
      ['box', written],
    ]);
    expect(checkpoints.map((checkpoint) => checkpoint.payload.at_seq)).not.toContain(created);
    expect(checkpoints.map((checkpoint) => checkpoint.payload.at_seq)).not.toContain(read);
    expect(await workspacePaths(checkpoints[1]?.payload.manifest)).toEqual(['/workspace/a', '/workspace/from-mcp.txt']);
    // The files were checkpointed, so the turn end did not commit a snapshot either.
    expect(events(id, 'hand.snapshot')).toEqual([]);

    // The unmarked tool's change was not lost: the next marked call's checkpoint takes it too.
    script(toolUse('fs__write_file', { path: path.join(root, 'second.txt'), content: 'again\n' }), endTurn('Done.'));
    await send(id, 'Write again.');
    const last = events(id, 'hand.checkpoint').at(-1);
    expect(last?.payload.at_seq).toBe(events(id, 'agent.mcp_tool_result').at(-1)?.seq);
    expect(last?.payload.parent).toBe(checkpoints[1]?.payload.manifest);
    expect(await workspacePaths(last?.payload.manifest)).toEqual([
      '/workspace/a',
      '/workspace/from-mcp.txt',
      '/workspace/second.txt',
      '/workspace/unmarked-dir',
    ]);

    // A fork at the marked write's result starts its container with the files as the MCP tool left them.
    const fork = SessionSummarySchema.parse(await call('sessions-fork', { sessionId: id, atSeq: written }));
    script(toolUse('box__bash', { command: 'ls /workspace && cat /workspace/from-mcp.txt' }), endTurn('Done.'));
    await send(fork.id, 'Look.');
    expect(events(fork.id, 'hand.ready').at(-1)?.payload.restored_from).toEqual({ session_id: id, at_seq: written });
    expect(JSON.stringify(events(fork.id, 'agent.tool_result').at(-1)?.payload.content)).toContain(
      'a\\nfrom-mcp.txt\\nwritten by an MCP tool',
    );
    // The fork inherits the marks with the hand's configuration.
    const forkHands = await call<HandStatus[]>('hands-list', { sessionId: fork.id });
    expect(forkHands.find((hand) => hand.name === 'fs')?.config).toMatchObject({
      writing_tools: ['write_file', 'read_text_file', 'no_such_tool'],
    });
  }, 180_000);

  it('marks are changed with hands-update (recorded); bad marks are refused in words and record nothing', async () => {
    const session = SessionSummarySchema.parse(await call('sessions-launch', { title: 'MCP marks', hands: [fsHand(rig.dir)] }));
    const id = session.id;
    await call('hands-update', { sessionId: id, hand: fsHand(rig.dir, ['move_file']) });
    expect(events(id, 'hand.attached').at(-1)?.payload.config).toMatchObject({ writing_tools: ['move_file'] });
    const before = store.getEvents(id).length;
    const message = await refused('hands-update', { sessionId: id, hand: fsHand(rig.dir, ['']) });
    expect(message).toMatch(/writing_tools/);
    expect(await refused('hands-update', { sessionId: id, hand: fsHand(rig.dir, ['x'.repeat(257)]) })).toMatch(/writing_tools/);
    expect(store.getEvents(id)).toHaveLength(before);
  }, 60_000);
});

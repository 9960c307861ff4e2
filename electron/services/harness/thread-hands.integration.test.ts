// Passing hands between threads (issue 21 part 3) on a real Docker engine, a real store and the
// registry: a thread on the shared hand and one on a fresh copy write in parallel; a read-only copy
// refuses writes; shared calls never overlap; a new registry over the same log finds every holder
// and re-makes the copy from its checkpoint; copies go when returned or when their thread ends.
// Each call is recorded as the harness records it (tool use with its thread, then its result), so
// the registry checkpoints the hand the call ran on.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import { handHolders } from '#shared/hand-holders';
import type { HandAccessMode } from '#shared/threads';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import type { Hand } from '#services/hands/hand';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, dockerCli, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { grantThreadHands, resolveThreadHand, returnThreadHand, type ThreadHandContext } from './thread-hands.ts';

const ready = await requireDocker();
const TESTER = 'sthr_tester0000000001';
const BUILDER = 'sthr_builder000000001';
const READER = 'sthr_reader0000000001';

describe.runIf(ready)('passing hands between threads (real Docker)', () => {
  const dir = tempDir('drover-thread-hands-');
  const instance = instanceIdOf(dir);
  const store = SessionStore.open({ dataDir: dir });
  const engine = new DockerEngine({ instance });
  let hands = new HandRegistry({ store, docker: engine, log: () => undefined });
  let sessionId = '';

  beforeAll(() => {
    sessionId = store.createSession({ title: 'threads' }).id;
    hands.attach(sessionId, { name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } });
    hands.attach(sessionId, {
      name: 'laptop',
      config: { kind: 'ssh', host: 'laptop.invalid', user: 'me', auth: { method: 'agent' } },
    });
  });

  afterAll(async () => {
    await hands.close();
    store.deleteSession(sessionId);
    await hands.sessionDeleted(sessionId);
    store.close();
    removeInstanceObjects(instance);
    rmSync(dir, { recursive: true, force: true });
  });

  async function context(): Promise<ThreadHandContext> {
    return { sessionId, hands: await hands.handsFor(sessionId), events: [] };
  }

  /** The coordinator (`thread` undefined) or a thread runs a command on its hand, recorded as the harness records it. */
  async function run(hand: Hand, thread: string | undefined, command: string): Promise<{ text: string; isError: boolean }> {
    const id = `toolu_${randomUUID().replaceAll('-', '')}`;
    const scope = thread === undefined ? {} : { session_thread_id: thread };
    store.emitEvent(sessionId, {
      type: 'agent.tool_use',
      payload: { tool_use_id: id, name: 'box__bash', input: { command }, hand_id: hand.id, ...scope },
    });
    const outcome = await hand.execute('box__bash', { command }, { signal: AbortSignal.timeout(120_000) });
    store.emitEvent(sessionId, {
      type: 'agent.tool_result',
      payload: { tool_use_id: id, content: outcome.content, is_error: outcome.isError, ...scope },
    });
    const text = outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
    return { text, isError: outcome.isError };
  }

  /** `thread_start` as the coordinator records it: the thread and its grants in one commit. */
  async function start(thread: string, agent: string, grants: Array<{ hand: string; mode: HandAccessMode }>): Promise<void> {
    const granted = grantThreadHands(thread, null, grants, await context());
    if ('refused' in granted) throw new Error(granted.refused);
    const created: NewEvent = {
      type: 'session.thread_created',
      payload: { session_thread_id: thread, agent_name: agent, task: `work as ${agent}`, hands: grants },
    };
    store.emitEvents(sessionId, [created, ...granted.events]);
  }

  async function threadHand(thread: string): Promise<Hand> {
    const hand = resolveThreadHand(thread, 'box', await context());
    if (!hand) throw new Error(`thread ${thread} holds no box`);
    return hand;
  }

  /** Containers of this test's Drover for a hand name. */
  function containersOf(name: string): string[] {
    const filters = ['--filter', `label=${LABELS.instance}=${instance}`, '--filter', `label=${LABELS.hand}=${name}`];
    return dockerCli('ps', '-aq', ...filters)
      .split('\n')
      .filter(Boolean);
  }

  it('refuses what a hand cannot do, in words the model can act on', async () => {
    const ssh = grantThreadHands(TESTER, null, [{ hand: 'laptop', mode: 'read_only' }], await context());
    expect(ssh).toEqual({
      refused: 'thread_start was not run: read-only is not possible on an SSH machine (laptop); pass it shared or not at all.',
    });
    const fresh = grantThreadHands(TESTER, null, [{ hand: 'laptop', mode: 'fresh' }], await context());
    expect('refused' in fresh && fresh.refused).toMatch(/fresh copy is not possible on an SSH machine \(laptop\)/);
    const unknown = grantThreadHands(TESTER, null, [{ hand: 'nope', mode: 'shared' }], await context());
    expect('refused' in unknown && unknown.refused).toMatch(/no hand named "nope"/);
    // A thread cannot pass on what it does not hold.
    const notHeld = grantThreadHands(READER, TESTER, [{ hand: 'box', mode: 'shared' }], await context());
    expect('refused' in notHeld && notHeld.refused).toMatch(/You do not hold box/);
    expect(store.getEvents(sessionId, { types: ['hand.thread_access'] })).toEqual([]);
  });

  it('shared, fresh and read-only: each thread sees what its mode says, shared calls never overlap', async () => {
    const coordinator = (await context()).hands.find((hand) => hand.id === 'box') as Hand;
    expect((await run(coordinator, undefined, 'echo before > /workspace/before.txt')).isError).toBe(false);
    await hands.settled(); // its checkpoint: what a copy starts from

    await start(TESTER, 'tester', [{ hand: 'box', mode: 'shared' }]);
    await start(BUILDER, 'builder', [{ hand: 'box', mode: 'fresh' }]);
    await start(READER, 'reader', [{ hand: 'box', mode: 'read_only' }]);
    const [tester, builder, reader] = [await threadHand(TESTER), await threadHand(BUILDER), await threadHand(READER)];
    // Threads that hold nothing get nothing.
    expect(resolveThreadHand('sthr_nobody0000000001', 'box', await context())).toBeNull();

    // Each shared call stamps its start and end (the container's uptime, 10 ms steps) around a pause; the fresh copy writes meanwhile.
    const stamped = (who: string) =>
      `s=$(cut -d' ' -f1 /proc/uptime); sleep 0.7; echo ${who} > /workspace/${who}.txt; e=$(cut -d' ' -f1 /proc/uptime); echo "span $s $e"`;
    const [fromTester, fromCoordinator, fromBuilder] = await Promise.all([
      run(tester, TESTER, stamped('tester')),
      run(coordinator, undefined, stamped('coordinator')),
      run(builder, BUILDER, 'echo builder > /workspace/builder.txt && ls /workspace'),
    ]);
    const span = (text: string): [number, number] => {
      const match = /span ([\d.]+) ([\d.]+)/.exec(text);
      if (!match) throw new Error(`no span in ${text}`);
      return [Number(match[1]), Number(match[2])];
    };
    const [a, b] = [span(fromTester.text), span(fromCoordinator.text)];
    expect(a[1] <= b[0] || b[1] <= a[0], `shared calls overlapped: ${JSON.stringify([a, b])}`).toBe(true);

    // The fresh copy started from the checkpoint before the grant: it has before.txt, not the shared hand's later writes.
    expect(fromBuilder.text).toContain('before.txt');
    expect(fromBuilder.text).toContain('builder.txt');
    expect(fromBuilder.text).not.toContain('tester.txt');
    const onShared = await run(coordinator, undefined, 'ls /workspace');
    expect(onShared.text).toContain('tester.txt');
    expect(onShared.text).toContain('coordinator.txt');
    expect(onShared.text).not.toContain('builder.txt');
    const onCopy = await run(builder, BUILDER, 'ls /workspace');
    expect(onCopy.text).not.toContain('tester.txt');
    expect(onCopy.text).not.toContain('coordinator.txt');

    // The read-only copy reads the files of the grant and refuses writes (EROFS), except in /tmp.
    expect((await run(reader, READER, 'cat /workspace/before.txt')).text).toContain('before');
    const write = await run(reader, READER, 'echo no > /workspace/reader.txt');
    expect(write.text, write.text).toMatch(/Read-only file system/);
    expect(write.text).toMatch(/exit code [1-9]/);
    expect((await run(reader, READER, 'echo scratch > /tmp/x && cat /tmp/x')).text).toContain('scratch');
    expect((await run(coordinator, undefined, 'ls /workspace')).text).not.toContain('reader.txt');

    // Three containers: the hand, the fresh copy and the read-only copy.
    await hands.settled();
    const builderCopy = `box~${BUILDER.slice(5, 13)}`;
    const readerCopy = `box~${READER.slice(5, 13)}`;
    expect(containersOf('box')).toHaveLength(1);
    expect(containersOf(builderCopy)).toHaveLength(1);
    expect(containersOf(readerCopy)).toHaveLength(1);
    // The fresh copy's own calls are checkpointed under its name.
    const checkpoints = store.getEvents(sessionId, { types: ['hand.checkpoint'] });
    expect(checkpoints.some((event) => event.type === 'hand.checkpoint' && event.payload.hand_id === builderCopy)).toBe(true);

    // The hands panel's list and the fold say who holds what.
    const [box] = hands.statuses(sessionId);
    expect(box?.threads?.map((holder) => [holder.agent_name, holder.mode, holder.copy?.name ?? null, holder.copy?.state ?? null])).toEqual([
      ['tester', 'shared', null, null],
      ['builder', 'fresh', builderCopy, 'ready'],
      ['reader', 'read_only', readerCopy, 'ready'],
    ]);
    const holders = handHolders(store.getEvents(sessionId, { limit: 10_000 }));
    expect(holders.map((holding) => [holding.session_thread_id, holding.runsOn])).toEqual([
      [TESTER, 'box'],
      [BUILDER, builderCopy],
      [READER, readerCopy],
    ]);
  });

  it('a fork while a thread holds a fresh copy restores the copy as it was at the fork point', async () => {
    const builder = await threadHand(BUILDER);
    const [firstWrite] = store
      .getEvents(sessionId, { types: ['agent.tool_result'], limit: 10_000 })
      .filter((event) => event.type === 'agent.tool_result' && event.payload.session_thread_id === BUILDER);
    expect((await run(builder, BUILDER, 'echo later > /workspace/later.txt')).isError).toBe(false);
    await hands.settled();
    const fork = store.fork(sessionId, firstWrite?.seq ?? 0, { title: 'at the builder’s first write' });
    try {
      const forked = resolveThreadHand(BUILDER, 'box', { sessionId: fork.id, hands: await hands.handsFor(fork.id), events: [] });
      if (!forked) throw new Error('the fork lost the builder’s hand');
      const listed = await forked.execute('box__bash', { command: 'ls /workspace' }, { signal: AbortSignal.timeout(120_000) });
      const text = listed.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      expect(text).toContain('builder.txt');
      expect(text).not.toContain('later.txt');
      expect(text).not.toContain('tester.txt');
    } finally {
      store.deleteSession(fork.id);
      await hands.sessionDeleted(fork.id);
    }
  });

  it('a new process re-derives the holders from the log and re-makes the fresh copy from its own checkpoint', async () => {
    await hands.close(); // its containers go, as after a SIGKILL and the next start's clean-up
    const builderCopy = `box~${BUILDER.slice(5, 13)}`;
    expect(containersOf(builderCopy)).toEqual([]);
    hands = new HandRegistry({ store, docker: engine, log: () => undefined });
    const builder = await threadHand(BUILDER);
    const listed = await run(builder, BUILDER, 'ls /workspace');
    expect(listed.text).toContain('builder.txt');
    expect(listed.text).toContain('before.txt');
    expect(listed.text).not.toContain('tester.txt');
    const tester = await threadHand(TESTER);
    expect((await run(tester, TESTER, 'ls /workspace')).text).toContain('coordinator.txt');
  });

  it('a returned copy and an ended thread’s copy are removed; the shared hand stays', async () => {
    const builderCopy = `box~${BUILDER.slice(5, 13)}`;
    const readerCopy = `box~${READER.slice(5, 13)}`;
    // The reader's read-only container is made again in this process.
    expect((await run(await threadHand(READER), READER, 'cat /workspace/before.txt')).isError).toBe(false);
    expect(containersOf(builderCopy)).toHaveLength(1);
    expect(containersOf(readerCopy)).toHaveLength(1);

    const returned = returnThreadHand(BUILDER, 'box', await context());
    expect(returned.message).toBe(`Returned box; your copy ${builderCopy} is removed.`);
    store.emitEvents(sessionId, returned.events);
    expect(returnThreadHand(BUILDER, 'box', await context()).events).toEqual([]);
    store.emitEvent(sessionId, { type: 'session.thread_status_terminated', payload: { session_thread_id: READER } });
    await expect.poll(() => containersOf(builderCopy), { timeout: 20_000 }).toEqual([]);
    await expect.poll(() => containersOf(readerCopy), { timeout: 20_000 }).toEqual([]);
    expect(resolveThreadHand(BUILDER, 'box', await context())).toBeNull();
    expect(containersOf('box')).toHaveLength(1);
    expect(hands.statuses(sessionId)[0]?.threads?.map((holder) => holder.agent_name)).toEqual(['tester']);
  });
});

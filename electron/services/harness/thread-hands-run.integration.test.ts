// Passing hands through the thread run (issue 21): the local Messages API server scripts a coordinator
// that writes a file on its Docker hand, starts a `tester` on the hand shared and a `builder` on a fresh
// copy of it, waits for both and ends them. Real harness, store, registry and Docker engine.
import { afterEach, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { handHolders } from '#shared/hand-holders';
import type { Roster } from '#shared/threads';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import type { RecordedRequest, Reply } from '#test/support/model-server';
import { BASH_IMAGE, dockerCli, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { cleanUpLater, cleanUpRigs, events, rig, waitFor } from '#test/support/harness-rig';
import { bodyText, say, systemOf, toolUse, use } from '#test/support/thread-script';

const ready = await requireDocker();
afterEach(cleanUpRigs);

const ROSTER: Roster = {
  agents: [
    { name: 'tester', system: 'You test.' },
    { name: 'builder', system: 'You build.' },
  ],
  self_copies: false,
};

const results = (request: RecordedRequest): number => bodyText(request).match(/"tool_result"/g)?.length ?? 0;

function script(request: RecordedRequest): Reply {
  const system = systemOf(request);
  const body = bodyText(request);
  for (const who of ['tester', 'builder']) {
    if (!system.includes(who === 'tester' ? 'You test.' : 'You build.')) continue;
    if (results(request) > 0) return say(`${who} done`);
    return use(toolUse(`toolu_${who}`, 'box__bash', { command: `echo ${who} > /workspace/${who}.txt; ls /workspace` }));
  }
  const n = results(request);
  if (n === 0) return use(toolUse('toolu_before', 'box__bash', { command: 'echo before > /workspace/before.txt' }));
  if (n === 1) {
    return use(
      toolUse('toolu_s1', 'thread_start', { agent: 'tester', task: 'Test.', hands: [{ hand: 'box', mode: 'shared' }] }),
      toolUse('toolu_s2', 'thread_start', { agent: 'builder', task: 'Build.', hands: [{ hand: 'box', mode: 'fresh' }] }),
    );
  }
  const threads = [...new Set(body.match(/sthr_[A-Za-z0-9]{8,40}/g) ?? [])];
  if (body.includes('Ended sthr')) return say('Summary: tested and built.');
  if ((body.match(/Message from thread/g)?.length ?? 0) >= 2) {
    return use(...threads.map((id, index) => toolUse(`toolu_end${index}`, 'thread_end', { session_thread_id: id })));
  }
  return use(toolUse(`toolu_wait${n}`, 'thread_wait', {}));
}

it.runIf(ready)(
  'a coordinator passes its Docker hand shared to one thread and as a fresh copy to another',
  async () => {
    let registry: HandRegistry | null = null;
    const r = await rig(script, { handsFor: (id, signal) => (registry as HandRegistry).handsFor(id, signal) });
    const instance = instanceIdOf(r.dir);
    registry = new HandRegistry({ store: r.store, docker: new DockerEngine({ instance }), log: () => undefined });
    const hands = registry;
    cleanUpLater(async () => {
      await r.harness.close();
      await hands.close();
      removeInstanceObjects(instance);
    });
    hands.attach(r.sessionId, { name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } });
    r.store.emitEvent(r.sessionId, { type: 'session.roster_set', payload: ROSTER });

    r.harness.send(r.sessionId, 'Test and build.');
    const done = await waitFor(r, 'session.status_idle', () => true, 120_000);
    expect(done.payload.stop_reason.type).toBe('end_turn');
    await hands.settled(); // the checkpoints of the last calls
    const log = events(r);

    const created = log.filter((event) => event.type === 'session.thread_created');
    const idOf = (agent: string): string => {
      const event = created.find((candidate) => candidate.type === 'session.thread_created' && candidate.payload.agent_name === agent);
      return event?.type === 'session.thread_created' ? event.payload.session_thread_id : '';
    };
    const [tester, builder] = [idOf('tester'), idOf('builder')];
    const copy = `box~${builder.slice(5, 13)}`;

    // The grants in the log; the fold says who held what while they ran, and nothing once both threads ended.
    const access = log.filter((event) => event.type === 'hand.thread_access').map((event) => event.payload);
    expect(access).toEqual(
      expect.arrayContaining([
        { hand: 'box', session_thread_id: tester, mode: 'shared', action: 'granted' },
        { hand: 'box', session_thread_id: builder, mode: 'fresh', action: 'granted', fresh_hand: copy },
      ]),
    );
    const firstResultOf = (thread: string): StoredEvent | undefined =>
      log.find((event) => event.type === 'agent.tool_result' && event.payload.session_thread_id === thread);
    const whileRunning = handHolders(log, firstResultOf(builder)?.seq);
    expect(whileRunning.map((holding) => [holding.session_thread_id, holding.mode, holding.runsOn])).toEqual(
      expect.arrayContaining([
        [tester, 'shared', 'box'],
        [builder, 'fresh', copy],
      ]),
    );
    expect(handHolders(log)).toEqual([]); // both threads ended

    // What each thread's `ls` saw: the fresh copy has the file written before thread_start and its own, never the tester's.
    const text = (event: StoredEvent | undefined): string =>
      event?.type === 'agent.tool_result' ? event.payload.content.map((block) => (block.type === 'text' ? block.text : '')).join('') : '';
    const seenByBuilder = text(firstResultOf(builder));
    expect(seenByBuilder).toContain('before.txt');
    expect(seenByBuilder).toContain('builder.txt');
    expect(seenByBuilder).not.toContain('tester.txt');
    expect(text(firstResultOf(tester))).toContain('before.txt');
    // The builder's call was checkpointed under its copy's name; the copy is gone once its thread ended.
    const checkpointed = log.flatMap((event) => (event.type === 'hand.checkpoint' ? [event.payload.hand_id] : []));
    expect(checkpointed).toContain(copy);
    const copies = () =>
      dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`, '--filter', `label=${LABELS.hand}=${copy}`)
        .split('\n')
        .filter(Boolean);
    await expect.poll(copies, { timeout: 20_000 }).toEqual([]);

    // The coordinator's hand has the tester's file and never the builder's.
    const [box] = await hands.handsFor(r.sessionId);
    const listed = await box?.execute('box__bash', { command: 'ls /workspace' }, { signal: AbortSignal.timeout(60_000) });
    const files = listed?.content.map((block) => (block.type === 'text' ? block.text : '')).join('') ?? '';
    expect(files).toContain('tester.txt');
    expect(files).not.toContain('builder.txt');
  },
  240_000,
);

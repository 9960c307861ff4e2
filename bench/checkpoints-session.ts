/**
 * Checkpoints wired end to end (issue 20), part of `BENCH_ONLY=checkpoints`: a real 100-turn
 * session through the host (its harness, hand registry and RPC dispatcher) against the local
 * Messages API server, one Docker hand of the busybox test image; each turn the model has bash
 * write 1 MiB of random bytes. Measured in the same run:
 * - total checkpoint storage (the blob files in the data folder) against today's design, a
 *   `docker commit` of the hand's container after every turn (each image's own size, measured
 *   for all 100 turns and removed right after);
 * - fork at event N → hand ready (the host's `sessions-fork` RPC, then the fork hand's first tool
 *   call: container made, the checkpoint at N restored, `true` run), for N spread over the session,
 *   against a fresh session of the same image made ready the same way (no checkpoint), interleaved.
 *
 * Never reaches the network (model server on 127.0.0.1, containers with network none); leaves
 * nothing behind: sessions' containers, committed images (instance label of a temp data folder)
 * and the folder are removed, failure or not.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EventOf, EventType } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { BlobStore } from '#services/checkpoints/blob-store';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { startModelServer, type ScriptedMessage } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { bash, say, turnRunner } from '#test/support/tool-script';
import { KEY, ms, p50, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';

const MiB = 1024 * 1024;
const TURNS = 100;
/** Forks measured (and fresh sessions, interleaved). */
const FORKS = 10;
const HAND = { name: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } } as const;

export async function benchCheckpointSession(log: Log): Promise<Figure[]> {
  if (!(await requireDocker())) return [];
  const dir = tempDir('drover-bench-checkpoint-session-');
  const replies: ScriptedMessage[] = [];
  const server = await startModelServer({
    apiKey: KEY,
    respond: () => {
      const next = replies.shift();
      return next
        ? { kind: 'message', message: next }
        : { kind: 'http-error', status: 500, type: 'api_error', message: 'the bench script has no more replies' };
    },
  });
  const store = SessionStore.open({ dataDir: dir });
  const host = createHost({
    store,
    info: { version: 'bench', dataDir: dir, platform: process.platform },
    push: () => undefined,
    keyProvider: () => KEY,
    baseURL: server.url,
    log: () => undefined,
  });
  const engine = new DockerEngine({ instance: instanceIdOf(dir) });
  try {
    return await run({ host, store, engine, replies, dir }, log);
  } finally {
    await host.close();
    const sessions = store.listSessions();
    while (sessions.length > 0) {
      const leaf = sessions.findIndex((session) => !sessions.some((other) => other.parentId === session.id));
      const [session] = sessions.splice(leaf, 1);
      if (!session) break;
      store.deleteSession(session.id);
      await host.hands.sessionDeleted(session.id).catch(() => undefined);
    }
    await host.hands.close();
    const filters = { label: [`${LABELS.instance}=${engine.instance}`] };
    for (const info of await engine.docker.listContainers({ all: true, filters }))
      await engine.docker.getContainer(info.Id).remove({ force: true });
    for (const info of await engine.docker.listImages({ filters })) await engine.docker.getImage(info.Id).remove({ force: true });
    store.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Parts {
  host: Host;
  store: SessionStore;
  engine: DockerEngine;
  replies: ScriptedMessage[];
  dir: string;
}

async function run(parts: Parts, log: Log): Promise<Figure[]> {
  const { host, store, engine, replies, dir } = parts;
  const events = <K extends EventType>(id: string, type: K) => store.getEvents(id, { types: [type] }) as Array<EventOf<K>>;
  const dispatch = async <T>(name: string, arg: unknown): Promise<T> => {
    const outcome = await host.dispatch(name, arg);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result as T;
  };
  const turn = turnRunner({
    store: () => store,
    replies,
    send: (id, text) => dispatch('sessions-send', { sessionId: id, text }),
    settled: () => host.hands.settled(),
  });

  // ------------------------------------------------------------------ the 100-turn session
  const session = await dispatch<SessionSummary>('sessions-launch', { title: 'bench: 100 turns', hands: [HAND] });
  const baseSize = (await engine.docker.getImage(BUSYBOX_IMAGE).inspect()).Size;
  const repository = `drover-bench-session-${engine.instance}`;
  const commitSizes: number[] = [];
  const turnMs: number[] = [];
  const started = performance.now();
  for (let index = 1; index <= TURNS; index++) {
    const began = performance.now();
    await turn(session.id, `turn ${index}`, [
      bash(`head -c ${MiB} /dev/urandom > /workspace/turn-${index}.bin`),
      say(`turn ${index} done`),
    ]);
    turnMs.push(performance.now() - began);
    // Today's design: a `docker commit` of the container after every turn (the image holds every change since it started).
    const container = host.hands.statuses(session.id)[0]?.container;
    if (!container) throw new Error(`turn ${index}: the hand has no container`);
    const tag = `turn-${index}`;
    await engine.docker.getContainer(container).commit({ repo: repository, tag, pause: true });
    commitSizes.push((await engine.docker.getImage(`${repository}:${tag}`).inspect()).Size - baseSize);
    await engine.docker.getImage(`${repository}:${tag}`).remove({ force: true });
  }
  const sessionSeconds = (performance.now() - started) / 1000;
  const checkpoints = events(session.id, 'hand.checkpoint');
  if (checkpoints.length !== TURNS) throw new Error(`expected ${TURNS} checkpoints, the log has ${checkpoints.length}`);
  const stored = (await new BlobStore(dir).stats()).bytes;
  const commitTotal = commitSizes.reduce((sum, size) => sum + size, 0);
  const captureMs = checkpoints.map((event) => event.payload.duration_ms);
  log(
    `  ${TURNS} harness turns of +1 MiB (bash, random bytes) in ${sessionSeconds.toFixed(0)} s (turn p50 ${ms(p50(turnMs))}, ` +
      `with a docker commit after each): checkpoints store ${(stored / MiB).toFixed(1)} MiB in all (capture p50 ${ms(p50(captureMs))}); ` +
      `docker commit after every turn ${(commitTotal / MiB).toFixed(0)} MiB (turn 1: ${((commitSizes[0] ?? 0) / MiB).toFixed(1)} MiB, ` +
      `turn ${TURNS}: ${((commitSizes.at(-1) ?? 0) / MiB).toFixed(1)} MiB)`,
  );

  // --------------------------------------------- fork at event N → hand ready, vs a fresh container
  const results = events(session.id, 'agent.tool_result');
  const ready = async (id: string): Promise<void> => {
    const [hand] = await host.hands.handsFor(id);
    const ran = await hand?.execute('box__bash', { command: 'true' }, { signal: new AbortController().signal });
    if (ran?.isError !== false) throw new Error(`session ${id}: the hand's first call failed`);
  };
  const forkMs: number[] = [];
  const freshMs: number[] = [];
  const points: string[] = [];
  const made: string[] = [];
  for (let k = 1; k <= FORKS; k++) {
    // Spread over the session: right after the tool result of turns 10, 20, … 100 (mid-turn: before the model's answer).
    const at = (results[(k * TURNS) / FORKS - 1]?.seq ?? 0) + 1;
    let began = performance.now();
    const fork = await dispatch<SessionSummary>('sessions-fork', { sessionId: session.id, atSeq: at });
    await ready(fork.id);
    forkMs.push(performance.now() - began);
    made.push(fork.id);
    const restored = events(fork.id, 'hand.ready').at(-1)?.payload.restored_from;
    if (restored?.at_seq !== at - 1) throw new Error(`the fork at ${at} did not restore the checkpoint at ${at - 1}`);
    points.push(`${at}: ${ms(forkMs.at(-1) ?? 0)}`);
    began = performance.now();
    const fresh = await dispatch<SessionSummary>('sessions-launch', { title: `bench: fresh ${k}`, hands: [HAND] });
    await ready(fresh.id);
    freshMs.push(performance.now() - began);
    made.push(fresh.id);
  }
  for (const id of made) {
    store.deleteSession(id);
    await host.hands.sessionDeleted(id);
  }
  log(`  fork at event N → hand ready (fork RPC, container, restore, first call), by N: ${points.join(', ')}`);
  log(`  fresh session of the same image → hand ready (launch RPC, container, first call): p50 ${ms(p50(freshMs))}`);

  return [
    {
      name: `total checkpoint storage of a real ${TURNS}-turn harness session, each turn writing 1 MiB through bash`,
      value: stored / MiB,
      unit: 'MiB',
      baseline: { name: '`docker commit` of the hand after every turn (today’s design; all 100 measured)', value: commitTotal / MiB },
      ratio: stored / commitTotal,
      target: '≤ 150 MiB',
      pass: stored <= 150 * MiB,
    },
    {
      name: `fork at event N → hand ready p50, N spread over the ${TURNS}-turn session (${FORKS} forks: RPC, container, restore of up to 100 MiB, first call)`,
      value: p50(forkMs),
      unit: 'ms',
      baseline: { name: 'a fresh session of the same image → hand ready (launch RPC, container, first call), p50', value: p50(freshMs) },
      ratio: p50(forkMs) / p50(freshMs),
      target: '≤ 1000 ms',
      pass: p50(forkMs) <= 1000,
    },
  ];
}

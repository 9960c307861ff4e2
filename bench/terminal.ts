/**
 * A terminal on a Docker hand (issue 23): keystroke-to-echo latency, two ways, each against
 * `docker exec -it` on the same container under a pty (terminal-keys.ts), interleaved:
 * - end to end (terminal-serve.ts): the real serve mode in its own process, the terminal opened over
 *   its WebSocket RPC as the browser opens it, a key sent as `terminal-input`, timed until its echo
 *   arrives as a `terminal-output` push on that socket;
 * - in process (below): the key through the host's dispatcher, the echo as the connection's push
 *   (the terminal service's batching, back-pressure accounting and redaction included, no socket).
 * Target: p50 ≤ 1.2× `docker exec -it`.
 */
import { rmSync } from 'node:fs';
import type { SessionSummary } from '#shared/sessions';
import { createHost } from '#rpc/host';
import { instanceIdOf } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, dockerUnavailableReason, ensureTestImages, removeInstanceObjects } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { terminalCaller } from '#test/support/terminal-caller';
import { ms, p50, p95, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';
import { dockerExecSide, interleaved, watcher, type Side } from './terminal-keys.ts';
import { benchTerminalServe } from './terminal-serve.ts';

export async function benchTerminal(log: Log): Promise<Figure[]> {
  const missing = await dockerUnavailableReason();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`Terminal bench: ${missing}`);
    log(`  skipped: ${missing}`);
    return [];
  }
  ensureTestImages();
  return [...(await benchTerminalServe(log)), await benchTerminalInProcess(log)];
}

async function benchTerminalInProcess(log: Log): Promise<Figure> {
  const dir = tempDir('drover-bench-terminal-');
  const store = SessionStore.open({ dataDir: dir });
  const host = createHost({
    store,
    info: { version: 'bench', dataDir: dir, platform: process.platform },
    keyProvider: () => 'sk-ant-bench-unused',
    push: () => undefined,
    log: () => undefined,
  });
  const ui = terminalCaller(host, 'bench-window');
  let baseline: Awaited<ReturnType<typeof dockerExecSide>> | null = null;
  try {
    const session = await ui.call<SessionSummary>('sessions-launch', {
      title: 'terminal bench',
      hands: [{ name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } }],
    });
    const terminalId = await ui.open(session.id, 'box');
    const drover = watcher();
    ui.onOutput((id, data) => {
      if (id === terminalId) drover.push(data);
    });
    await ui.waitFor(terminalId, '# ');
    const container = host.hands.statuses(session.id).find((hand) => hand.name === 'box')?.container;
    if (!container) throw new Error('the hand has no container');
    baseline = await dockerExecSide(container);
    const droverSide: Side = { write: (data) => ui.type(terminalId, data), next: (text) => drover.next(text) };
    const times = await interleaved(droverSide, baseline.side);
    const ours = p50(times.ours);
    const theirs = p50(times.theirs);
    const ratio = ours / theirs;
    log(
      `  in process (dispatcher → push), ${times.ours.length} keys each: Drover p50 ${ms(ours)} (p95 ${ms(p95(times.ours))}), docker exec -it p50 ${ms(theirs)} (p95 ${ms(p95(times.theirs))}) → ${ratio.toFixed(2)}×`,
    );
    await ui.call('terminal-close', { terminalId });
    return {
      name: 'Terminal on a Docker hand: keystroke-to-echo p50 in process (terminal service, dispatcher to push)',
      value: ours,
      unit: 'ms',
      baseline: { name: '`docker exec -it` under a pty (script -qfc)', value: theirs },
      ratio,
      target: '≤ 1.2× docker exec -it',
      pass: ratio <= 1.2,
    };
  } finally {
    baseline?.stop();
    ui.close();
    await host.terminals.settled();
    for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
    await host.close();
    store.close();
    removeInstanceObjects(instanceIdOf(dir));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Keystroke-to-echo on a Docker hand's terminal end to end (issue 23): the real serve mode
 * (`electron/serve/index.ts`, its own process, as the e2e tests start it), a WebSocket to it as the
 * cockpit's page opens one (its origin, its token), the terminal opened over that socket's RPC; a key
 * goes as a `terminal-input` request and is timed until its echo arrives as a `terminal-output` push
 * on the socket (the page's path but for xterm.js drawing it). Against `docker exec -it` on the same
 * container under a pty, interleaved (terminal-keys.ts). Output is acknowledged as the page does.
 *
 * Then the same keys through a bare WebSocket bridge to the same container (terminal/bridge.ts), against
 * `docker exec -it` again: what the transport alone costs on this machine, reported beside Drover's figure.
 */
import { performance } from 'node:perf_hooks';
import type { HandStatus } from '#shared/hands';
import type { SessionSummary } from '#shared/sessions';
import { instanceIdOf } from '#services/hands/docker/engine';
import { BASH_IMAGE, removeInstanceObjects } from '#test/support/docker';
import { rpcClient, type RpcClient } from '../e2e/support/rpc.ts';
import { startServeMode } from '../e2e/support/serve.ts';
import { ms, p50, p95, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';
import { dockerExecSide, interleaved, timeout, watcher, type Side } from './terminal-keys.ts';
import { bridgeSide } from './terminal/bridge.ts';

export async function benchTerminalServe(log: Log): Promise<Figure[]> {
  const serve = await startServeMode();
  let socket: RpcClient | null = null;
  let baseline: Awaited<ReturnType<typeof dockerExecSide>> | null = null;
  let sessionId: string | null = null;
  try {
    socket = await rpcClient(serve);
    const rpc = socket;
    const session = await rpc.call<SessionSummary>('sessions-launch', {
      title: 'terminal bench (serve)',
      hands: [{ name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } }],
    });
    sessionId = session.id;
    // Listening before the open: the shell's prompt may be pushed before the open's answer arrives.
    const drover = watcher();
    const printed = new Map<string, string>();
    let unacked = 0;
    let terminalId = '';
    rpc.onPush((push, arg) => {
      if (push !== 'terminal-output') return;
      const output = arg as { terminalId: string; data: string };
      printed.set(output.terminalId, (printed.get(output.terminalId) ?? '') + output.data);
      if (output.terminalId !== terminalId) return;
      drover.push(output.data);
      // Acknowledged as drawn, as the page does (every 32 KiB at most; echoes are small).
      unacked += output.data.length;
      if (unacked >= 32 * 1024) {
        rpc.send('terminal-ack', { terminalId, chars: unacked });
        unacked = 0;
      }
    });
    ({ terminalId } = await rpc.call<{ terminalId: string }>('terminal-open', { sessionId: session.id, hand: 'box', cols: 80, rows: 24 }));
    const prompt = Date.now() + 60_000;
    while (!(printed.get(terminalId) ?? '').includes('# ')) {
      if (Date.now() > prompt)
        throw new Error(`the terminal over serve mode's WebSocket showed no prompt: ${JSON.stringify(printed.get(terminalId) ?? '')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const hands = await rpc.call<HandStatus[]>('hands-list', { sessionId: session.id });
    const container = hands.find((hand) => hand.name === 'box')?.container;
    if (!container) throw new Error('the hand has no container');
    baseline = await dockerExecSide(container);
    const droverSide: Side = {
      write: (data) => rpc.send('terminal-input', { terminalId, data }),
      next: (text) => drover.next(text),
    };
    const times = await interleaved(droverSide, baseline.side);
    const ours = p50(times.ours);
    const theirs = p50(times.theirs);
    const ratio = ours / theirs;
    log(
      `  end to end (serve mode's WebSocket → push), ${times.ours.length} keys each: Drover p50 ${ms(ours)} (p95 ${ms(p95(times.ours))}), docker exec -it p50 ${ms(theirs)} (p95 ${ms(p95(times.theirs))}) → ${ratio.toFixed(2)}×`,
    );
    // What the socket itself costs: a request and its answer (app-info, nothing to do), as many times.
    const roundTrips: number[] = [];
    for (let index = 0; index < times.ours.length; index += 1) {
      const started = performance.now();
      await rpc.call('app-info');
      roundTrips.push(performance.now() - started);
    }
    log(`  of which the WebSocket RPC round trip alone (app-info): p50 ${ms(p50(roundTrips))} (p95 ${ms(p95(roundTrips))})`);
    // The same round trip after an idle millisecond, as a key finds both processes (they sleep while the container echoes):
    // what the two processes' hops cost a key, where the round trips above ran back to back on busy processors.
    const pacedTrips: number[] = [];
    for (let index = 0; index < times.ours.length; index += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const started = performance.now();
      await rpc.call('app-info');
      pacedTrips.push(performance.now() - started);
    }
    log(`  the same round trip after 1 ms idle, as a key finds the processes: p50 ${ms(p50(pacedTrips))} (p95 ${ms(p95(pacedTrips))})`);
    await Promise.race([rpc.call('terminal-close', { terminalId }), timeout(30_000, 'terminal-close did not answer')]);
    const bridge = await bridgeSide(container);
    let bare: { ours: number[]; theirs: number[] };
    try {
      bare = await interleaved(bridge.side, baseline.side);
    } finally {
      bridge.stop();
    }
    const bridgeRatio = p50(bare.ours) / p50(bare.theirs);
    log(
      `  a bare WebSocket bridge to the same container (no Drover), ${bare.ours.length} keys each: p50 ${ms(p50(bare.ours))} (p95 ${ms(p95(bare.ours))}), docker exec -it p50 ${ms(p50(bare.theirs))} → ${bridgeRatio.toFixed(2)}×`,
    );
    const droverFigure: Figure = {
      name: "Terminal on a Docker hand: keystroke-to-echo p50 end to end (serve mode's WebSocket, input to output push)",
      value: ours,
      unit: 'ms',
      baseline: { name: '`docker exec -it` under a pty (script -qfc)', value: theirs },
      ratio,
      target: '≤ 1.2× docker exec -it',
      pass: ratio <= 1.2,
    };
    return [
      droverFigure,
      {
        name: 'Keystroke-to-echo p50 through a bare WebSocket bridge to the same container (the transport alone, no Drover)',
        value: p50(bare.ours),
        unit: 'ms',
        baseline: { name: '`docker exec -it` under a pty (script -qfc)', value: p50(bare.theirs) },
        ratio: bridgeRatio,
        target: 'reported',
      },
    ];
  } finally {
    baseline?.stop();
    if (socket !== null && sessionId !== null) {
      await Promise.race([socket.call('sessions-delete', { sessionId }), timeout(60_000, 'sessions-delete did not answer')]).catch(
        (error: unknown) => log(`  clean-up: deleting the session failed: ${String(error)}`),
      );
    }
    socket?.close();
    await serve.stop();
    // The engine may still be removing the session's container: try again for a while.
    for (let attempt = 0; ; attempt += 1) {
      try {
        removeInstanceObjects(instanceIdOf(serve.dataDir));
        break;
      } catch (error) {
        if (attempt >= 20) log(`  clean-up: removing the bench's containers failed: ${String(error)}`);
        if (attempt >= 20) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

/**
 * A terminal on a Docker hand (issue 23): keystroke-to-echo latency through Drover's terminal
 * service — a key sent as `terminal-input` through the host's dispatcher, the shell's echo back as
 * a `terminal-output` push to the connection (its batching, back-pressure accounting and redaction
 * included) — against `docker exec -it` on the same container under a pty (`script -qfc … /dev/null`
 * from Node: what a person's terminal does). Both sides type into an interactive bash at its prompt
 * (readline echoes each key); keys alternate a letter and its erasure, interleaved side by side in
 * rounds so a busy machine moves both alike. Target: p50 ≤ 1.2× `docker exec -it`.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { SessionSummary } from '#shared/sessions';
import { createHost } from '#rpc/host';
import { instanceIdOf } from '#services/hands/docker/engine';
import { SessionStore } from '#services/session/store';
import { BASH_IMAGE, dockerUnavailableReason, ensureTestImages, removeInstanceObjects } from '#test/support/docker';
import { tempDir } from '#test/support/system';
import { terminalCaller } from '#test/support/terminal-caller';
import { ms, p50, p95, type Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';

const ROUNDS = 20;
const KEYS_PER_ROUND = 20;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Something that takes keys and shows what comes back. */
interface Side {
  write(data: string): Promise<void> | void;
  /** Resolves with the next output that contains `text`. */
  next(text: string): Promise<void>;
}

/** Output listeners over a stream of chunks: `next(text)` resolves at the first chunk from now on that contains it. */
function watcher(): { push(chunk: string): void; next(text: string): Promise<void> } {
  let waiting: { text: string; resolve: () => void } | null = null;
  return {
    push(chunk) {
      if (waiting !== null && chunk.includes(waiting.text)) {
        const { resolve } = waiting;
        waiting = null;
        resolve();
      }
    },
    next(text) {
      return new Promise((resolve) => {
        waiting = { text, resolve };
      });
    },
  };
}

/** Types `count` keys (a letter, then its erasure, …) and returns each one's time to its echo (ms). */
async function typeKeys(side: Side, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const erase = index % 2 === 1;
    const key = erase ? '\u007f' : (LETTERS[index % LETTERS.length] ?? 'a');
    // Readline echoes a letter as itself and an erasure as a backspace.
    const echo = erase ? '\b' : key;
    const seen = side.next(echo);
    const started = performance.now();
    await side.write(key);
    await Promise.race([seen, timeout(10_000, `no echo of ${JSON.stringify(key)}`)]);
    times.push(performance.now() - started);
  }
  return times;
}

function timeout(delayMs: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(what)), delayMs).unref());
}

export async function benchTerminal(log: Log): Promise<Figure[]> {
  const missing = await dockerUnavailableReason();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`Terminal bench: ${missing}`);
    log(`  skipped: ${missing}`);
    return [];
  }
  ensureTestImages();
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
  let script: ReturnType<typeof spawn> | null = null;
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

    // `docker exec -it` on the same container, its TTY given by script(1) as a person's terminal gives it.
    const baseline = watcher();
    let baselineText = '';
    script = spawn('script', ['-qfc', `docker exec -it ${container} bash`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    script.stdout?.setEncoding('utf8');
    script.stdout?.on('data', (chunk: string) => {
      baselineText += chunk;
      baseline.push(chunk);
    });
    const ready = Date.now() + 30_000;
    while (!baselineText.includes('# ')) {
      if (Date.now() > ready) throw new Error(`docker exec -it did not show a prompt: ${JSON.stringify(baselineText)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const droverSide: Side = { write: (data) => ui.type(terminalId, data), next: (text) => drover.next(text) };
    const stdin = script.stdin;
    const baselineSide: Side = { write: (data) => void stdin?.write(data), next: (text) => baseline.next(text) };
    // Warm both (first keys pay for readline's and V8's first paths).
    await typeKeys(droverSide, 10);
    await typeKeys(baselineSide, 10);
    const droverTimes: number[] = [];
    const baselineTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Which goes first alternates, so neither always follows the other's work.
      if (round % 2 === 0) {
        droverTimes.push(...(await typeKeys(droverSide, KEYS_PER_ROUND)));
        baselineTimes.push(...(await typeKeys(baselineSide, KEYS_PER_ROUND)));
      } else {
        baselineTimes.push(...(await typeKeys(baselineSide, KEYS_PER_ROUND)));
        droverTimes.push(...(await typeKeys(droverSide, KEYS_PER_ROUND)));
      }
    }
    const ours = p50(droverTimes);
    const theirs = p50(baselineTimes);
    const ratio = ours / theirs;
    log(
      `  keystroke → echo on a Docker hand, ${droverTimes.length} keys each: Drover p50 ${ms(ours)} (p95 ${ms(p95(droverTimes))}), docker exec -it p50 ${ms(theirs)} (p95 ${ms(p95(baselineTimes))}) → ${ratio.toFixed(2)}×`,
    );
    await ui.call('terminal-close', { terminalId });
    return [
      {
        name: 'Terminal on a Docker hand: keystroke-to-echo p50 (terminal service, dispatcher to push)',
        value: ours,
        unit: 'ms',
        baseline: { name: '`docker exec -it` under a pty (script -qfc)', value: theirs },
        ratio,
        target: '≤ 1.2× docker exec -it',
        pass: ratio <= 1.2,
      },
    ];
  } finally {
    script?.stdin?.end('exit\n');
    script?.kill();
    ui.close();
    await host.terminals.settled();
    for (const session of store.listSessions()) await host.hands.sessionDeleted(session.id);
    await host.close();
    store.close();
    removeInstanceObjects(instanceIdOf(dir));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench`: prints every figure with its same-run baseline and target, and writes them
 * as JSON to the file named by BENCH_JSON, if set. BENCH_EVENTS overrides the big session size
 * (default 1,000,000); BENCH_ONLY=store|harness|threads|hands|checkpoints|ssh|terminal|ui|api|search runs one part (default all; hands needs a
 * Docker engine and is skipped without one, except under CI=true; ui builds the renderer and drives
 * it in Chromium, BENCH_UI_EVENTS sizing its big session, default 100,000). Exits non-zero if a
 * target is missed, so a regression is loud. BENCH_SEARCH_EVENTS sizes search's corpus (default BENCH_EVENTS).
 */
import { writeFileSync } from 'node:fs';
import { benchApiStream } from './api-stream.ts';
import { benchApiWorker } from './api-worker.ts';
import { benchCheckpoints } from './checkpoints.ts';
import { benchHands } from './hands.ts';
import { benchHarness } from './harness.ts';
import { benchRemoteEngine } from './remote-engine.ts';
import { benchAppends, benchScale, type Figure } from './session-store.ts';
import { benchSearchAppends, benchSearchScale } from './search.ts';
import { benchSsh } from './ssh.ts';
import { benchTerminal } from './terminal.ts';
import { benchThreads } from './threads.ts';
import { benchUi } from './ui.ts';

function format(value: number, unit: string): string {
  const digits = value >= 1000 ? 0 : value >= 10 ? 1 : 3;
  return `${value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

const log = (line: string) => console.log(line);
const bigCount = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
if (!Number.isInteger(bigCount) || bigCount < 10_000) {
  console.error(`BENCH_EVENTS must be an integer ≥ 10000 (got ${process.env['BENCH_EVENTS']}).`);
  process.exit(2);
}
const only = process.env['BENCH_ONLY'];
if (
  only !== undefined &&
  !['store', 'harness', 'threads', 'hands', 'checkpoints', 'ssh', 'terminal', 'ui', 'api', 'search'].includes(only)
) {
  console.error(
    `BENCH_ONLY must be "store", "harness", "threads", "hands", "checkpoints", "ssh", "terminal", "ui", "api" or "search" (got ${only}).`,
  );
  process.exit(2);
}

const figures: Figure[] = [];
if (only === undefined || only === 'store') {
  console.log('Drover benchmarks — session store');
  figures.push(...benchAppends(log), ...benchScale(log, bigCount));
}
if (only === undefined || only === 'search') {
  console.log('Drover benchmarks — search across sessions (SQLite FTS5)');
  figures.push(
    ...(await benchSearchAppends(log)),
    ...(await benchSearchScale(log, Number(process.env['BENCH_SEARCH_EVENTS'] ?? bigCount))),
  );
}
if (only === undefined || only === 'harness') {
  console.log('Drover benchmarks — harness');
  figures.push(...(await benchHarness(log)));
}
if (only === undefined || only === 'threads') {
  console.log('Drover benchmarks — threads (issue 21)');
  figures.push(...(await benchThreads(log)));
}
if (only === undefined || only === 'hands') {
  console.log('Drover benchmarks — hands (Docker)');
  figures.push(...(await benchHands(log)));
  figures.push(...(await benchRemoteEngine(log)));
}
if (only === undefined || only === 'checkpoints') {
  console.log('Drover benchmarks — checkpoints (Docker)');
  figures.push(...(await benchCheckpoints(log)));
}
if (only === undefined || only === 'ssh') {
  console.log('Drover benchmarks — SSH hands (OpenSSH server)');
  figures.push(...(await benchSsh(log)));
}
if (only === undefined || only === 'terminal') {
  console.log('Drover benchmarks — a terminal on a Docker hand (issue 23)');
  figures.push(...(await benchTerminal(log)));
}
if (only === undefined || only === 'api') {
  console.log('Drover benchmarks — Managed Agents API stream (SDK clients)');
  figures.push(...(await benchApiStream(log)));
  console.log('Drover benchmarks — self-hosted worker (the SDK EnvironmentWorker)');
  figures.push(...(await benchApiWorker(log)));
}
if (only === undefined || only === 'ui') {
  console.log('Drover benchmarks — cockpit UI (Chromium)');
  figures.push(...(await benchUi(log)));
}

console.log('');
for (const figure of figures) {
  const verdict = figure.pass === undefined ? '' : figure.pass ? 'PASS' : 'MISS';
  console.log(`${verdict.padEnd(5)}${figure.name}: ${format(figure.value, figure.unit)}`);
  if (figure.baseline) {
    const ratio = figure.ratio === undefined ? '' : ` → ratio ${figure.ratio.toFixed(2)}×`;
    console.log(`       vs ${figure.baseline.name}: ${format(figure.baseline.value, figure.unit)}${ratio}`);
  }
  if (figure.target) console.log(`       target: ${figure.target}`);
}

const output = process.env['BENCH_JSON'];
if (output) {
  writeFileSync(output, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, figures }, null, 2)}\n`);
  console.log(`\nFigures written to ${output}`);
}
const missed = figures.filter((f) => f.pass === false);
const judged = figures.filter((f) => f.pass !== undefined);
console.log(
  `\n${judged.length - missed.length} of ${judged.length} targets met, ${missed.length} missed (${figures.length - judged.length} figures reported without a target)`,
);
process.exitCode = missed.length > 0 ? 1 : 0;

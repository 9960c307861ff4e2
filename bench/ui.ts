/**
 * Cockpit benchmarks, in Chromium through Playwright against the real serve mode and the UI built
 * from the current source: how long a 100k-event session takes to open, how smoothly the timeline
 * scrubs (dragging the minimap, holding an arrow key on the tape), and how much memory the page
 * holds afterwards. Every figure has a baseline from the same run — the same measurement on a
 * 100-event session with the same mix of events — interleaved with it, so a busy machine moves
 * both sides alike.
 *
 * It never reaches the network (no message is sent; the API base URL points at a closed local
 * port) and leaves nothing behind: browser, server and the temp data dir go at the end, failure
 * or not. A scrub that moves neither the cursor nor the transcript fails the run instead of
 * reporting the frame rate of an idle page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { NewEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';
import { chromiumPath } from '../e2e/support/browser.ts';
import { startServeMode, type ServeHandle } from '../e2e/support/serve.ts';
import { p50, p95, type Log } from './harness/common.ts';
import { rng, type Figure } from './session-store.ts';

const root = path.resolve(import.meta.dirname, '..');
/** Decimal megabytes: the stricter reading of the 300 MB target. */
const MB = 1_000_000;
/** Opens per session, after one discarded warm-up each (first process, cold caches). */
const OPEN_REPEATS = 5;
/** Scrub rounds per session, each in a fresh page whose memory is read afterwards. */
const SCRUB_ROUNDS = 3;
const DRAG_MS = 3000;
const DRAG_MOVES = 180;
/** Key presses each way; the keyboard pass goes right then left so a 100-event session never hits its end. */
const KEY_PRESSES = 60;
const KEY_MS = 2000;
/** The same flags as the e2e 'browser' project (playwright.config.ts). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

// ------------------------------------------------------------------------------------ data

const WORDS =
  'the agent ran tests in the container and fixed a failing import then checked the output again before it said done with a short summary of changes'.split(
    ' ',
  );

/**
 * One turn as the harness records it (user message, running, model span, thinking, answer with
 * a code block, a bash call and its coloured output, idle): deterministic, so every run and
 * both sessions hold the same mix.
 */
function turnEvents(turn: number, random: () => number): NewEvent[] {
  const words = (min: number, max: number) =>
    Array.from({ length: min + Math.floor(random() * (max - min)) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  const toolUseId = `toolu_bench_${turn}`;
  const model = 'claude-sonnet-4-5';
  const answer =
    `**Step ${turn}.** ${words(14, 22)}.\n\n- ${words(4, 8)}\n- ${words(4, 8)}\n\n` +
    `\`\`\`ts\nexport function check${turn}(value: number): boolean {\n  return value > ${turn % 97};\n}\n\`\`\`\n\n${words(10, 16)}.`;
  const outputLines = Array.from(
    { length: 14 },
    (_, line) =>
      `\u001b[32m✓\u001b[0m test/${WORDS[(turn + line) % WORDS.length]}-${line}.test.ts \u001b[2m(${3 + line} tests)\u001b[0m ${Math.floor(random() * 90)}ms`,
  );
  const output = `${outputLines.join('\n')}\n\n\u001b[1m\u001b[32m Test Files  14 passed\u001b[0m (14)\n\u001b[1m      Tests  ${Math.floor(random() * 300)} passed\u001b[0m`;
  return [
    { type: 'user.message', payload: { content: [{ type: 'text', text: `Please ${words(4, 12)}.` }] } },
    { type: 'session.status_running', payload: {} },
    { type: 'span.model_request_start', payload: { model } },
    { type: 'agent.thinking', payload: { thinking: words(20, 40), signature: `sig_${turn.toString(36)}_${'Zm9vYmFy'.repeat(8)}` } },
    { type: 'agent.message', payload: { content: [{ type: 'text', text: answer }] } },
    { type: 'agent.tool_use', payload: { tool_use_id: toolUseId, name: 'box__bash', input: { command: 'npm test' }, hand_id: 'box' } },
    {
      type: 'agent.tool_result',
      payload: {
        tool_use_id: toolUseId,
        content: [{ type: 'text', text: output }],
        is_error: false,
        duration_ms: Math.round(500 + random() * 4000),
      },
    },
    {
      type: 'span.model_request_end',
      payload: {
        model,
        usage: {
          input_tokens: Math.floor(random() * 9e4),
          output_tokens: Math.floor(random() * 4e3),
          cache_read_input_tokens: Math.floor(random() * 8e4),
          cache_creation_input_tokens: Math.floor(random() * 2e3),
        },
        stop_reason: 'end_turn',
        is_error: false,
        duration_ms: Math.round(1000 + random() * 20_000),
      },
    },
    { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
  ];
}

/**
 * Creates a session of exactly `count` events: configuration, a Docker hand, then whole turns.
 * It must end idle: serve mode resumes a session whose last turn is unfinished (crash recovery)
 * and would append events while it is measured. So the count is made up with a few settings
 * changes before the first turn, not with a cut-off last turn.
 */
function fillSession(store: SessionStore, title: string, count: number): string {
  const { id } = store.createSession({ title });
  const random = rng(42);
  const turnLength = turnEvents(0, rng(0)).length;
  const setup: NewEvent[] = [{ type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'docker', image: 'debian:bookworm' } } }];
  const turns = Math.floor((count - setup.length - 1) / turnLength);
  const settingsChanges = count - setup.length - turns * turnLength;
  let batch: NewEvent[] = [
    ...Array.from({ length: settingsChanges }, (_, index): NewEvent => ({
      type: 'session.configured',
      payload: { model: 'claude-sonnet-4-5', max_tokens: 8192 + 1024 * index },
    })),
    ...setup,
  ];
  // One fsync'd transaction per ~2000 events keeps the fill to seconds, not minutes.
  for (let turn = 1; turn <= turns; turn++) {
    batch.push(...turnEvents(turn, random));
    if (batch.length >= 2000 || turn === turns) {
      store.emitEvents(id, batch);
      batch = [];
    }
  }
  const written = store.getSession(id).lastSeq;
  if (written !== count) throw new Error(`the ${title} session has ${written} events, not ${count}`);
  return id;
}

// ------------------------------------------------------------------------------------ in-page probe

/** What the probe in the page returns for one recorded stretch of frames. */
interface FrameRecord {
  /** rAF timestamps (ms since navigation start). */
  times: number[];
  /** Distinct aria-valuenow values of the tape seen at frames. */
  cursors: number[];
  /** Distinct data-seq values of the transcript's last rendered row seen at frames. */
  transcriptSeqs: number[];
}

/**
 * The probe as the page's global holds it. The calls into it are one-expression arrow functions:
 * the app's CSP (script-src 'self') forbids the eval behind string predicates, and anything
 * longer could pick up tsx's name-keeping helpers, which do not exist in the page.
 */
interface ProbeGlobal {
  __droverBench: { openedAt: number | null; startFrames(): void; stopFrames(): FrameRecord; describe(): string };
}

/**
 * Installed before the app's own scripts (init scripts are exempt from the CSP). Plain
 * JavaScript in a string, not a function: the bench's TypeScript has no DOM types, and tsx's
 * name-keeping helpers would not survive Playwright's serialising of a function into the page.
 *
 * `openedAt` is set the first time the page shows the session ready: the tape knows every event,
 * the transcript has rows and is not waiting for any. A MutationObserver catches the moment; the
 * rAF check covers a ready state reached without a watched mutation.
 */
function probeScript(eventCount: number): string {
  return `(() => {
  const expected = ${JSON.stringify(String(eventCount))};
  const bench = { openedAt: null, record: null };
  window.__droverBench = bench;
  const tape = () => document.querySelector('[data-testid="timeline-tape"]');
  const ready = () => {
    const slider = tape();
    const transcript = document.querySelector('[data-testid="transcript"]');
    return slider !== null && slider.getAttribute('aria-valuemax') === expected && transcript !== null &&
      transcript.querySelector('.transcript-row') !== null && transcript.getAttribute('aria-busy') !== 'true';
  };
  const check = () => {
    if (bench.openedAt !== null) return true;
    if (!ready()) return false;
    bench.openedAt = performance.now();
    observer.disconnect();
    return true;
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuemax', 'aria-busy'] });
  const poll = () => { if (!check()) requestAnimationFrame(poll); };
  requestAnimationFrame(poll);
  bench.describe = () => {
    const slider = tape();
    const transcript = document.querySelector('[data-testid="transcript"]');
    return 'tape aria-valuemax=' + (slider === null ? '(no tape)' : slider.getAttribute('aria-valuemax')) + ' (want ' + expected + '), ' +
      'transcript ' + (transcript === null ? 'missing' : transcript.querySelectorAll('.transcript-row').length + ' rows, aria-busy=' + transcript.getAttribute('aria-busy')) +
      ', address ' + location.hash + ', page text: ' + (document.body === null ? '' : document.body.innerText.slice(0, 300).replace(/\\s+/g, ' '));
  };

  bench.startFrames = () => {
    const record = { times: [], cursors: new Set(), transcriptSeqs: new Set(), running: true };
    bench.record = record;
    const frame = (time) => {
      if (!record.running) return;
      record.times.push(time);
      const slider = tape();
      if (slider !== null) record.cursors.add(Number(slider.getAttribute('aria-valuenow')));
      const rows = document.querySelectorAll('[data-testid="transcript"] [data-seq]');
      const last = rows[rows.length - 1];
      if (last !== undefined) record.transcriptSeqs.add(Number(last.getAttribute('data-seq')));
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  };
  bench.stopFrames = () => {
    const record = bench.record;
    record.running = false;
    return { times: record.times, cursors: [...record.cursors], transcriptSeqs: [...record.transcriptSeqs] };
  };
})();`;
}

// ------------------------------------------------------------------------------------ browser

interface Target {
  label: 'Big' | 'Small';
  sessionId: string;
  events: number;
}

interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** ms from navigation start to the session shown ready. */
  openMs: number;
  errors: string[];
}

/**
 * A fresh browser context (its own renderer process, cold HTTP cache, empty storage) showing the
 * session, timed by the probe from navigation start: loading the app, the WebSocket, the session
 * list, the timeline and the first events.
 */
async function openSession(browser: Browser, serve: ServeHandle, target: Target): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    // Console errors only explain a page that never got ready (a missing favicon logs one too).
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.addInitScript({ content: probeScript(target.events) });
    await page.goto(`${serve.url}#/s/${target.sessionId}`);
    try {
      await page.waitForFunction(() => (globalThis as unknown as ProbeGlobal).__droverBench.openedAt !== null, undefined, {
        timeout: 30_000,
      });
    } catch (error) {
      const state = await page.evaluate(() => (globalThis as unknown as ProbeGlobal).__droverBench.describe()).catch(() => '(page gone)');
      throw new Error(
        `the ${target.label} session (${target.events} events) did not show ready within 30 s: ${state}; page errors: ${[...errors, ...consoleErrors].join('; ') || 'none'}`,
        { cause: error },
      );
    }
    const openMs = await page.evaluate(() => (globalThis as unknown as ProbeGlobal).__droverBench.openedAt ?? Number.NaN);
    return { context, page, openMs, errors };
  } catch (error) {
    await context.close();
    throw error;
  }
}

const sleepUntil = (deadline: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())));

interface Scrub {
  fps: number;
  intervals: number[];
  frames: FrameRecord;
}

/** Records frames while `drive` runs; fails when the cursor or the transcript barely moved. */
async function recordScrub(
  page: Page,
  what: string,
  drive: () => Promise<void>,
  expect: { cursors: number; transcriptRows: number },
): Promise<Scrub> {
  await page.evaluate(() => (globalThis as unknown as ProbeGlobal).__droverBench.startFrames());
  await drive();
  const frames = await page.evaluate(() => (globalThis as unknown as ProbeGlobal).__droverBench.stopFrames());
  const { times } = frames;
  if (frames.cursors.length < expect.cursors || frames.transcriptSeqs.length < expect.transcriptRows) {
    throw new Error(
      `${what} did not scrub: the frames saw ${frames.cursors.length} cursor positions (want ≥ ${expect.cursors}) and ` +
        `${frames.transcriptSeqs.length} different last transcript rows (want ≥ ${expect.transcriptRows}). A scrub that does nothing must not pass.`,
    );
  }
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  const intervals = times.slice(1).map((time, index) => time - (times[index] ?? time));
  return { fps: times.length > 1 ? ((times.length - 1) / (last - first)) * 1000 : 0, intervals, frames };
}

/** Drags the minimap from its left edge to its right edge and back over DRAG_MS, one move per frame's worth of time. */
async function dragMinimap(page: Page, target: Target): Promise<Scrub> {
  const box = await page.getByTestId('timeline-minimap').boundingBox();
  if (box === null) throw new Error('the minimap is not visible');
  const y = box.y + box.height / 2;
  const left = box.x + 1;
  const right = box.x + box.width - 1;
  const scrub = await recordScrub(
    page,
    `dragging the ${target.label} session's minimap`,
    async () => {
      await page.mouse.move(left, y);
      await page.mouse.down();
      const started = performance.now();
      const half = DRAG_MOVES / 2;
      for (let move = 1; move <= DRAG_MOVES; move++) {
        const along = move <= half ? move / half : (DRAG_MOVES - move) / half;
        await page.mouse.move(left + (right - left) * along, y);
        await sleepUntil(started + (move * DRAG_MS) / DRAG_MOVES);
      }
      await page.mouse.up();
    },
    // A full sweep must visit many positions and most of the session's turns (a 100-event session has ~11).
    { cursors: 40, transcriptRows: 5 },
  );
  const low = Math.min(...scrub.frames.cursors);
  const high = Math.max(...scrub.frames.cursors);
  if (low > target.events * 0.05 || high < target.events * 0.95) {
    throw new Error(`dragging the ${target.label} session's minimap end to end reached only events ${low}…${high} of ${target.events}`);
  }
  return scrub;
}

/** Holds → (auto-repeat, one key-down per frame's worth of time) then ← on the focused tape, from a quarter of the way in. */
async function holdArrows(page: Page, target: Target, log: Log): Promise<Scrub> {
  const box = await page.getByTestId('timeline-minimap').boundingBox();
  if (box === null) throw new Error('the minimap is not visible');
  // A quarter in: a full transcript window behind the cursor on the big session, and room both ways on the small one.
  await page.mouse.click(box.x + box.width / 4, box.y + box.height / 2);
  const tape = page.getByTestId('timeline-tape');
  await tape.focus();
  const start = Number(await tape.getAttribute('aria-valuenow'));
  const scrub = await recordScrub(
    page,
    `holding the arrow keys on the ${target.label} session's tape`,
    async () => {
      const started = performance.now();
      let press = 0;
      for (const key of ['ArrowRight', 'ArrowLeft']) {
        for (let count = 0; count < KEY_PRESSES; count++) {
          await page.keyboard.down(key);
          await sleepUntil(started + (++press * KEY_MS) / (2 * KEY_PRESSES));
        }
        await page.keyboard.up(key);
      }
    },
    // Every press moves the cursor one event; turns are 9 events, so 60 presses cross ~6 of them.
    { cursors: 30, transcriptRows: 3 },
  );
  const end = Number(await tape.getAttribute('aria-valuenow'));
  // Not fatal (the frames are still real), but a held key that loses steps is a bug worth seeing.
  if (end !== start)
    log(
      `  WARNING: ${KEY_PRESSES} presses of → then ← on the ${target.label} session's tape ended at event ${end}, not back at ${start}: steps were lost`,
    );
  return scrub;
}

interface Memory {
  /** Largest renderer process RSS in bytes, or null where it cannot be read. */
  rss: number | null;
  heap: number;
}

/**
 * Memory after a forced GC: the page's JS heap, and the resident size of the renderer processes
 * (read from /proc; Linux only). Only one page is open when this runs, so the largest renderer
 * is this page's (the others are Chromium's small spare ones).
 */
async function measureMemory(browser: Browser, opened: OpenedPage): Promise<Memory> {
  const cdp = await opened.context.newCDPSession(opened.page);
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    // Freed pages go back to the OS shortly after a GC, not during it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
    return { heap, rss: await rendererRss(browser) };
  } finally {
    await cdp.detach();
  }
}

/** Why renderer RSS cannot be read here, once found out (so it is tried once per run, not per page). */
let rssUnavailable: string | null = null;

async function rendererRss(browser: Browser): Promise<number | null> {
  if (rssUnavailable !== null) return null;
  if (process.platform !== 'linux') {
    rssUnavailable = `renderer RSS is read from /proc, which ${process.platform} does not have`;
    return null;
  }
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    const sizes = processInfo
      .filter((info) => info.type === 'renderer')
      .map((info) => /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${info.id}/status`, 'utf8'))?.[1])
      .map((kib) => (kib === undefined ? Number.NaN : Number(kib) * 1024));
    if (sizes.length === 0 || sizes.some((size) => Number.isNaN(size)))
      throw new Error(`no readable renderer among ${processInfo.length} processes`);
    return Math.max(...sizes);
  } catch (error) {
    rssUnavailable = `could not read the renderer's RSS: ${error instanceof Error ? error.message : String(error)}`;
    return null;
  } finally {
    await cdp.detach();
  }
}

// ------------------------------------------------------------------------------------ the bench

/** Builds the renderer from the current source, so the figures are the UI as it is now. */
function buildUi(log: Log): void {
  const started = performance.now();
  try {
    execFileSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    // electron-vite reports compile errors on either stream.
    const streams =
      error instanceof Error && 'stdout' in error && 'stderr' in error ? `${String(error.stdout)}\n${String(error.stderr)}` : String(error);
    const output = streams.trim().split('\n').slice(-20).join('\n');
    throw new Error(`The UI did not build, so there is nothing to measure. Run \`npm run build\` first to see why:\n${output}`, {
      cause: error,
    });
  }
  if (!existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
    throw new Error('The UI build left no out/renderer/index.html: run `npm run build` first.');
  }
  log(`  built the UI (electron-vite build) in ${(performance.now() - started).toFixed(0)} ms`);
}

function eventCountFromEnv(): number {
  const count = Number(process.env['BENCH_UI_EVENTS'] ?? 100_000);
  if (!Number.isInteger(count) || count < 1000)
    throw new Error(`BENCH_UI_EVENTS must be an integer ≥ 1000 (got ${process.env['BENCH_UI_EVENTS']}).`);
  return count;
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const mb = (bytes: number) => bytes / MB;
const measured = (values: ReadonlyArray<number | null>): number[] => values.filter((value): value is number => value !== null);

export async function benchUi(log: Log): Promise<Figure[]> {
  const bigEvents = eventCountFromEnv();
  rssUnavailable = null;
  buildUi(log);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'drover-bench-ui-'));
  let serve: ServeHandle | undefined;
  let browser: Browser | undefined;
  try {
    const started = performance.now();
    const store = SessionStore.open({ dataDir });
    let big: Target;
    let small: Target;
    try {
      big = { label: 'Big', sessionId: fillSession(store, 'Big', bigEvents), events: bigEvents };
      small = { label: 'Small', sessionId: fillSession(store, 'Small', 100), events: 100 };
    } finally {
      // Serve mode opens the same folder and takes its lock.
      store.close();
    }
    log(`  wrote sessions of ${bigEvents.toLocaleString('en')} and 100 events in ${ms(performance.now() - started)}`);

    // No message is sent; should one be, it goes to a closed local port, never to the API.
    serve = await startServeMode(
      { ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' },
      { dataDir, keepDataDir: true },
    );
    const executablePath = chromiumPath();
    browser = await chromium.launch({ ...(executablePath === undefined ? {} : { executablePath }), args: CHROMIUM_ARGS });
    log(`  Chromium ${browser.version()} (headless, --disable-gpu), serve mode at ${serve.origin}`);

    // ---- open time: fresh pages, Big and Small interleaved (order swapped every round).
    const opens: Record<Target['label'], number[]> = { Big: [], Small: [] };
    for (let round = -1; round < OPEN_REPEATS; round++) {
      for (const target of round % 2 === 0 ? [big, small] : [small, big]) {
        const opened = await openSession(browser, serve, target);
        await opened.context.close();
        if (round < 0) log(`  warm-up open (discarded): ${target.label} ${ms(opened.openMs)}`);
        else opens[target.label].push(opened.openMs);
      }
    }
    log(`  open times: Big ${opens.Big.map(ms).join(', ')}; Small ${opens.Small.map(ms).join(', ')}`);

    // ---- scrubbing and memory: each round in a fresh page, interleaved B S S B B S.
    const scrubs: Record<Target['label'], { drag: Scrub[]; keys: Scrub[]; memory: Memory[] }> = {
      Big: { drag: [], keys: [], memory: [] },
      Small: { drag: [], keys: [], memory: [] },
    };
    for (let round = 0; round < SCRUB_ROUNDS; round++) {
      for (const target of round % 2 === 0 ? [big, small] : [small, big]) {
        const opened = await openSession(browser, serve, target);
        try {
          const drag = await dragMinimap(opened.page, target);
          const keys = await holdArrows(opened.page, target, log);
          const memory = await measureMemory(browser, opened);
          const result = scrubs[target.label];
          result.drag.push(drag);
          result.keys.push(keys);
          result.memory.push(memory);
          log(
            `  scrub ${target.label}: drag ${drag.fps.toFixed(1)} fps (${drag.frames.cursors.length} positions, ${drag.frames.transcriptSeqs.length} transcript ends), ` +
              `keys ${keys.fps.toFixed(1)} fps (${keys.frames.cursors.length} positions, ${keys.frames.transcriptSeqs.length} transcript ends); ` +
              `heap ${mb(memory.heap).toFixed(1)} MB, renderer RSS ${memory.rss === null ? 'not measured' : `${mb(memory.rss).toFixed(1)} MB`}` +
              (opened.errors.length > 0 ? `; page errors: ${opened.errors.join('; ')}` : ''),
          );
        } finally {
          await opened.context.close();
        }
      }
    }
    if (rssUnavailable !== null) log(`  renderer RSS not measured: ${rssUnavailable}`);

    return figures(bigEvents, opens, scrubs);
  } finally {
    await browser?.close().catch((error: unknown) => log(`  clean-up: closing Chromium failed: ${String(error)}`));
    await serve?.stop().catch((error: unknown) => log(`  clean-up: stopping serve mode failed: ${String(error)}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function figures(
  bigEvents: number,
  opens: Record<Target['label'], number[]>,
  scrubs: Record<Target['label'], { drag: Scrub[]; keys: Scrub[]; memory: Memory[] }>,
): Figure[] {
  const size = `${bigEvents.toLocaleString('en')}-event session`;
  const list: Figure[] = [];
  const openBig = p50(opens.Big);
  const openSmall = p50(opens.Small);
  list.push({
    name: `UI: open a ${size} p50 (navigation start → timeline and transcript shown, ${OPEN_REPEATS} fresh pages)`,
    value: openBig,
    unit: 'ms',
    baseline: { name: 'a 100-event session', value: openSmall },
    ratio: openBig / openSmall,
    target: '≤ 1000 ms',
    pass: openBig <= 1000,
  });

  for (const [pass, title] of [
    ['drag', 'dragging the minimap end to end and back'],
    ['keys', 'holding → then ← on the tape'],
  ] as const) {
    // The slowest round: a frame rate is only as good as its worst stretch.
    const fpsBig = Math.min(...scrubs.Big[pass].map((scrub) => scrub.fps));
    const fpsSmall = Math.min(...scrubs.Small[pass].map((scrub) => scrub.fps));
    list.push({
      name: `UI: frame rate ${title}, ${size} (slowest of ${SCRUB_ROUNDS} rounds)`,
      value: fpsBig,
      unit: 'fps',
      baseline: { name: 'a 100-event session', value: fpsSmall },
      ratio: fpsBig / fpsSmall,
      target: '≥ 50 fps',
      pass: fpsBig >= 50,
    });
    const p95Big = p95(scrubs.Big[pass].flatMap((scrub) => scrub.intervals));
    const p95Small = p95(scrubs.Small[pass].flatMap((scrub) => scrub.intervals));
    list.push({
      name: `UI: frame interval p95 ${title}, ${size}`,
      value: p95Big,
      unit: 'ms',
      baseline: { name: 'a 100-event session', value: p95Small },
      ratio: p95Big / p95Small,
      target: 'reported (50 fps is 20 ms a frame)',
    });
  }

  const rssBig = measured(scrubs.Big.memory.map((memory) => memory.rss));
  const rssSmall = measured(scrubs.Small.memory.map((memory) => memory.rss));
  if (rssUnavailable === null && rssBig.length === SCRUB_ROUNDS && rssSmall.length === SCRUB_ROUNDS) {
    const big = mb(Math.max(...rssBig));
    const small = mb(Math.max(...rssSmall));
    list.push({
      name: `UI: renderer memory (RSS after the scrubs and a forced GC, largest of ${SCRUB_ROUNDS}), ${size}`,
      value: big,
      unit: 'MB',
      baseline: { name: 'a 100-event session', value: small },
      ratio: big / small,
      target: '≤ 300 MB',
      pass: big <= 300,
    });
  } else {
    list.push({
      name: `UI: renderer memory (RSS), ${size}`,
      value: Number.NaN,
      unit: 'MB',
      target: `≤ 300 MB — NOT MEASURED: ${rssUnavailable ?? 'unknown reason'}`,
    });
  }
  const heapBig = mb(Math.max(...scrubs.Big.memory.map((memory) => memory.heap)));
  const heapSmall = mb(Math.max(...scrubs.Small.memory.map((memory) => memory.heap)));
  list.push({
    name: `UI: JS heap used (after the scrubs and a forced GC, largest of ${SCRUB_ROUNDS}), ${size}`,
    value: heapBig,
    unit: 'MB',
    baseline: { name: 'a 100-event session', value: heapSmall },
    ratio: heapBig / heapSmall,
    target: 'reported (part of the 300 MB renderer)',
  });
  return list;
}

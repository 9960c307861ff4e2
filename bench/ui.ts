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
 *
 * The sessions it writes are built in ui/data.ts; the figures it reports, in ui/figures.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { SessionStore } from '#services/session/store';
import { chromiumPath } from '../e2e/support/browser.ts';
import { startServeMode, type ServeHandle } from '../e2e/support/serve.ts';
import type { Log } from './harness/common.ts';
import type { Figure } from './session-store.ts';
import { fillSession } from './ui/data.ts';
import { figures, mb, OPEN_REPEATS, SCRUB_ROUNDS, type FrameRecord, type Memory, type Scrub, type TargetLabel } from './ui/figures.ts';

const root = path.resolve(import.meta.dirname, '..');
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

// ------------------------------------------------------------------------------------ in-page probe

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
  label: TargetLabel;
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

    return figures(bigEvents, opens, scrubs, rssUnavailable);
  } finally {
    await browser?.close().catch((error: unknown) => log(`  clean-up: closing Chromium failed: ${String(error)}`));
    await serve?.stop().catch((error: unknown) => log(`  clean-up: stopping serve mode failed: ${String(error)}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// The time scale over a whole session (issue 23), in Chromium against the real serve mode: a session
// of 3,000 events over two days (imported from a file with those times), zoomed out to a day. The
// events loaded around the cursor (±512, about 16 hours here) cannot cover the window, so the tape
// draws the session's density from `sessions-time-density` — marks across the whole tape, its
// first and last eighths included, where no loaded event is — and a click far from the cursor goes
// to the events at that time.
import { randomUUID } from 'node:crypto';
import { expect, test, type Locator } from '@playwright/test';
import { requireChromium } from '../support/browser.ts';
import { snap, startCockpit, textReply, type Cockpit } from '../support/cockpit.ts';

requireChromium();

let cockpit: Cockpit | undefined;

const EVENTS = 3000;
const PER_TURN = 50;
const TURN_GAP_MS = 48 * 60_000;
const START = Date.parse('2026-02-02T06:00:00.000Z');

test.beforeAll(async () => {
  cockpit = await startCockpit(() => textReply('unused'));
});

test.afterAll(async () => {
  await cockpit?.stop();
});

/** 60 turns of 50 events, 48 minutes apart (two days), each turn's events half a second apart. */
function exportFile(): string {
  const header = {
    drover_session_export: 1,
    session: { id: randomUUID(), title: 'Two long days', created_at: new Date(START).toISOString(), parent_id: null, fork_seq: null },
    event_count: EVENTS,
  };
  const lines: string[] = [];
  for (let seq = 1; seq <= EVENTS; seq++) {
    const turn = Math.floor((seq - 1) / PER_TURN);
    const ms = START + turn * TURN_GAP_MS + ((seq - 1) % PER_TURN) * 500;
    const event =
      (seq - 1) % PER_TURN === 0
        ? { type: 'user.message', payload: { content: [{ type: 'text', text: `Turn ${turn + 1}` }] } }
        : { type: 'agent.message', payload: { content: [{ type: 'text', text: `Step ${seq}` }] } };
    lines.push(JSON.stringify({ seq, id: randomUUID(), ts: new Date(ms).toISOString(), ...event }));
  }
  return `${[JSON.stringify(header), ...lines].join('\n')}\n`;
}

/** For each of `parts` equal parts of the tape's width: whether anything is drawn there above the time axis. */
async function drawnParts(tape: Locator, parts: number): Promise<boolean[]> {
  return tape.locator('canvas').evaluate((canvas: HTMLCanvasElement, count: number) => {
    const context = canvas.getContext('2d');
    if (context === null) return [];
    const ratio = globalThis.devicePixelRatio || 1;
    // Above the axis (its 12 px of labels at the bottom), below the turn labels (10 px at the top).
    const top = Math.round(12 * ratio);
    const bottom = canvas.height - Math.round(13 * ratio);
    const { data } = context.getImageData(0, top, canvas.width, Math.max(1, bottom - top));
    const drawn = new Array<boolean>(count).fill(false);
    const rows = Math.max(1, bottom - top);
    for (let x = 0; x < canvas.width; x++) {
      for (let y = 0; y < rows; y++) {
        if ((data[(y * canvas.width + x) * 4 + 3] ?? 0) > 0) {
          drawn[Math.min(count - 1, Math.floor((x / canvas.width) * count))] = true;
          break;
        }
      }
    }
    return drawn;
  }, parts);
}

test('a session longer than 1,024 events draws marks across the whole zoomed-out time tape', async ({ page }, testInfo) => {
  if (cockpit === undefined) throw new Error('the set-up did not finish');
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(cockpit.serve.url);
  await page
    .locator('input[type=file]')
    .setInputFiles({ name: 'two-days.drover.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(exportFile()) });
  const sessions = page.getByRole('navigation', { name: 'Sessions' });
  await expect(sessions).toContainText('Two long days');
  await sessions.getByText('Two long days').click();

  const scale = page.getByRole('group', { name: 'Timeline scale' });
  await scale.getByRole('button', { name: 'Time' }).click();
  const zoomOut = scale.getByRole('button', { name: 'Zoom out' });
  while (await zoomOut.isEnabled()) await zoomOut.click();
  await expect(page.getByTestId('timeline-zoom')).toHaveText('1 day');
  const tape = page.getByTestId('timeline-time-tape');
  await expect(tape).toHaveAttribute('aria-valuemax', String(EVENTS));

  // From the first event, two clicks at 90% of the tape walk the cursor a day into the session
  // (each goes to the events at that time, far past those loaded): then the window is all session.
  await tape.focus();
  await page.keyboard.press('Home');
  await expect(tape).toHaveAttribute('aria-valuenow', '1');
  await expect(tape).toHaveAttribute('data-drawn', 'density');
  for (let click = 0; click < 2; click++) {
    const before = Number(await tape.getAttribute('aria-valuenow'));
    const box = await tape.boundingBox();
    if (box === null) throw new Error('the time tape is not shown');
    await tape.click({ position: { x: box.width * 0.9, y: box.height / 2 } });
    await expect.poll(async () => Number(await tape.getAttribute('aria-valuenow'))).toBeGreaterThan(before + 512);
    await expect(tape).toHaveAttribute('data-drawn', 'density');
  }
  const cursor = Number(await tape.getAttribute('aria-valuenow'));
  expect(cursor).toBeGreaterThan(1100);
  expect(cursor).toBeLessThan(1800);

  // Marks in every eighth of the tape, the outer ones (beyond the loaded events) from the density.
  await expect.poll(() => drawnParts(tape, 8), { timeout: 15_000 }).toEqual(new Array(8).fill(true));
  // 3,000 events are counted exactly: no "≈ estimated" note (it shows for sessions read by sampling).
  await expect(tape).toHaveAttribute('data-exact', 'true');
  await expect(page.getByTestId('timeline-density-estimated')).toHaveCount(0);
  await snap(page, testInfo, 'timeline-density-day');

  // Zoomed in to 5 minutes, the loaded events cover the window: single events again.
  const zoomIn = scale.getByRole('button', { name: 'Zoom in' });
  while ((await page.getByTestId('timeline-zoom').textContent()) !== '5 min') await zoomIn.click();
  await expect(tape).toHaveAttribute('data-drawn', 'events');
});

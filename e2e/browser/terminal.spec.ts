// A terminal on any hand (issue 23), in Chromium against the real serve mode, a real Docker engine
// and a real OpenSSH server on 127.0.0.1. The session (a Docker hand and an SSH machine, its key in
// the vault of a real Secret Service) is set up over the RPC; the browser does the rest: "Open
// terminal" on each hand, type a command and see its output (colours included), resize the window
// and see the TTY follow, close the tab; the events list and the timeline's bands show the terminal's span; a fork from
// the close, opened in the browser, has the file the person made.
import { mkdirSync, mkdtempSync, chownSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { instanceIdOf } from '#services/hands/docker/engine';
import { BASH_IMAGE, removeInstanceObjects, requireDocker } from '#test/support/docker';
import { startSecretService, type SecretService } from '#test/support/keyring';
import { makeKey, requireSshd, TestSshd, testUser } from '#test/support/sshd';
import { requireChromium } from '../support/browser.ts';
import { rpcClient } from '../support/rpc.ts';
import { startServeMode, type ServeHandle } from '../support/serve.ts';

requireChromium();
const dockerReady = await requireDocker();
const sshdReady = requireSshd();

let keyring: SecretService | null = null;
let sshd: TestSshd | undefined;
let keys: string | undefined;
let folder: string | undefined;
let serve: ServeHandle | undefined;

test.beforeAll(async () => {
  if (!dockerReady || !sshdReady) return;
  keyring = await startSecretService();
  if (keyring === null) return;
  sshd = await TestSshd.start();
  keys = mkdtempSync(path.join(tmpdir(), 'drover-e2e-terminal-keys-'));
  const key = makeKey(keys);
  sshd.authorize(key);
  const { user, home } = testUser();
  folder = path.join(home, `drover-e2e-terminal-${process.pid}-${Date.now()}`);
  mkdirSync(folder);
  chownSync(folder, Number(execFileSync('id', ['-u', user]).toString()), Number(execFileSync('id', ['-g', user]).toString()));
  serve = await startServeMode({ ANTHROPIC_API_KEY: 'sk-ant-e2e-unused', ...keyring.env });
  const rpc = await rpcClient(serve);
  try {
    const secret = await rpc.call<{ id: string }>('secrets-create', { name: 'Laptop key', kind: 'ssh-private-key', value: key.privateKey });
    await rpc.call('ssh-trust-host', {
      hostKey: { host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.hostFingerprint() },
    });
    await rpc.call('sessions-launch', {
      title: 'Terminals',
      hands: [
        { name: 'box', config: { kind: 'docker', image: BASH_IMAGE, network: 'none' } },
        {
          name: 'laptop',
          config: {
            kind: 'ssh',
            host: '127.0.0.1',
            port: sshd.port,
            user,
            auth: { method: 'key', key_secret_id: secret.id },
            working_dir: folder,
          },
        },
      ],
    });
  } finally {
    rpc.close();
  }
});

test.afterAll(async () => {
  const dataDir = serve?.dataDir;
  await serve?.stop();
  await sshd?.stop();
  await keyring?.stop();
  if (keys !== undefined) rmSync(keys, { recursive: true, force: true });
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  // Serve removed its containers when it stopped; anything of its data folder's instance left on Docker goes too.
  if (dataDir !== undefined && dockerReady) removeInstanceObjects(instanceIdOf(dataDir));
});

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ path: testInfo.outputPath(`${name}.png`) }), contentType: 'image/png' });
}

/** The text the terminal shows now (xterm's rows), lines joined. */
function screenText(screen: Locator): Promise<string> {
  return screen.locator('.xterm-rows').innerText();
}

/** Types a line into the terminal on screen (focused first). */
async function typeLine(page: Page, screen: Locator, line: string): Promise<void> {
  await screen.click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** `stty size` in the terminal: rows and columns as its TTY has them. */
async function sttySize(page: Page, screen: Locator, tag: string): Promise<{ rows: number; cols: number }> {
  await typeLine(page, screen, `echo ${tag}=$(stty size | tr ' ' x)`);
  const pattern = new RegExp(`${tag}=(\\d+)x(\\d+)`);
  await expect.poll(async () => pattern.test(await screenText(screen)), { timeout: 15_000 }).toBe(true);
  const match = pattern.exec(await screenText(screen));
  return { rows: Number(match?.[1]), cols: Number(match?.[2]) };
}

test('a terminal on a Docker hand and on an SSH machine: type, see, resize, close into the log; a fork after has the file', async ({
  page,
}, testInfo) => {
  test.skip(
    !dockerReady || !sshdReady || keyring === null,
    'Docker, sshd or the Secret Service is missing here (the reason is printed above)',
  );
  if (serve === undefined || folder === undefined) throw new Error('the set-up did not finish');
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1600, height: 950 });
  await page.goto(serve.url);
  await page
    .getByRole('navigation', { name: 'Sessions' })
    .getByRole('button', { name: /Terminals/ })
    .click();
  const panel = page.getByTestId('hands-panel');

  // The Docker hand: its container starts for the terminal.
  await panel.getByRole('button', { name: 'Open a terminal on box' }).click();
  const pane = page.getByTestId('terminal-pane');
  const screen = pane.getByTestId('terminal-screen');
  await expect(pane.getByRole('tab', { name: 'box' })).toBeVisible();
  await expect(panel.getByRole('listitem', { name: 'Hand box' }).locator('.hand-state')).toHaveText('ready', { timeout: 60_000 });
  await typeLine(page, screen, "printf 'hi-from-%s\\n' $((6*7)); printf '\\e[31mred-text\\e[0m\\n'");
  await expect(screen.locator('.xterm-rows')).toContainText('hi-from-42', { timeout: 30_000 });
  // The colour reaches the emulator: the word is drawn in the theme's red.
  await expect(screen.locator('.xterm-rows span.xterm-fg-1', { hasText: /^red-text$/ })).toBeVisible();
  await snap(page, testInfo, '70-docker-terminal');

  // Resize: the side panel made wider (its splitter, by keyboard), the emulator fits it, and the TTY follows.
  const before = await sttySize(page, screen, 'before');
  await page.getByTestId('side-panel-splitter').focus();
  await page.keyboard.press('End');
  await expect
    .poll(async () => (await sttySize(page, screen, `after${Date.now() % 1000}`)).cols, { timeout: 20_000 })
    .toBeGreaterThan(before.cols);
  await snap(page, testInfo, '71-resized');

  await typeLine(page, screen, 'echo typed-in-the-browser > /workspace/person.txt && echo saved-$((1+1))');
  await expect(screen.locator('.xterm-rows')).toContainText('saved-2');

  // The SSH machine, in a second tab: a shell with a PTY in its working folder.
  await panel.getByRole('button', { name: 'Open a terminal on laptop' }).click();
  await expect(pane.getByRole('tab', { name: 'laptop' })).toHaveAttribute('aria-selected', 'true');
  await typeLine(page, screen, `echo ssh-$((40+2)); pwd`);
  await expect(screen.locator('.xterm-rows')).toContainText('ssh-42', { timeout: 30_000 });
  await expect(screen.locator('.xterm-rows')).toContainText(folder);
  const sshSize = await sttySize(page, screen, 'ssh');
  expect(sshSize.cols).toBeGreaterThan(20);
  await snap(page, testInfo, '72-ssh-terminal');
  await pane.getByRole('button', { name: 'Close terminal laptop' }).click();

  // Back to the Docker tab, then close it: the log records the span and a checkpoint of the files.
  await expect(pane.getByRole('tab', { name: 'box' })).toHaveAttribute('aria-selected', 'true');
  await pane.getByRole('button', { name: 'Close terminal box' }).click();
  await expect(pane).toBeHidden();
  await page.getByRole('tab', { name: 'Events' }).click();
  const list = page.getByRole('listbox');
  const closes = list.getByRole('option').filter({ hasText: 'hand.terminal_closed' });
  await expect(closes).toHaveCount(2, { timeout: 30_000 });
  await expect(list.getByRole('option').filter({ hasText: 'hand.terminal_opened' })).toHaveCount(2);
  await expect(closes.last()).toContainText(/box: the terminal open since event #\d+ ended \(closed\)/);
  await expect(list.getByRole('option').filter({ hasText: 'hand.checkpoint' }).filter({ hasText: 'box' }).last()).toBeVisible();
  // The timeline draws each span as a band over the tape, from its open to its close, named in the legend.
  const bands = page.getByTestId('terminal-bands').getByTestId('terminal-band');
  await expect(bands).toHaveCount(2);
  await expect(bands.filter({ hasText: 'terminal on box' })).toHaveCount(1);
  await expect(bands.filter({ hasText: 'terminal on laptop' })).toHaveCount(1);
  for (const band of await bands.all()) {
    const from = Number(await band.getAttribute('data-from'));
    expect(Number(await band.getAttribute('data-to'))).toBeGreaterThan(from);
  }
  await page.getByTestId('timeline-legend').getByText('Legend').click();
  await expect(page.getByTestId('timeline-legend-terminal')).toContainText('terminal on <hand>');
  await page.getByTestId('timeline-legend').getByText('Legend').click();
  await snap(page, testInfo, '73-terminal-span');

  // A fork from the close: its own container starts from that checkpoint, with the person's file.
  await closes.last().click();
  await page.getByRole('button', { name: 'Fork from here' }).click();
  await expect(page.getByTestId('session-view')).toContainText('fork of');
  await page.getByRole('tab', { name: 'Hands' }).click();
  await panel.getByRole('button', { name: 'Open a terminal on box' }).click();
  await typeLine(page, screen, 'cat /workspace/person.txt');
  await expect(screen.locator('.xterm-rows')).toContainText(/typed-in-the-browser/, { timeout: 60_000 });
  await snap(page, testInfo, '74-fork-has-the-file');

  // The page going away (its WebSocket closes) closes its terminal: recorded as such, and checkpointed.
  await page.reload();
  await page.getByRole('tab', { name: 'Events' }).click();
  await expect(page.getByRole('listbox').getByRole('option').filter({ hasText: 'its window went' })).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId('terminal-pane')).toBeHidden();
});

// The shell-hand base with a kind of hand that provides only its transport: a "machine" that is a
// folder on this computer, with real shells (sh processes) and real files. What a transport does
// not provide — the tools, the queue, the lazy start, ready/failed/lost — comes from the base.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '#shared/events';
import { tempDir } from '#test/support/system';
import { errorText } from './bash-tool.ts';
import type { ToolOutcome } from './hand.ts';
import { LocalFileAccess } from './local-files.ts';
import { KILL_TREE, PersistentShell, SHELL_LAUNCH } from './shell.ts';
import { ShellHand, type ShellTransport, type StartedMachine } from './shell-hand.ts';

/** A folder as the machine: started by creating it, lost when it is removed. */
class FolderTransport implements ShellTransport {
  readonly files = new LocalFileAccess();
  readonly reopensAtStart = false;
  started = false;
  starts = 0;
  readonly words = {
    idle: 'Starts on the first call.',
    machine: 'folder',
    starting: () => `Making ${this.folder}…`,
    failed: (message: string) => `Could not start: ${message}`,
    lostEvent: (reason: string) => reason,
    lostDetail: (reason: string) => `Lost: ${reason}.`,
    lostNote: (reason: string, started: boolean) =>
      `Note: the previous folder was lost (${reason}); ${started ? 'this ran in a fresh one' : 'making another failed'}.`,
    lostResult: (reason: string, _result: unknown, notes: string[]): ToolOutcome =>
      errorText([...notes, `Lost while the tool ran: ${reason}.`].join('\n')),
    unavailable: (error: unknown, notes: string[], what: string): ToolOutcome =>
      errorText([...notes, `${what} did not run: ${error instanceof Error ? error.message : String(error)}`].join('\n')),
  };

  constructor(
    readonly folder: string,
    readonly checksIdleShellEnd: boolean,
  ) {}

  get label(): string {
    return this.folder;
  }

  describe(): { where: string; files: string; shell: string; notes: string[] } {
    return { where: `the folder ${this.folder}`, files: `in the folder ${this.folder}`, shell: 'sh', notes: [] };
  }

  homeDir(): string {
    return this.folder;
  }

  start(): Promise<StartedMachine> {
    this.starts++;
    mkdirSync(this.folder); // fails when its parent is not a folder
    this.started = true;
    return Promise.resolve({ detail: `Running in ${this.folder}.`, ready: { container: this.folder } });
  }

  openShell(cwd: string | null): Promise<PersistentShell> {
    const child = spawn('/bin/sh', ['-c', SHELL_LAUNCH], { cwd: cwd ?? this.folder, stdio: ['pipe', 'pipe', 'ignore'] });
    return PersistentShell.start(
      {
        write: (text) => void child.stdin.write(text),
        onData: (listener) => {
          child.stdout.removeAllListeners('data');
          child.stdout.on('data', listener);
        },
        // /bin/sh always starts: its end is its 'close'.
        onEnd: (listener) => void child.once('close', () => listener('exited')),
        destroy: () => {
          child.stdin.destroy();
          child.stdout.destroy();
        },
      },
      {
        killTree: (pid) => new Promise((resolve) => spawn('/bin/sh', ['-c', KILL_TREE, 'sh', String(pid)]).on('close', () => resolve())),
        killShell: (pid) => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        },
      },
    );
  }

  lostBeforeCall(): Promise<string | null> {
    return this.lostAfterFailure();
  }

  lostAfterFailure(): Promise<string | null> {
    return Promise.resolve(this.started && !existsSync(this.folder) ? 'the folder was removed' : null);
  }

  discard(): void {
    this.started = false;
  }

  dispose(): Promise<void> {
    rmSync(this.folder, { recursive: true, force: true });
    return Promise.resolve();
  }
}

const signal = new AbortController().signal;
const textOf = (outcome: ToolOutcome): string => outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

describe('a shell hand that provides only its transport', () => {
  let root: string;
  let events: NewEvent[];
  let transport: FolderTransport;
  let hand: ShellHand;

  function makeHand(checksIdleShellEnd = false): void {
    transport = new FolderTransport(path.join(root, 'machine'), checksIdleShellEnd);
    hand = new ShellHand(
      { sessionId: 'ses_base', name: 'box' },
      { record: (event) => events.push(event), log: () => undefined },
      transport,
    );
  }

  beforeEach(() => {
    root = tempDir('drover-shell-hand-');
    events = [];
    makeHand();
  });

  afterEach(async () => {
    await hand.dispose({ keep: false });
    rmSync(root, { recursive: true, force: true });
  });

  it('offers bash and editor, starts nothing before the first call, then runs calls one at a time in order', async () => {
    expect(hand.tools().map((tool) => tool.name)).toEqual(['bash', 'editor']);
    expect(hand.tools()[1]?.description).toContain(`Files are in the folder ${transport.folder}.`);
    expect(hand.status()).toEqual({ state: 'idle', detail: 'Starts on the first call.', container: null });
    expect(transport.starts).toBe(0);

    const slow = hand.execute('bash', { command: 'sleep 0.3; echo first > order' }, { signal });
    const next = hand.execute('bash', { command: 'cat order; echo second >> order' }, { signal });
    expect(textOf(await slow)).toContain('[exit code 0');
    expect(textOf(await next)).toMatch(/^first\n/);
    expect(readFileSync(path.join(transport.folder, 'order'), 'utf8')).toBe('first\nsecond\n');
    expect(transport.starts).toBe(1);
    expect(events).toEqual([
      { type: 'hand.ready', payload: { hand_id: 'box', detail: `Running in ${transport.folder}.`, container: transport.folder } },
    ]);
    expect(hand.status()).toEqual({ state: 'ready', detail: `Running in ${transport.folder}.`, container: transport.folder });

    const edited = await hand.execute('editor', { command: 'create', path: 'notes.txt', file_text: 'hi\n' }, { signal });
    expect(edited.isError).toBe(false);
    expect(readFileSync(path.join(transport.folder, 'notes.txt'), 'utf8')).toBe('hi\n');
    expect(textOf(await hand.execute('bash', { restart: true }, { signal }))).toMatch(
      new RegExp(`^Started a fresh shell \\((bash|sh)\\) in ${transport.folder}\\.$`),
    );
    expect(textOf(await hand.execute('grep', {}, { signal }))).toContain('This hand has no tool "grep"');
  });

  it('a machine lost while a command ran: the result says so, hand.lost is recorded, the next call starts another', async () => {
    const lost = await hand.execute('bash', { command: 'rm -rf "$PWD"; kill -KILL $$' }, { signal });
    expect(lost).toEqual(errorText('Lost while the tool ran: the folder was removed.'));
    expect(events.map((event) => event.type)).toEqual(['hand.ready', 'hand.lost']);
    expect(hand.status()).toEqual({ state: 'lost', detail: 'Lost: the folder was removed.', container: null });

    expect(textOf(await hand.execute('bash', { command: 'pwd' }, { signal }))).toMatch(
      new RegExp(`^${transport.folder}\\n\\[exit code 0 `),
    );
    expect(events.map((event) => event.type)).toEqual(['hand.ready', 'hand.lost', 'hand.ready']);
  });

  it('a shell that exits by itself is not a lost machine: the next command runs in a new shell in the same folder', async () => {
    await hand.execute('bash', { command: 'mkdir sub && cd sub' }, { signal });
    const exited = await hand.execute('bash', { command: 'exit 3' }, { signal });
    expect(textOf(exited)).toContain('[the shell exited');
    expect(textOf(await hand.execute('bash', { command: 'pwd' }, { signal }))).toMatch(new RegExp(`^${transport.folder}/sub\\n`));
    expect(events.map((event) => event.type)).toEqual(['hand.ready']);
    expect(transport.starts).toBe(1);
  });

  it('a machine lost between calls: the next call records it and says so, running in a fresh one', async () => {
    await hand.execute('bash', { command: 'true' }, { signal });
    rmSync(transport.folder, { recursive: true });
    const outcome = await hand.execute('bash', { command: 'echo hello' }, { signal });
    expect(textOf(outcome)).toMatch(/^Note: the previous folder was lost \(the folder was removed\); this ran in a fresh one\.\nhello\n/);
    expect(events.map((event) => event.type)).toEqual(['hand.ready', 'hand.lost', 'hand.ready']);
  });

  it('a shell that ends between calls is checked at once where the transport asks: the loss is recorded before any call', async () => {
    makeHand(true);
    await hand.execute('bash', { command: 'true' }, { signal });
    // Between calls, from outside: the machine goes, and its shell with it.
    await hand.execute('bash', { command: '(sleep 0.2; rm -rf "$PWD"; kill -KILL $$) > /dev/null 2>&1 &' }, { signal });
    await expect.poll(() => events.map((event) => event.type), { timeout: 5_000 }).toEqual(['hand.ready', 'hand.lost']);
    expect(hand.status().state).toBe('lost');
  });

  it('a start that fails is recorded and said, nothing ran; the next call tries again', async () => {
    writeFileSync(path.join(root, 'blocker'), 'a file where the parent folder should be');
    transport = new FolderTransport(path.join(root, 'blocker', 'machine'), false);
    hand = new ShellHand(
      { sessionId: 'ses_base', name: 'box' },
      { record: (event) => events.push(event), log: () => undefined },
      transport,
    );
    const failed = await hand.execute('editor', { command: 'view', path: '/' }, { signal });
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toMatch(/^The edit did not run: ENOTDIR/);
    expect(events).toEqual([{ type: 'hand.failed', payload: { hand_id: 'box', message: expect.stringMatching(/^ENOTDIR/) } }]);
    expect(hand.status().state).toBe('failed');

    rmSync(path.join(root, 'blocker'));
    mkdirSync(path.join(root, 'blocker'));
    expect(textOf(await hand.execute('bash', { command: 'echo ok' }, { signal }))).toMatch(/^ok\n/);
    expect(events.map((event) => event.type)).toEqual(['hand.failed', 'hand.ready']);
  });
});

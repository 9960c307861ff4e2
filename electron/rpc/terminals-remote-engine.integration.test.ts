/**
 * A terminal on a Docker hand whose engine is on another machine, reached over `ssh://` (issue 23,
 * with issue 22's remote engines), through the RPC a UI uses, on real parts only: a second dockerd
 * in a network namespace of its own (test/support/second-engine.ts) with an OpenSSH server beside
 * it, a key from a real vault, the host key trusted in Drover's known-hosts list.
 *
 * The hand's image exists on the second engine only, so the terminal's exec (create, hijacked
 * stream, resize, the hang-up on close) cannot be served by this computer's engine. What the person
 * types reaches a real TTY there; closing records the terminal span and a checkpoint taken on that
 * engine, and a fork after the close sees the file the person made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '#shared/events';
import type { SessionSummary } from '#shared/sessions';
import { BASH_IMAGE, requireDocker } from '#test/support/docker';
import { startFarEngineRig, type FarEngineRig } from '#test/support/far-engine-rig';
import { secondEngineUnavailableReason } from '#test/support/second-engine';
import { sshdUnavailableReason } from '#test/support/sshd';
import { requirePart } from '#test/support/system';
import { terminalCaller } from '#test/support/terminal-caller';

const ready =
  (await requireDocker()) &&
  requirePart('a second Docker engine', secondEngineUnavailableReason()) &&
  requirePart('OpenSSH server', sshdUnavailableReason());

describe.runIf(ready)("a terminal on a Docker hand on another machine's engine (ssh://)", () => {
  let rig: FarEngineRig;

  function terminalEvents(sessionId: string) {
    return rig.store.getEvents(sessionId, { types: ['hand.terminal_opened', 'hand.terminal_closed', 'hand.checkpoint'] }) as Array<
      EventOf<'hand.terminal_opened'> | EventOf<'hand.terminal_closed'> | EventOf<'hand.checkpoint'>
    >;
  }

  beforeAll(async () => {
    // An image only the second engine has: bash with a file of its own.
    rig = await startFarEngineRig({
      prefix: 'far-terminal',
      base: BASH_IMAGE,
      prepare: 'mkdir -p /workspace && echo far-only > /workspace/far.txt',
    });
  }, 300_000);

  afterAll(async () => {
    await rig?.close();
  }, 120_000);

  it('types into a TTY on the far engine, resizes, closes into the log and a checkpoint there; a fork after it has the file', async () => {
    const { host, rpc, where, second } = rig;
    const ui = terminalCaller(host, 'window-far');
    const launched = await rpc<SessionSummary>('sessions-launch', {
      title: 'remote terminal',
      hands: [{ name: 'box', config: { kind: 'docker', image: rig.image, network: 'none', engine: 'far' } }],
    });
    const sessionId = launched.id;
    const id = await ui.open(sessionId, 'box', { cols: 80, rows: 24 });
    // The terminal's container runs on the second engine, none on this computer's.
    expect(where(sessionId).remote).toHaveLength(1);
    expect(where(sessionId).local).toEqual([]);

    await ui.type(id, 'cat /workspace/far.txt; stty size\n');
    await ui.waitFor(id, /[\r\n]far-only\r\n24 80\r\n/, { timeoutMs: 60_000 });
    await ui.call('terminal-resize', { terminalId: id, cols: 120, rows: 33 });
    await ui.type(id, 'stty size; echo "$TERM"\n');
    await ui.waitFor(id, /[\r\n]33 120\r\nxterm-256color\r\n/, { timeoutMs: 60_000 });

    await ui.type(id, 'echo typed-on-the-far-engine > /workspace/person.txt && echo written\n');
    await ui.waitFor(id, /[\r\n]written\r\n/, { timeoutMs: 60_000 });
    await ui.call('terminal-close', { terminalId: id });
    await host.terminals.settled();
    await host.hands.settled();
    expect(ui.exits()).toEqual([{ terminalId: id, ended: 'closed', code: null, message: 'Terminal closed.' }]);

    const events = terminalEvents(sessionId);
    const opened = events.find((event) => event.type === 'hand.terminal_opened');
    const closed = events.find((event) => event.type === 'hand.terminal_closed');
    expect(opened?.payload).toEqual({ hand_id: 'box', terminal_id: id });
    expect(closed?.payload).toEqual({ hand_id: 'box', terminal_id: id, opened_seq: opened?.seq, ended: 'closed' });
    const checkpoint = events.find((event) => event.type === 'hand.checkpoint' && event.payload.at_seq === closed?.seq);
    expect(checkpoint?.payload.hand_id).toBe('box');

    // The shell was hung up on the far engine, not left running in the container.
    const [container] = where(sessionId).remote;
    const left = second.docker(
      'exec',
      container ?? '',
      'sh',
      '-c',
      `for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done | grep -c '^DROVER_TERMINAL=${id}$' || true`,
    );
    expect(left.trim()).toBe('0');

    // A fork after the close starts its container from that checkpoint, on the far engine: the person's file is there.
    const forked = await rpc<SessionSummary>('sessions-fork', { sessionId, atSeq: closed?.seq ?? 0 });
    const inFork = await ui.open(forked.id, 'box');
    expect(where(forked.id).remote).toHaveLength(1);
    expect(where(forked.id).local).toEqual([]);
    await ui.type(inFork, 'cat /workspace/person.txt\n');
    await ui.waitFor(inFork, /[\r\n]typed-on-the-far-engine\r\n/, { timeoutMs: 60_000 });
    await ui.call('terminal-close', { terminalId: inFork });
    await host.terminals.settled();
    expect(host.terminals.openCount).toBe(0);
  }, 360_000);
});

// Approvals survive SIGKILL. A child process (test/support/approval-child.ts) runs the real Harness
// and SessionStore against a model server in this process and is killed (1) while a tool call waits
// for approval — a fresh process neither runs it nor cuts it, and runs it once when allowed — and
// (2) while an approved tool runs — a fresh process records it interrupted (its run-start span is in
// the log) and never runs it again. The tool's durable journal says what really ran.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { DockerHandConfigSchema } from '#shared/hands';
import { SessionStore } from '#services/session/store';
import { ChildLives, sessionLog, type ChildLife } from '#test/support/child-life';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';

let server: ModelServer;
/** What the model answers to a request that carries no tool result yet; a request with one gets "Done.". */
let firstReply: Reply;
const lives = new ChildLives();
const dirs: string[] = [];

function respond(request: RecordedRequest): Reply {
  const last = request.body.messages.at(-1);
  const answered = Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
  return answered ? { kind: 'message', message: { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' } } : firstReply;
}

beforeAll(async () => {
  server = await startModelServer({ respond });
});

afterEach(() => {
  lives.killAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await server.close();
});

interface Setup {
  dataDir: string;
  sessionId: string;
  journal: string;
}

/** A session whose hand `math` (attached as a Docker hand, so policies name it) asks for everything. */
function setup(): Setup {
  const dataDir = tempDir('drover-approval-crash-');
  dirs.push(dataDir);
  const store = SessionStore.open({ dataDir });
  const { id } = store.createSession({ title: 'crash' });
  store.emitEvents(id, [
    {
      type: 'hand.attached',
      payload: { hand_id: 'math', config: DockerHandConfigSchema.parse({ kind: 'docker', image: 'drover-test/busybox:1' }) },
    },
    { type: 'policy.set', payload: { hand: 'math', tool: null, policy: 'always_ask' } },
  ]);
  store.close();
  return { dataDir, sessionId: id, journal: path.join(dataDir, 'journal') };
}

function life(s: Setup, step: 'ask' | 'allow' | 'wake'): ChildLife {
  return lives.start('test/support/approval-child.ts', [s.dataDir, server.url, s.sessionId, s.journal, step], step);
}

const journalOf = (s: Setup): string[] => {
  try {
    return readFileSync(s.journal, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const logOf = (s: Setup): StoredEvent[] => sessionLog(s.dataDir, s.sessionId);

describe('approvals across SIGKILL', () => {
  it('killed while a call waits for approval: a fresh process neither runs nor cuts it; allowed, it runs once', async () => {
    firstReply = {
      kind: 'message',
      message: { content: [{ type: 'tool_use', name: 'add', input: { a: 1, b: 2, marker: 'sum' } }], stop_reason: 'tool_use' },
    };
    const s = setup();
    const asking = life(s, 'ask');
    await asking.until((line) => line === 'idle requires_action');
    await asking.kill();

    const restarted = life(s, 'wake');
    expect(await restarted.until((line) => line.startsWith('resumed '))).toBe('resumed 0');
    expect(await restarted.until((line) => line.startsWith('idle '))).toBe('idle requires_action');
    expect(await restarted.exited).toBe(0);
    expect(restarted.lines.filter((line) => line.startsWith('ack '))).toEqual([]); // it recorded nothing
    expect(journalOf(s)).toEqual([]);

    const allowing = life(s, 'allow');
    await allowing.until((line) => line === 'idle end_turn');
    await allowing.kill();
    expect(journalOf(s)).toEqual(['start sum', 'end sum']);

    const again = life(s, 'wake');
    expect(await again.until((line) => line.startsWith('idle '))).toBe('idle end_turn');
    await again.exited;
    expect(journalOf(s)).toEqual(['start sum', 'end sum']);
    const results = logOf(s).filter((event) => event.type === 'agent.tool_result');
    expect(results.map((event) => event.type === 'agent.tool_result' && event.payload.status)).toEqual(['completed']);
  }, 90_000);

  it('killed while an approved tool runs: a fresh process records it interrupted and never runs it again', async () => {
    firstReply = {
      kind: 'message',
      message: { content: [{ type: 'tool_use', name: 'wait', input: { ms: 60_000, marker: 'slow' } }], stop_reason: 'tool_use' },
    };
    const s = setup();
    const asking = life(s, 'ask');
    await asking.until((line) => line === 'idle requires_action');
    await asking.kill();

    const allowing = life(s, 'allow');
    await allowing.until((line) => line.endsWith(' span.tool_run_start'));
    const deadline = Date.now() + 10_000;
    while (!journalOf(s).includes('start slow') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await allowing.kill();
    expect(journalOf(s)).toEqual(['start slow']);

    const restarted = life(s, 'wake');
    expect(await restarted.until((line) => line.startsWith('idle '))).toBe('idle end_turn');
    expect(await restarted.exited).toBe(0);
    expect(journalOf(s)).toEqual(['start slow']); // never run again
    const log = logOf(s);
    const result = log.find((event) => event.type === 'agent.tool_result');
    expect(result?.type === 'agent.tool_result' && result.payload).toMatchObject({ is_error: true, status: 'interrupted' });
    expect(log.filter((event) => event.type === 'span.tool_run_start')).toHaveLength(1);
  }, 90_000);
});

// Custom tool calls survive SIGKILL. A child process (test/support/custom-tool-child.ts) runs the
// real Harness and SessionStore against a model server in this process and is killed (1) while a
// custom call waits for the program's result — a fresh process finds it waiting and asks the model
// nothing; answered later, the model gets the result once; (2) after the answer is stored, before
// any harness sent it — a fresh start resumes the session and sends it; (3) while the request that
// carries the answer streams — a fresh process sends it again, and the call is never asked again.
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';
import { ChildLives, sessionLog, type ChildLife } from '#test/support/child-life';
import { startModelServer, type ModelServer, type RecordedRequest, type Reply } from '#test/support/model-server';
import { tempDir } from '#test/support/system';

let server: ModelServer;
/** Frame delay of the reply to a request that carries the tool result (slow: to kill the process mid-stream). */
let answeredDelayMs = 0;
const lives = new ChildLives();
const dirs: string[] = [];

const carriesResult = (request: RecordedRequest): boolean => {
  const last = request.body.messages.at(-1);
  return Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
};

function respond(request: RecordedRequest): Reply {
  if (carriesResult(request))
    return {
      kind: 'message',
      message: { content: [{ type: 'text', text: 'It means something.' }], stop_reason: 'end_turn' },
      frameDelayMs: answeredDelayMs,
    };
  return {
    kind: 'message',
    message: { content: [{ type: 'tool_use', name: 'lookup', input: { q: 'xyzzy' } }], stop_reason: 'tool_use' },
  };
}

beforeAll(async () => {
  server = await startModelServer({ respond });
});

afterEach(() => {
  lives.killAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  answeredDelayMs = 0;
});

afterAll(async () => {
  await server.close();
});

interface Setup {
  dataDir: string;
  sessionId: string;
}

function setup(): Setup {
  const dataDir = tempDir('drover-custom-crash-');
  dirs.push(dataDir);
  const store = SessionStore.open({ dataDir });
  const { id } = store.createSession({ title: 'custom crash' });
  store.close();
  return { dataDir, sessionId: id };
}

function life(s: Setup, step: 'ask' | 'answer' | 'record' | 'wake'): ChildLife {
  return lives.start('test/support/custom-tool-child.ts', [s.dataDir, server.url, s.sessionId, step], step);
}

const logOf = (s: Setup): StoredEvent[] => sessionLog(s.dataDir, s.sessionId);

const count = (log: StoredEvent[], type: StoredEvent['type']): number => log.filter((event) => event.type === type).length;
/** Requests this session's processes sent, split by whether they carry the tool result. */
const requestsSince = (from: number) => {
  const sent = server.requests.slice(from);
  return { asking: sent.filter((request) => !carriesResult(request)).length, answered: sent.filter(carriesResult).length };
};

/** Runs `ask` until the call waits, then kills it: the session waits for the program's result. */
async function killedWhileWaiting(s: Setup): Promise<void> {
  const asking = life(s, 'ask');
  await asking.until((line) => line === 'idle requires_action');
  await asking.kill();
}

describe('custom tool calls across SIGKILL', () => {
  it('killed while a call waits: a fresh process asks nothing; answered later, the model gets the result once', async () => {
    const from = server.requests.length;
    const s = setup();
    await killedWhileWaiting(s);

    const restarted = life(s, 'wake');
    expect(await restarted.until((line) => line.startsWith('resumed '))).toBe('resumed 0');
    expect(await restarted.until((line) => line.startsWith('idle '))).toBe('idle requires_action');
    expect(await restarted.exited).toBe(0);
    expect(restarted.lines.filter((line) => line.startsWith('ack '))).toEqual([]); // it recorded nothing
    expect(requestsSince(from)).toEqual({ asking: 1, answered: 0 });

    const answering = life(s, 'answer');
    await answering.until((line) => line === 'idle end_turn');
    await answering.kill();
    expect(requestsSince(from)).toEqual({ asking: 1, answered: 1 });
    const carried = server.requests.slice(from).find(carriesResult);
    expect(JSON.stringify(carried?.body.messages.at(-1))).toContain('meaning of xyzzy');

    const again = life(s, 'wake');
    expect(await again.until((line) => line.startsWith('idle '))).toBe('idle end_turn');
    await again.exited;
    expect(requestsSince(from)).toEqual({ asking: 1, answered: 1 });
    const log = logOf(s);
    expect(count(log, 'agent.custom_tool_use')).toBe(1);
    expect(count(log, 'user.custom_tool_result')).toBe(1);
  }, 90_000);

  it('the answer stored and Drover stopped before sending it: the next start resumes the session and sends it', async () => {
    const from = server.requests.length;
    const s = setup();
    await killedWhileWaiting(s);
    const recording = life(s, 'record');
    expect(await recording.exited).toBe(0);
    expect(recording.lines.filter((line) => line.endsWith(' user.custom_tool_result'))).toHaveLength(1);

    const restarted = life(s, 'wake');
    expect(await restarted.until((line) => line.startsWith('resumed '))).toBe('resumed 1');
    expect(await restarted.until((line) => line.startsWith('idle '))).toBe('idle end_turn');
    await restarted.exited;
    expect(requestsSince(from)).toEqual({ asking: 1, answered: 1 });
  }, 90_000);

  it('killed while the request that carries the answer streams: a fresh process sends it again; the call is never asked again', async () => {
    answeredDelayMs = 1000;
    const from = server.requests.length;
    const s = setup();
    await killedWhileWaiting(s);
    const answering = life(s, 'answer');
    await answering.until((line) => line.endsWith(' span.model_request_start'));
    while (requestsSince(from).answered === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await answering.kill();
    answeredDelayMs = 0;

    const restarted = life(s, 'wake');
    expect(await restarted.until((line) => line.startsWith('resumed '))).toBe('resumed 1');
    expect(await restarted.until((line) => line.startsWith('idle '))).toBe('idle end_turn');
    await restarted.exited;
    expect(requestsSince(from)).toEqual({ asking: 1, answered: 2 });
    const log = logOf(s);
    expect(count(log, 'agent.custom_tool_use')).toBe(1);
    expect(count(log, 'user.custom_tool_result')).toBe(1);
    expect(log.some((event) => event.type === 'session.error' && event.payload.error.type === 'response_lost')).toBe(true);
  }, 90_000);
});

// Answers held to ride with the next push (held-answers.ts), over a real TCP connection on the loopback:
// the push and the answers held go in one write (the peer reads them in one chunk, the push first); without
// a push they go after HOLD_MS; a push with nothing held goes alone at once; after stop nothing is sent.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HeldAnswers, HOLD_MS } from './held-answers.ts';

interface Pair {
  /** The server's side (where HeldAnswers writes). */
  socket: Socket;
  /** What the peer read, chunk by chunk, and when. */
  chunks: Array<{ at: number; text: string }>;
  /** Resolves once the peer has read `count` chunks. */
  read(count: number): Promise<void>;
}

let server: Server | null = null;
const open: Socket[] = [];

afterEach(async () => {
  sent.length = 0;
  for (const socket of open.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

async function pair(): Promise<Pair> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer((socket) => resolve(socket));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const address = server?.address();
  if (address === null || address === undefined || typeof address === 'string') throw new Error('no port');
  const peer = connect(address.port, '127.0.0.1');
  peer.setNoDelay(true);
  const socket = await accepted;
  socket.setNoDelay(true);
  open.push(peer, socket);
  const chunks: Pair['chunks'] = [];
  let waiter: { count: number; resolve: () => void } | null = null;
  peer.setEncoding('utf8');
  peer.on('data', (text: string) => {
    chunks.push({ at: performance.now(), text });
    if (waiter !== null && chunks.length >= waiter.count) waiter.resolve();
  });
  return {
    socket,
    chunks,
    read: (count) =>
      chunks.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiter = { count, resolve };
            setTimeout(() => reject(new Error(`the peer read ${chunks.length} chunks, not ${count}`)), 5_000).unref();
          }),
  };
}

/** Each message sent, and whether the socket was corked then (corked writes leave in one writev). */
const sent: Array<{ text: string; corked: boolean }> = [];
const held = (pair: Pair): HeldAnswers =>
  new HeldAnswers(pair.socket, (text) => {
    sent.push({ text, corked: pair.socket.writableCorked > 0 });
    pair.socket.write(`${text}|`);
  });

describe('HeldAnswers', () => {
  it('sends the answers held in the same write as the next push, the push first', async () => {
    const connection = await pair();
    const answers = held(connection);
    answers.hold('answer-1');
    answers.hold('answer-2');
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(connection.chunks).toEqual([]);
    answers.push('echo');
    // Written corked: one write (writev) for the three.
    expect(sent).toEqual([
      { text: 'echo', corked: true },
      { text: 'answer-1', corked: true },
      { text: 'answer-2', corked: true },
    ]);
    expect(connection.socket.writableCorked).toBe(0);
    await connection.read(1);
    expect(connection.chunks.map((chunk) => chunk.text).join('')).toBe('echo|answer-1|answer-2|');
    answers.stop();
  });

  it('sends a push with nothing held at once, and answers with no push after HOLD_MS', async () => {
    const connection = await pair();
    const answers = held(connection);
    answers.push('prompt');
    await connection.read(1);
    expect(connection.chunks[0]?.text).toBe('prompt|');
    expect(sent).toEqual([{ text: 'prompt', corked: false }]);
    const heldAt = performance.now();
    answers.hold('answer-3');
    await connection.read(2);
    expect(connection.chunks[1]?.text).toBe('answer-3|');
    // A timer may fire up to a millisecond early.
    expect((connection.chunks[1]?.at ?? 0) - heldAt).toBeGreaterThanOrEqual(HOLD_MS - 1);
    answers.stop();
  });

  it('sends nothing held after stop', async () => {
    const connection = await pair();
    const answers = held(connection);
    answers.hold('never');
    answers.stop();
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS * 3));
    answers.push('last');
    await connection.read(1);
    expect(connection.chunks.map((chunk) => chunk.text)).toEqual(['last|']);
  });
});

/**
 * RPC calls to a running serve mode from the test process, over its WebSocket as a page of its own
 * origin with its token: for setting up what a test is not about (a secret, a trusted host key, a
 * session with its hands) so the browser drives only what is tested — and for the terminal bench,
 * which types keys as a page does (`send`) and reads their echo from the pushes (`onPush`).
 */
import { WebSocket } from 'ws';
import type { ServeHandle } from './serve.ts';

export interface RpcClient {
  call<T = unknown>(name: string, arg?: unknown): Promise<T>;
  /** Sends a request without waiting for its answer (a key: its echo is what matters). */
  send(name: string, arg: unknown): void;
  /** Hears every push on the socket (a terminal's output, session events). */
  onPush(listener: (push: string, arg: unknown) => void): void;
  close(): void;
}

export async function rpcClient(serve: ServeHandle): Promise<RpcClient> {
  const token = new URL(serve.url).searchParams.get('token') ?? '';
  const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}/rpc?token=${encodeURIComponent(token)}`, { origin: serve.origin });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; name: string }>();
  const listeners: Array<(push: string, arg: unknown) => void> = [];
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      push?: string;
      arg?: unknown;
    };
    if (message.push !== undefined) {
      for (const listener of listeners) listener(message.push, message.arg);
      return;
    }
    if (message.id === undefined) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) pending?.reject(new Error(`${pending.name}: ${message.error.message}`));
    else pending?.resolve(message.result);
  });
  return {
    call<T>(name: string, arg?: unknown): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: (value) => resolve(value as T), reject, name });
        ws.send(JSON.stringify({ id, name, ...(arg === undefined ? {} : { arg }) }));
      });
    },
    send: (name, arg) => ws.send(JSON.stringify({ id: next++, name, arg })),
    onPush: (listener) => void listeners.push(listener),
    close: () => ws.close(),
  };
}

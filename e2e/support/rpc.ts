/**
 * RPC calls to a running serve mode from the test process, over its WebSocket as a page of its own
 * origin with its token: for setting up what a test is not about (a secret, a trusted host key, a
 * session with its hands) so the browser drives only what is tested.
 */
import { WebSocket } from 'ws';
import type { ServeHandle } from './serve.ts';

export interface RpcClient {
  call<T = unknown>(name: string, arg?: unknown): Promise<T>;
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
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return; // a push
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
    close: () => ws.close(),
  };
}

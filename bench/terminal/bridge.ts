/**
 * The reference side of the terminal bench: keys through a bare WebSocket bridge to the container's
 * shell (bridge-server.ts, its own process as serve mode is), for telling the transport's cost
 * from Drover's own.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { timeout, watcher, type Side } from '../terminal-keys.ts';

export async function bridgeSide(container: string): Promise<{ side: Side; stop(): void }> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/terminal/bridge-server.ts', container], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => void child.kill();
  try {
    const port = await Promise.race([
      new Promise<string>((resolve) =>
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.startsWith('port ')) resolve(line.slice('port '.length));
        }),
      ),
      timeout(30_000, 'the WebSocket bridge did not start'),
    ]);
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const output = watcher();
    let text = '';
    ws.on('message', (message: Buffer) => {
      const { data } = JSON.parse(message.toString()) as { data: string };
      text += data;
      output.push(data);
    });
    const send = (data: string) => ws.send(JSON.stringify({ data }));
    send('\n');
    const ready = Date.now() + 30_000;
    while (!text.includes('# ')) {
      if (Date.now() > ready) throw new Error(`the WebSocket bridge's shell showed no prompt: ${JSON.stringify(text)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {
      side: { write: send, next: (wanted) => output.next(wanted) },
      stop: () => {
        ws.close();
        stop();
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}

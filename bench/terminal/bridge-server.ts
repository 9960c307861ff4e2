/**
 * The terminal bench's reference (terminal-bridge.ts): the least a WebSocket between a page and a
 * container's shell can be — one Node process, `ws` and dockerode as Drover uses them, an
 * interactive `docker exec` with a TTY on a hijacked stream, each message's text written to the
 * shell and each chunk of output sent back as a JSON message. No validation, routing, redaction,
 * batching or log: what is left is the transport, so Drover's serve mode can be told apart from it.
 *
 * `node --import tsx bench/terminal/bridge-server.ts <container>` prints `port <n>` once listening.
 */
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { WebSocketServer } from 'ws';

const container = process.argv[2];
if (container === undefined) throw new Error('usage: bridge-server.ts <container>');
const exec = await new Docker().getContainer(container).exec({
  Cmd: ['bash'],
  AttachStdin: true,
  AttachStdout: true,
  AttachStderr: true,
  Tty: true,
});
const shell = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
server.on('listening', () => console.log(`port ${(server.address() as { port: number }).port}`));
server.on('connection', (ws) => {
  shell.on('data', (chunk: Buffer) => ws.send(JSON.stringify({ data: chunk.toString() })));
  ws.on('message', (message: Buffer) => shell.write((JSON.parse(message.toString()) as { data: string }).data));
  ws.on('close', () => process.exit(0));
});

/**
 * Raw bytes to a server, as a hostile client would send them: no client library to tidy a
 * request up. Used to prove that servers answer (or close) malformed input and stay alive.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface RawOutcome {
  /** The status of the first response line, or null when the server closed without answering. */
  status: number | null;
  /** Everything the server sent before it closed (or the wait ended). */
  bytes: Buffer;
  /** True when the server closed (or reset) the connection within the wait. */
  closed: boolean;
}

/**
 * Opens a connection, writes `request` and half-closes (as a client that has said all it will),
 * then collects the answer until the server closes, or `waitMs` passes.
 */
export function rawExchange(port: number, request: Buffer | string, waitMs = 5_000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ status: statusOf(bytes), bytes, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('connect', () => socket.end(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
  });
}

/** The status of the first HTTP response line in `bytes`, or null. */
export function statusOf(bytes: Buffer): number | null {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.subarray(0, 32).toString('latin1'));
  return match ? Number(match[1]) : null;
}

/** A WebSocket upgrade request for `path` (key random; everything else as a browser sends it). */
export function upgradeRequest(path: string, headers: Record<string, string>): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload?: Buffer;
  /** Clients must mask (default true). */
  mask?: boolean;
  /** Claims this length in the header instead of the payload's own (for oversize and truncated frames). */
  claimedLength?: bigint;
}

/** One WebSocket frame, built bit by bit (RFC 6455 §5.2), however wrong the caller asks it to be. */
export function frame({ fin = true, rsv = 0, opcode, payload = Buffer.alloc(0), mask = true, claimedLength }: FrameOptions): Buffer {
  const length = claimedLength ?? BigInt(payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xf)];
  const maskBit = mask ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(length);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), extended, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (key[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from(head), extended, key, masked]);
}

/**
 * Upgrades a raw connection (resolving once the 101 arrived), so frames can then be written
 * as they are. Rejects with the status when the server refuses the upgrade.
 */
export function rawWebSocket(port: number, path: string, headers: Record<string, string>, waitMs = 5_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('no answer to the upgrade')), waitMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      const status = statusOf(head);
      if (status !== 101) return fail(new Error(`upgrade refused with ${status ?? 'no status'}`));
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('connect', () => socket.write(upgradeRequest(path, headers)));
  });
}

/**
 * Resolves when `socket` closes (true), or after `waitMs` (false); collects what arrived. Answers
 * the server's close frame as a client must (RFC 6455 §5.5.1), so a server that closes cleanly and
 * waits for that answer gets it.
 */
export function closedWithin(socket: net.Socket, waitMs = 5_000): Promise<{ closed: boolean; bytes: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    if (socket.destroyed) return resolve({ closed: true, bytes: Buffer.alloc(0) });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, bytes: Buffer.concat(chunks) });
    }, waitMs);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const close = answered ? null : closeFrameOf(Buffer.concat(chunks));
      if (close === null || socket.destroyed) return;
      answered = true;
      const code = Buffer.alloc(2);
      code.writeUInt16BE(close.code === 1005 ? 1000 : close.code);
      socket.end(frame({ opcode: 0x8, payload: code }));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, bytes: Buffer.concat(chunks) });
    });
  });
}

/** The close code and reason of the first close frame a server sent in `bytes` (servers do not mask). */
export function closeFrameOf(bytes: Buffer): { code: number; reason: Buffer } | null {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] ?? 0) & 0xf;
    let length = (bytes[at + 1] ?? 0) & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (opcode === 0x8) {
      const body = bytes.subarray(start, start + length);
      return body.length >= 2 ? { code: body.readUInt16BE(0), reason: body.subarray(2) } : { code: 1005, reason: Buffer.alloc(0) };
    }
    at = start + length;
  }
  return null;
}

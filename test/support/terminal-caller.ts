/**
 * A UI connection for terminal tests and the terminal bench: an `RpcCaller` that keeps what is
 * pushed to it, and calls through a host's dispatcher as that connection (`terminal-*` methods).
 */
import type { Host } from '#rpc/host';
import type { PushMessage, RpcCaller } from '#shared/rpc';
import type { TerminalExit } from '#shared/terminals';

export interface TerminalCaller {
  caller: RpcCaller;
  /** Calls as this connection: the result, or a thrown error naming the method. */
  call<T = unknown>(name: string, arg?: unknown): Promise<T>;
  /** Calls as this connection and expects a refusal: its message. */
  refused(name: string, arg?: unknown): Promise<string>;
  /** Opens a terminal (80×24 unless told): its id. */
  open(sessionId: string, hand: string, size?: { cols: number; rows: number }): Promise<string>;
  type(terminalId: string, data: string): Promise<void>;
  /** Everything the terminal printed so far. */
  output(terminalId: string): string;
  /** Resolves once the terminal's output (from `from`, a length of it) matches; throws with the output after `timeoutMs`. */
  waitFor(terminalId: string, pattern: RegExp | string, options?: { timeoutMs?: number; from?: number }): Promise<string>;
  /** Called with each piece of output as it arrives. */
  onOutput(listener: (terminalId: string, data: string) => void): void;
  exits(): TerminalExit[];
  /** The connection ends (a window closed, a socket dropped). */
  close(): void;
}

export function terminalCaller(host: Host, id: string): TerminalCaller {
  const outputs = new Map<string, string>();
  const exits: TerminalExit[] = [];
  const closeListeners = new Set<() => void>();
  const outputListeners = new Set<(terminalId: string, data: string) => void>();
  let closed = false;
  const caller: RpcCaller = {
    id,
    push(message: PushMessage) {
      if (message.push === 'terminal-output') {
        outputs.set(message.arg.terminalId, (outputs.get(message.arg.terminalId) ?? '') + message.arg.data);
        for (const listener of outputListeners) listener(message.arg.terminalId, message.arg.data);
      } else if (message.push === 'terminal-exit') exits.push(message.arg);
    },
    onClose(listener) {
      if (closed) listener();
      else closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
  };
  async function call<T = unknown>(name: string, arg?: unknown): Promise<T> {
    const outcome = await host.dispatch(name, arg, caller);
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    return outcome.result as T;
  }
  return {
    caller,
    call,
    async refused(name, arg) {
      const outcome = await host.dispatch(name, arg, caller);
      if (outcome.ok) throw new Error(`${name} was expected to be refused`);
      return outcome.error.message;
    },
    async open(sessionId, hand, size = { cols: 80, rows: 24 }) {
      const { terminalId } = await call<{ terminalId: string }>('terminal-open', { sessionId, hand, ...size });
      return terminalId;
    },
    async type(terminalId, data) {
      await call('terminal-input', { terminalId, data });
    },
    output: (terminalId) => outputs.get(terminalId) ?? '',
    async waitFor(terminalId, pattern, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 30_000);
      const matches = (text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      for (;;) {
        const text = (outputs.get(terminalId) ?? '').slice(options.from ?? 0);
        if (matches(text)) return text;
        if (Date.now() > deadline)
          throw new Error(`terminal ${terminalId} never printed ${String(pattern)}; it printed: ${JSON.stringify(text)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    onOutput(listener) {
      outputListeners.add(listener);
    },
    exits: () => [...exits],
    close() {
      if (closed) return;
      closed = true;
      for (const listener of closeListeners) listener();
      closeListeners.clear();
    },
  };
}

/**
 * The terminal methods (issue 23): each call's connection (`RpcCaller`) owns the terminals it
 * opens — their output is pushed to it alone, only it can type in, resize or close them, and its
 * end closes them. Calls from inside the main process (no connection) cannot open one.
 */
import { AppError } from '#shared/errors';
import type { HandlerImpl, RpcCaller } from '#shared/rpc';
import type { TerminalOwner, TerminalService } from '#services/terminals/terminal-service';

type TerminalMethod = 'terminal-open' | 'terminal-input' | 'terminal-resize' | 'terminal-ack' | 'terminal-close';

export function createTerminalHandlers(terminals: TerminalService | undefined): Pick<HandlerImpl, TerminalMethod> {
  const owners = new WeakMap<RpcCaller, TerminalOwner>();
  const service = (): TerminalService => {
    if (terminals === undefined) throw new AppError('conflict', 'Terminals are not available in this Drover: it was started without them.');
    return terminals;
  };
  const ownerOf = (caller: RpcCaller | undefined): TerminalOwner => {
    if (caller === undefined) {
      throw new AppError('conflict', "A terminal needs a window to show it: open it from Drover's window or its browser page.");
    }
    let owner = owners.get(caller);
    if (owner === undefined) {
      owner = {
        id: caller.id,
        output: (arg) => caller.push({ push: 'terminal-output', arg }),
        exit: (arg) => caller.push({ push: 'terminal-exit', arg }),
        onClose: (listener) => caller.onClose(listener),
      };
      owners.set(caller, owner);
    }
    return owner;
  };
  return {
    'terminal-open': ({ sessionId, hand, cols, rows }, caller) => service().open(ownerOf(caller), { sessionId, hand, cols, rows }),
    'terminal-input': ({ terminalId, data }, caller) => {
      service().input(ownerOf(caller), terminalId, data);
      return null;
    },
    'terminal-resize': async ({ terminalId, cols, rows }, caller) => {
      await service().resize(ownerOf(caller), terminalId, { cols, rows });
      return null;
    },
    'terminal-ack': ({ terminalId, chars }, caller) => {
      service().ack(ownerOf(caller), terminalId, chars);
      return null;
    },
    'terminal-close': async ({ terminalId }, caller) => {
      await service().close(ownerOf(caller), terminalId);
      return null;
    },
  };
}

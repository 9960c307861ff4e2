/**
 * The connection of an RPC call over IPC (`RpcCaller`): one per page load of a window. Its pushes
 * (a terminal's output) go to that page alone; a reload, a navigation away or the window's end
 * closes it, and with it the terminals it opened.
 */
import type { WebContents } from 'electron';
import type { PushMessage, RpcCaller } from '#shared/rpc';

interface PageLoad {
  caller: RpcCaller;
  close(): void;
}

export class IpcCallers {
  private readonly loads = new Map<number, PageLoad>();
  private count = 0;

  /** `send`: a push to the page, when it still shows the app's own page. */
  constructor(private readonly send: (contents: WebContents, message: PushMessage) => void) {}

  /** The caller for the page `contents` shows now. */
  of(contents: WebContents): RpcCaller {
    const existing = this.loads.get(contents.id);
    if (existing) return existing.caller;
    const listeners = new Set<() => void>();
    let closed = false;
    const id = contents.id;
    const load: PageLoad = {
      caller: {
        id: `ipc-${id}-${++this.count}`,
        push: (message) => {
          if (!closed && !contents.isDestroyed()) this.send(contents, message);
        },
        onClose: (listener) => {
          if (closed) listener();
          else listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (this.loads.get(id) === load) this.loads.delete(id);
        contents.off('did-start-navigation', navigating);
        for (const listener of listeners) listener();
        listeners.clear();
      },
    };
    const navigating = (details: Electron.Event<Electron.WebContentsDidStartNavigationEventParams>): void => {
      if (details.isMainFrame && !details.isSameDocument) load.close();
    };
    contents.on('did-start-navigation', navigating);
    contents.once('destroyed', () => load.close());
    this.loads.set(id, load);
    return load.caller;
  }
}

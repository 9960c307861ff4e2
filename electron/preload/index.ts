/**
 * The preload: the renderer's only door into the main process, exposed with contextBridge as
 * `window.drover`.
 *
 * It must stay this small: one fixed invoke channel, one fixed push channel, no ipcRenderer,
 * no channel names or file paths taken from the page, no Node APIs. The IPC event object is never
 * handed to the page (its `sender` is ipcRenderer). Bundled as CommonJS for the sandbox.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { DispatchOutcome, DroverBridge } from '#shared/rpc';

const CALL_CHANNEL = 'drover:call';
const PUSH_CHANNEL = 'drover:push';

const bridge: DroverBridge = {
  /** Calls an RPC method; the main process validates the name and argument. */
  call(name: string, arg: unknown): Promise<DispatchOutcome> {
    return ipcRenderer.invoke(CALL_CHANNEL, { name, arg }) as Promise<DispatchOutcome>;
  },
  /** Listens to every push message; returns a function that stops listening. */
  onPush(listener: (message: unknown) => void): () => void {
    const forward = (_event: IpcRendererEvent, message: unknown): void => listener(message);
    ipcRenderer.on(PUSH_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(PUSH_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('drover', bridge);

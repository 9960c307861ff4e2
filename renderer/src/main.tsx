/**
 * Renderer entry: picks the Electron transport and mounts the app. If the page is opened outside
 * Drover's window (no preload bridge), it says so instead of failing silently.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { createElectronTransport, type Transport } from './transport.ts';

const container = document.getElementById('root');
if (container === null) throw new Error('renderer/index.html must contain <div id="root">');

const transport = connect();
createRoot(container).render(
  transport instanceof Error ? (
    <div className="empty" role="alert">
      <h2>Drover cannot connect</h2>
      <p className="empty-hint">{transport.message}</p>
    </div>
  ) : (
    <StrictMode>
      <App transport={transport} />
    </StrictMode>
  ),
);

function connect(): Transport | Error {
  try {
    return createElectronTransport();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

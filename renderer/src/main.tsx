/**
 * Renderer entry: picks the Electron transport and mounts the app. If the page is opened outside
 * Drover's window (no preload bridge), it says so instead of failing silently.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// The stylesheets that were one file, in their old cascade order, before any component's own
// (each feature also imports its stylesheet; a repeated import changes nothing). Ties between
// features' rules resolve as they always have: hands before the hand forms, the transcript before
// markdown content, settings before the dialog fields.
import './app/app.css';
import './session/session.css';
import './session/transcript.css';
import './session/transcript-cards.css';
import './hands/hands.css';
import './timeline/timeline.css';
import './timeline/branches.css';
import './settings/settings.css';
import './changes/changes.css';
import { App } from './app/index.ts';
import { createElectronTransport, createWebSocketTransport, type Transport } from './client/transport.ts';
import { applyTheme } from './ui/theme.ts';

// The remembered theme (or the system's) before the first render, so nothing is drawn in the other one.
applyTheme();

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

/** Inside the Electron window the preload's bridge; in a browser, serve mode's WebSocket. */
function connect(): Transport | Error {
  if (window.drover !== undefined) return createElectronTransport(window.drover);
  const params = new URLSearchParams(window.location.search);
  const fromUrl = params.get('token');
  if (fromUrl !== null) {
    // Keep the token for reloads in this tab, but out of the address bar and history.
    sessionStorage.setItem('drover-token', fromUrl);
    params.delete('token');
    const rest = params.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}${window.location.hash}`);
  }
  const token = fromUrl ?? sessionStorage.getItem('drover-token');
  if (token === null) {
    return new Error('Open Drover with the URL that `npm run serve` printed: it carries the access token this page needs.');
  }
  const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebSocketTransport(`${protocol}//${window.location.host}/rpc?token=${encodeURIComponent(token)}`);
}

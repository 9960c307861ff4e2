/**
 * The message box under a session: send with the button or Ctrl/Cmd+Enter, stop a running turn,
 * and the response streaming right now (from the 'session-live' push; never stored token by
 * token — the completed blocks arrive as events).
 */
import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { LiveUpdate } from '#shared/harness';
import type { Transport } from './transport.ts';

export interface ComposerProps {
  transport: Transport;
  sessionId: string;
  /** The log says a turn is under way. */
  running: boolean;
  onError: (reason: unknown) => void;
}

interface LiveText {
  thinking: string;
  text: string;
  tool: string | null;
}

export function Composer({ transport, sessionId, running, onError }: ComposerProps) {
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [live, setLive] = useState<LiveText | null>(null);
  const inputId = useId();

  useEffect(() => {
    setLive(null);
    return transport.on('session-live', ({ sessionId: id, update }) => {
      if (id === sessionId) setLive((current) => applyLive(current, update));
    });
  }, [transport, sessionId]);

  async function send(event?: FormEvent): Promise<void> {
    event?.preventDefault();
    const text = draft.trim();
    if (text === '' || sending) return;
    setSending(true);
    try {
      await transport.call('sessions-send', { sessionId, text });
      setDraft('');
    } catch (reason) {
      onError(reason);
    } finally {
      setSending(false);
    }
  }

  async function stop(): Promise<void> {
    try {
      await transport.call('sessions-interrupt', { sessionId });
    } catch (reason) {
      onError(reason);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void send();
  }

  return (
    <div className="composer">
      {live !== null && (live.text !== '' || live.thinking !== '' || live.tool !== null) && (
        <div className="live-response" aria-live="polite" data-testid="live-response">
          {live.thinking !== '' && <p className="live-thinking">{live.thinking}</p>}
          {live.text !== '' && <p className="live-text">{live.text}</p>}
          {live.tool !== null && <p className="live-tool">Preparing tool call: {live.tool}</p>}
        </div>
      )}
      <form className="composer-form" onSubmit={(event) => void send(event)}>
        <label htmlFor={inputId} className="visually-hidden">
          Message
        </label>
        <textarea
          id={inputId}
          className="composer-input"
          value={draft}
          rows={2}
          placeholder={running ? 'Claude is working — you can add a message' : 'Message Claude (Ctrl+Enter to send)'}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="composer-actions">
          {running && (
            <button type="button" className="button" onClick={() => void stop()} title="Stop the response or tool that is running">
              Stop
            </button>
          )}
          <button type="submit" className="button button-primary" disabled={sending || draft.trim() === ''}>
            {sending ? 'Sending…' : 'Send'}
          </button>
        </div>
      </form>
    </div>
  );
}

function applyLive(current: LiveText | null, update: LiveUpdate): LiveText | null {
  switch (update.type) {
    case 'response_start':
      return { thinking: '', text: '', tool: null };
    case 'block_start':
      return update.block === 'tool_use' ? { ...(current ?? { thinking: '', text: '' }), tool: update.name ?? 'a tool' } : current;
    case 'delta': {
      const base = current ?? { thinking: '', text: '', tool: null };
      if (update.kind === 'text') return { ...base, text: base.text + update.text };
      if (update.kind === 'thinking') return { ...base, thinking: base.thinking + update.text };
      return base;
    }
    case 'response_end':
    case 'response_discarded':
      return null;
    default:
      return current;
  }
}

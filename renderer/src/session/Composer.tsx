/**
 * The message box under a session: send with the button or Ctrl/Cmd+Enter, and stop a running
 * turn. The draft survives switching sessions (kept per session for this window).
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Transport } from '#renderer/client/transport.ts';
import { isSubmitShortcut } from '#renderer/ui/keys.ts';

/** Drafts not yet sent, per session, for as long as the window is open. */
const drafts = new Map<string, string>();

export interface ComposerProps {
  transport: Transport;
  sessionId: string;
  /** The log says a turn is under way. */
  running: boolean;
  onError: (reason: unknown) => void;
}

export function Composer({ transport, sessionId, running, onError }: ComposerProps) {
  const [draft, setDraftState] = useState(() => drafts.get(sessionId) ?? '');
  const [sending, setSending] = useState(false);
  const [stopping, setStopping] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const inputId = useId();

  function setDraft(text: string): void {
    if (text === '') drafts.delete(sessionId);
    else drafts.set(sessionId, text);
    setDraftState(text);
  }

  // A run that ended is no longer being stopped (state adjusted while rendering, as React
  // recommends over an effect: https://react.dev/learn/you-might-not-need-an-effect).
  const [wasRunning, setWasRunning] = useState(running);
  if (running !== wasRunning) {
    setWasRunning(running);
    if (!running) setStopping(false);
  }

  // The native menu's "Focus Message Box" (Electron).
  useEffect(
    () =>
      transport.on('menu-command', ({ command }) => {
        if (command === 'focus-composer') input.current?.focus();
      }),
    [transport],
  );

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
    setStopping(true);
    try {
      await transport.call('sessions-interrupt', { sessionId });
    } catch (reason) {
      setStopping(false);
      onError(reason);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    if (isSubmitShortcut(event)) void send();
  }

  return (
    <div className="composer">
      <form className="composer-form" onSubmit={(event) => void send(event)}>
        <label htmlFor={inputId} className="visually-hidden">
          Message
        </label>
        <textarea
          ref={input}
          id={inputId}
          className="composer-input"
          value={draft}
          rows={2}
          placeholder={running ? 'Claude is working — you can add a message' : 'Message Claude (Ctrl+Enter to send)'}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="composer-actions">
          <button
            type="button"
            className={running ? 'button button-danger' : 'button button-danger stop-idle'}
            onClick={() => void stop()}
            disabled={stopping || !running}
            aria-hidden={!running}
            tabIndex={running ? 0 : -1}
            title="Stop the response or tool that is running (the log records what was cut)"
          >
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
          <button type="submit" className="button button-primary" disabled={sending || draft.trim() === ''}>
            {sending ? 'Sending…' : 'Send'}
          </button>
        </div>
      </form>
    </div>
  );
}

/**
 * A session's threads for the cockpit: asks `sessions-threads` once the log has a thread (the
 * timeline's types say so without any payload), then only for what was appended since, at most
 * every THROTTLE_MS while events arrive. A session without threads costs one scan of its types.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { SessionLog } from '#renderer/client/session-log.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { ThreadLanes, hasThreadCreated } from './thread-model.ts';

const THROTTLE_MS = 400;

export interface ThreadsState {
  lanes: ThreadLanes;
  /** Why the threads could not be read, in the main process's words. */
  error: string | null;
}

export function useThreads(transport: Transport, log: SessionLog): ThreadsState {
  useSyncExternalStore(log.subscribe, log.getVersion);
  const lastSeq = log.lastSeq;
  const [state, setState] = useState<ThreadsState>({ lanes: ThreadLanes.EMPTY, error: null });
  const scanned = useRef({ sessionId: log.sessionId, through: 0, found: false });
  const asking = useRef<{ busy: boolean; timer: ReturnType<typeof setTimeout> | null }>({ busy: false, timer: null });
  const lanesRef = useRef(state.lanes);

  useEffect(() => {
    // A new session starts from nothing.
    scanned.current = { sessionId: log.sessionId, through: 0, found: false };
    lanesRef.current = ThreadLanes.EMPTY;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- a new session's threads start empty; the host's answers fill them
    setState({ lanes: ThreadLanes.EMPTY, error: null });
    const ask = asking.current;
    return () => {
      if (ask.timer !== null) clearTimeout(ask.timer);
      ask.timer = null;
    };
  }, [log]);

  useEffect(() => {
    const scan = scanned.current;
    if (!scan.found) {
      scan.found = hasThreadCreated((seq) => log.typeAt(seq), scan.through + 1, lastSeq);
      scan.through = lastSeq;
    }
    if (!scan.found || lanesRef.current.throughSeq >= lastSeq) return;
    const ask = asking.current;
    if (ask.busy || ask.timer !== null) return;
    const sessionId = log.sessionId;
    const run = () => {
      ask.timer = null;
      ask.busy = true;
      const afterSeq = lanesRef.current.throughSeq;
      transport.call('sessions-threads', { sessionId, afterSeq }).then(
        (answer) => {
          ask.busy = false;
          if (scanned.current.sessionId !== sessionId) return;
          const lanes = lanesRef.current.merge(answer);
          lanesRef.current = lanes;
          setState({ lanes, error: null });
        },
        (reason: unknown) => {
          ask.busy = false;
          if (scanned.current.sessionId !== sessionId) return;
          setState((current) => ({ ...current, error: reason instanceof Error ? reason.message : String(reason) }));
        },
      );
    };
    // The first answer at once; later ones gathered while events stream in.
    if (lanesRef.current.throughSeq === 0) run();
    else ask.timer = setTimeout(run, THROTTLE_MS);
  }, [transport, log, lastSeq, state]);

  return state;
}

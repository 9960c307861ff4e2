/**
 * The cockpit's view of a session's threads (issue 21): the timeline's lanes, what the transcript
 * shows (every thread interleaved and labelled, or one thread alone) and the thread it shows.
 * Everything derives from the threads' fold (`sessions-threads`) and the log; nothing is stored.
 */
import { useMemo, useState } from 'react';
import type { StoredEvent } from '#shared/events';
import type { SessionLog } from '#renderer/client/session-log.ts';
import type { Transport } from '#renderer/client/transport.ts';
import { eventsOfThread, threadColor, threadLabels, useThreads, type ThreadsState } from '#renderer/threads/index.ts';
import type { TimelineLanes } from '#renderer/timeline/index.ts';
import { threadItem } from './thread-items.ts';
import type { TranscriptThreads } from './Transcript.tsx';

export interface ThreadView extends ThreadsState {
  /** Undefined while the session has no threads. */
  lanesView: TimelineLanes | undefined;
  transcript: TranscriptThreads | undefined;
  /** The thread the transcript shows alone (null: the primary), or undefined: all of them. */
  shown: string | null | undefined;
  show: (thread: string | null | undefined) => void;
}

export function useThreadView(transport: Transport, log: SessionLog): ThreadView {
  const state = useThreads(transport, log);
  const [chosen, show] = useState<string | null | undefined>(undefined);
  const { lanes } = state;
  // A thread chosen in another session (or not known yet) shows everything.
  const shown = chosen !== undefined && lanes.indexOfThread(chosen) === -1 ? undefined : chosen;

  const lanesView = useMemo((): TimelineLanes | undefined => {
    if (!lanes.many) return undefined;
    const labels = threadLabels(lanes.threads);
    return {
      names: labels,
      colors: lanes.threads.map((_, index) => threadColor(index)),
      laneAt: (seq) => lanes.laneAt(seq, log.event(seq)),
      version: lanes,
    };
  }, [lanes, log]);

  const transcript = useMemo((): TranscriptThreads | undefined => {
    if (!lanes.many || lanesView === undefined) return undefined;
    const labels = lanesView.names;
    const nameOf = (thread: string | null) => labels[lanes.indexOfThread(thread)] ?? thread ?? 'coordinator';
    const interleaved = shown === undefined;
    return {
      pick: (events: readonly StoredEvent[]) => eventsOfThread(events, shown),
      item: (event: StoredEvent) => threadItem(event, { nameOf, interleaved }),
      labelOf: interleaved
        ? (seq: number) => {
            const lane = lanes.laneAt(seq, log.event(seq));
            return { name: labels[lane] ?? '', color: threadColor(lane) };
          }
        : undefined,
      version: [lanes, shown],
    };
  }, [lanes, lanesView, shown, log]);

  return { ...state, lanesView, transcript, shown, show };
}

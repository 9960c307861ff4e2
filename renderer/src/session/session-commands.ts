/**
 * The open session's commands for the palette (SessionView registers them while it shows): fork
 * and rewind at the event selected on the timeline, back to live, stop Claude, export, and the side
 * panel's tabs. What cannot run now is listed with the reason.
 */
import { useMemo } from 'react';
import type { Command } from '#renderer/ui/commands.ts';
import { useCommands } from '#renderer/ui/commands-context.tsx';
import type { RewindKeep } from '#renderer/timeline/index.ts';
import type { PanelTab } from './SessionView.tsx';

export interface SessionCommandState {
  /** The event selected on the timeline (the last one when live). */
  viewSeq: number;
  live: boolean;
  running: boolean;
  busy: boolean;
  fork: () => unknown;
  rewind: (keep: RewindKeep) => unknown;
  goLive: () => void;
  interrupt: () => unknown;
  exportSession: () => unknown;
  showTab: (tab: PanelTab) => void;
}

const REWINDS: ReadonlyArray<{ keep: RewindKeep; what: string }> = [
  { keep: 'both', what: 'conversation and files' },
  { keep: 'conversation', what: 'conversation only' },
  { keep: 'files', what: 'files only' },
];

const TABS: ReadonlyArray<{ tab: PanelTab; title: string }> = [
  { tab: 'hands', title: 'Show the Hands panel' },
  { tab: 'events', title: 'Show the Events panel' },
  { tab: 'branches', title: 'Show the Branches panel' },
  { tab: 'changes', title: 'Show the Changes panel' },
];

/** Registers the session's commands while the view shows (pass stable actions: the list is remade when one changes). */
export function useSessionCommands(state: SessionCommandState): void {
  const { viewSeq, live, running, busy, fork, rewind, goLive, interrupt, exportSession, showTab } = state;
  const commands = useMemo(
    () => sessionCommands({ viewSeq, live, running, busy, fork, rewind, goLive, interrupt, exportSession, showTab }),
    [viewSeq, live, running, busy, fork, rewind, goLive, interrupt, exportSession, showTab],
  );
  useCommands('session', commands);
}

export function sessionCommands(state: SessionCommandState): Command[] {
  const busy = state.busy ? 'Wait for the current action to finish' : undefined;
  const at = `event #${state.viewSeq.toLocaleString()}`;
  const rewindBlocked = busy ?? (state.live ? 'Select an earlier event on the timeline first' : undefined);
  return [
    {
      id: 'session.fork',
      group: 'Session',
      title: `Fork from the selected event (${at})`,
      keywords: ['branch', 'copy', 'new session from here'],
      ...(busy === undefined ? {} : { disabledReason: busy }),
      run: () => void state.fork(),
    },
    ...REWINDS.map(({ keep, what }): Command => ({
      id: `session.rewind-${keep}`,
      group: 'Session',
      title: `Rewind to the selected event (${at}): ${what}`,
      keywords: ['undo', 'go back', 'restore'],
      ...(rewindBlocked === undefined ? {} : { disabledReason: rewindBlocked }),
      run: () => void state.rewind(keep),
    })),
    {
      id: 'session.live',
      group: 'Session',
      title: 'Back to live',
      keywords: ['latest', 'follow', 'newest event'],
      shortcut: 'End',
      ...(state.live ? { disabledReason: 'Already following new events' } : {}),
      run: state.goLive,
    },
    {
      id: 'session.interrupt',
      group: 'Session',
      title: 'Stop Claude',
      keywords: ['interrupt', 'cancel', 'halt'],
      ...(state.running ? {} : { disabledReason: 'Claude is not working now' }),
      run: () => void state.interrupt(),
    },
    {
      id: 'session.export',
      group: 'Session',
      title: 'Export this session (.jsonl)',
      keywords: ['save', 'download'],
      ...(busy === undefined ? {} : { disabledReason: busy }),
      run: () => void state.exportSession(),
    },
    ...TABS.map(({ tab, title }): Command => ({ id: `session.tab-${tab}`, group: 'Panel', title, run: () => state.showTab(tab) })),
  ];
}

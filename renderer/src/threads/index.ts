/**
 * The threads feature's public surface (issue 21): a session's threads for the cockpit — the hook
 * that reads them, the thread tree with per-thread cost, the transcript's thread switch, and the
 * pure model (lanes, labels, colours, one thread's events).
 */
export { useThreads, type ThreadsState } from './useThreads.ts';
export { ThreadTree, type ThreadTreeProps } from './ThreadTree.tsx';
export { ThreadSwitch, type ThreadSwitchProps } from './ThreadSwitch.tsx';
export { ThreadLanes, eventsOfThread, threadColor, threadLabels } from './thread-model.ts';

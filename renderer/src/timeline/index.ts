/**
 * The timeline feature's public surface: what other features may import from timeline/ (the
 * import rules reject any other path into it). The tape and minimap, the events list, the
 * branches tree, and moving the cursor by event and by turn.
 */
export { Timeline, type TimelineProps } from './Timeline.tsx';
export { EventList, type EventListProps } from './EventList.tsx';
export { BranchTree, type BranchTreeProps } from './BranchTree.tsx';
export { clampSeq, nextTurn, previousTurn } from './timeline-nav.ts';
export { RewindMenu, REWIND_CHOICES, type RewindKeep, type RewindMenuProps } from './RewindMenu.tsx';
export { type TimelineLanes } from './lane-model.ts';
export { eventName, toolCallName } from './event-names.ts';

/**
 * The transcript's thread items (issue 21): a thread started (by whom, with what task, on which
 * hands), a message between threads, a thread's end. Pure; `transcriptItems` asks for one per event
 * it has no item of its own for.
 */
import type { ContentBlock, StoredEvent } from '#shared/events';

export interface ThreadItem {
  kind: 'thread';
  key: string;
  seq: number;
  tone: 'start' | 'message' | 'end';
  /** "coordinator started tester", "tester → coordinator"… */
  title: string;
  /** The task or the message (markdown), or the reason it ended. */
  text: string;
}

export interface ThreadItemOptions {
  /** A thread's label by id (null: the primary). */
  nameOf: (thread: string | null) => string;
  /** Every thread is shown: a message is shown once, where it is received. */
  interleaved: boolean;
}

/** The item for a thread event, or null (not a thread event, or shown elsewhere). */
export function threadItem(event: StoredEvent, { nameOf, interleaved }: ThreadItemOptions): ThreadItem | null {
  const key = `e${event.seq}`;
  const seq = event.seq;
  switch (event.type) {
    case 'session.thread_created': {
      const { agent_name: agent, parent_thread_id: parent, task, hands, session_thread_id: id } = event.payload;
      const held = hands.map((hand) => `${hand.hand} (${hand.mode.replace('_', '-')})`).join(', ');
      return {
        kind: 'thread',
        key,
        seq,
        tone: 'start',
        title: `${nameOf(parent ?? null)} started ${nameOf(id) || agent}${held === '' ? '' : ` with ${held}`}`,
        text: task,
      };
    }
    case 'agent.thread_message_sent':
      if (interleaved) return null;
      return {
        kind: 'thread',
        key,
        seq,
        tone: 'message',
        title: `${nameOf(event.payload.session_thread_id ?? null)} → ${nameOf(event.payload.to_thread_id ?? null)}`,
        text: textOf(event.payload.content),
      };
    case 'agent.thread_message_received':
      return {
        kind: 'thread',
        key,
        seq,
        tone: 'message',
        title: `${nameOf(event.payload.from_thread_id ?? null)} → ${nameOf(event.payload.session_thread_id ?? null)}`,
        text: textOf(event.payload.content),
      };
    case 'session.thread_status_terminated':
      return {
        kind: 'thread',
        key,
        seq,
        tone: 'end',
        title: `${nameOf(event.payload.session_thread_id)} ended`,
        text: event.payload.reason ?? '',
      };
    default:
      return null;
  }
}

function textOf(blocks: readonly Pick<ContentBlock, 'type'>[]): string {
  return blocks.map((block) => ('text' in block && typeof block.text === 'string' ? block.text : `[${block.type}]`)).join('\n\n');
}

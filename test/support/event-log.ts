/**
 * Events as the store hands them back (dense seqs from 1, payload defaults applied), for pure
 * tests of code that reads a log. Never a stand-in for the store in tests of the store itself.
 */
import { randomUUID } from 'node:crypto';
import { eventPayloadSchemas, type NewEvent, type StoredEvent } from '#shared/events';

export function storedEvents(...events: NewEvent[]): StoredEvent[] {
  return events.map(
    (event, i) =>
      ({
        seq: i + 1,
        id: randomUUID(),
        ts: new Date(1_800_000_000_000 + i).toISOString(),
        type: event.type,
        payload: eventPayloadSchemas[event.type].parse(event.payload),
      }) as StoredEvent,
  );
}

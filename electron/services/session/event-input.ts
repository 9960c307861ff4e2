/**
 * An event as the store takes it: its id (a caller's uuid or a new one), a known type, and a payload
 * that passes its schema, redacted after it is validated. Invalid input is refused, naming what is
 * wrong, before anything is written.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '#shared/errors';
import { describeIssues, eventPayloadSchemas, issuesText, EVENT_TYPES, isEventType, type EventType, type NewEvent } from '#shared/events';

/** An event id a caller may choose (see NewEvent.id): a uuid, as every stored event id is. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface PreparedEvent {
  type: EventType;
  payload: never;
  code: number;
  id: string;
}

/** Validates one event (`index`: its place in a batch, for the message) and redacts its payload. */
export function prepareEvent(
  event: NewEvent,
  index: number | undefined,
  typeCode: (type: string) => number,
  redact: ((payload: unknown) => unknown) | null,
): PreparedEvent {
  const where = index === undefined ? 'The event' : `Event ${index + 1} of the batch`;
  const id = (event as { id?: unknown } | null)?.id ?? randomUUID();
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw new AppError('invalid-argument', `${where} has an id that is not a uuid; nothing was saved.`, {
      issues: [{ path: 'id', message: 'must be a uuid' }],
    });
  }
  const type: unknown = (event as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !isEventType(type)) {
    throw new AppError('invalid-argument', `${where} has an unknown type ${JSON.stringify(type)}; nothing was saved.`, {
      issues: [{ path: 'type', message: `must be one of: ${EVENT_TYPES.join(', ')}` }],
    });
  }
  const result = eventPayloadSchemas[type].safeParse(event.payload);
  if (!result.success) {
    const issues = describeIssues(result.error.issues, ['payload']);
    throw new AppError('invalid-argument', `${where} (${type}) is invalid: ${issuesText(issues)}. Nothing was saved.`, { issues });
  }
  // Validated first, so a redaction marker can never make a payload invalid or valid.
  const payload = redact === null ? result.data : redact(result.data);
  return { type, payload: payload as never, code: typeCode(type), id };
}

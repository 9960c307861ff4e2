/**
 * The session export format: JSONL, one header line then one line per event, each event exactly
 * as stored (`seq`, `id`, `ts`, `type`, `payload`). Parsing validates every line before anything
 * is written, and names the line of the first problem.
 *
 * A file is untrusted input: it is held to the rules live input is held to (the title rules of
 * `SessionTitleSchema`, the message size of `MessageTextSchema`), and two events with the same id
 * are refused (an export never has them; re-assigning ids would hide a tampered file).
 */
import { z } from 'zod';
import { AppError } from '#shared/errors';
import { describeIssues, issuesText, StoredEventSchema, type StoredEvent } from '#shared/events';
import { HandNameSchema } from '#shared/hands';
import { MessageTextSchema } from '#shared/rpc';
import { SessionTitleSchema, type StoredSession } from '#shared/sessions';

export const ExportHeaderSchema = z.object({
  drover_session_export: z.literal(1),
  session: z.object({
    id: z.string(),
    title: SessionTitleSchema,
    created_at: z.string(),
    parent_id: z.string().nullable(),
    fork_seq: z.number().int().nonnegative().nullable(),
  }),
  event_count: z.number().int().nonnegative(),
});
export type ExportHeader = z.infer<typeof ExportHeaderSchema>;

export function formatExportHeader(header: ExportHeader): string {
  return JSON.stringify(header);
}

/**
 * `session`'s export lines: the header, then every event of its view (inherited ones included)
 * exactly as stored, read through `readPage` (events after `afterSeq`, up to `upTo`) page by page,
 * so huge sessions stream.
 */
export function* exportLines(session: StoredSession, readPage: (afterSeq: number, upTo: number) => StoredEvent[]): Generator<string> {
  yield formatExportHeader({
    drover_session_export: 1,
    session: {
      id: session.id,
      title: session.title,
      created_at: session.createdAt,
      parent_id: session.parentId,
      fork_seq: session.forkSeq,
    },
    event_count: session.lastSeq,
  });
  let after = 0;
  const upTo = session.lastSeq;
  while (after < upTo) {
    const page = readPage(after, upTo);
    if (page.length === 0) break;
    for (const event of page) yield JSON.stringify(event);
    after = page[page.length - 1]?.seq ?? upTo;
  }
}

function invalid(line: number, problem: string): AppError {
  return new AppError('invalid-argument', `This is not a valid Drover session export: line ${line} ${problem}. Nothing was imported.`);
}

function parseLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(line, `is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Validates a whole export; throws `invalid-argument` naming the first bad line. */
export function parseExport(lines: Iterable<string>): { header: ExportHeader; events: StoredEvent[] } {
  let header: ExportHeader | undefined;
  const events: StoredEvent[] = [];
  const lineOfId = new Map<string, number>();
  let lineNumber = 0;
  for (const raw of lines) {
    for (const text of raw.split('\n')) {
      lineNumber++;
      if (text.trim() === '') continue;
      const value = parseLine(text, lineNumber);
      if (header === undefined) {
        const parsed = ExportHeaderSchema.safeParse(value);
        if (!parsed.success) {
          throw invalid(lineNumber, `should be the export header (${issuesText(describeIssues(parsed.error.issues))})`);
        }
        header = parsed.data;
        continue;
      }
      const parsed = StoredEventSchema.safeParse(value);
      if (!parsed.success) {
        throw invalid(lineNumber, `is not a valid event (${issuesText(describeIssues(parsed.error.issues))})`);
      }
      const expected = events.length + 1;
      if (parsed.data.seq !== expected) {
        throw invalid(lineNumber, `has seq ${parsed.data.seq} where ${expected} was expected (events must be complete and in order)`);
      }
      const earlier = lineOfId.get(parsed.data.id);
      if (earlier !== undefined)
        throw invalid(lineNumber, `repeats the event id ${parsed.data.id} of line ${earlier} (each event has its own id)`);
      lineOfId.set(parsed.data.id, lineNumber);
      const live = liveInputProblem(parsed.data);
      if (live !== null) throw invalid(lineNumber, live);
      events.push(parsed.data);
    }
  }
  if (header === undefined) throw invalid(1, 'is missing: the file is empty');
  if (events.length !== header.event_count) {
    throw invalid(lineNumber, `ends after ${events.length} events, but the header promises ${header.event_count} (the file is truncated)`);
  }
  return { header, events };
}

/** What live input would refuse in this event (null: nothing): a user message's text over the live limit, a hand name the UI could not give. */
function liveInputProblem(event: StoredEvent): string | null {
  if (event.type === 'hand.attached' || event.type === 'hand.detached') {
    const named = HandNameSchema.safeParse(event.payload.hand_id);
    return named.success
      ? null
      : `names a hand ${JSON.stringify(event.payload.hand_id)} that Drover would not accept (${named.error.issues.map((issue) => issue.message).join('; ')})`;
  }
  if (event.type !== 'user.message') return null;
  for (const block of event.payload.content) {
    if (block.type !== 'text') continue;
    const checked = MessageTextSchema.safeParse(block.text);
    if (!checked.success)
      return `is a message Drover would not accept from you (${checked.error.issues.map((issue) => issue.message).join('; ')})`;
  }
  return null;
}

/**
 * The harness crash test's (electron/services/harness/harness-crash.integration.test.ts) model
 * script and the rules every final log must keep: no acknowledged event lost, none duplicated, no
 * tool run twice without the log saying so, and what each kill must have left behind.
 *
 * It must never patch a log or soften a rule to make a run pass: each broken rule is reported as a
 * sentence with the events around it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { StoredEvent } from '#shared/events';
import type { MessagesRequestBody, RecordedRequest, Reply, ScriptedBlock } from '#test/support/model-server';

// ------------------------------------------------------------------------------ the model

/** Small, so a stream spans many timer ticks and kills land inside it. */
const FRAME_DELAY_MS = 3;

// Long enough to stream in many frames (about three words each).
export const PROSE = [
  'Let me work through this one step at a time and check each intermediate result with a tool before I rely on it, so nothing rests on arithmetic done in my head.',
  'Both results are in. Now I multiply the sum by the next factor, again with the tool, and I will keep the waiting step in mind for the timing you asked about.',
  'The answer is thirty five. I added two and three to get five, then multiplied five by seven, and the wait finished before the product came back.',
  'For the second question I first wait for the slower step to settle and then add one to the earlier product, which should give thirty six in the end.',
  'The answer to the second question is thirty six: the earlier product of thirty five plus one, after the requested wait had run its course.',
];

/** Requests the script could not answer (the harness sent a conversation it did not expect). */
const refusals: Array<{ session: string | null; index: number; reason: string }> = [];

type Block = Record<string, unknown> & { type: string };

function blocksOf(content: MessagesRequestBody['messages'][number]['content']): Block[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : (content as Block[]);
}

/** The session a request belongs to: the child tags its first user message with it. */
export function sessionOf(body: MessagesRequestBody): string | null {
  const first = body.messages[0];
  if (!first) return null;
  for (const block of blocksOf(first.content)) {
    const match = block.type === 'text' ? /\[([0-9a-f-]{36})\]/.exec(String(block.text)) : null;
    if (match) return match[1] as string;
  }
  return null;
}

/**
 * The scripted model. Stateless: the reply depends only on the request (the number of assistant
 * turns so far picks the step), so a restarted child that re-sends a request gets the same reply,
 * with the same tool_use ids. Those ids double as the tools' journal markers.
 */
export function scripted(request: RecordedRequest): Reply {
  const { messages } = request.body;
  const session = sessionOf(request.body);
  const turn = messages.filter((message) => message.role === 'assistant').length;
  const lastMessage = messages.at(-1);
  const last = lastMessage?.role === 'user' ? blocksOf(lastMessage.content) : [];
  const texts = last.filter((block) => block.type === 'text').map((block) => String(block.text));
  const results = last.filter((block) => block.type === 'tool_result').length;
  const asks = (question: string): boolean => results === 0 && texts.length === 1 && (texts[0] as string).startsWith(question);
  const answers = results > 0 && texts.length === 0;
  const expected = [asks('first question'), answers, answers, asks('second question'), answers][turn] ?? false;
  if (session === null || !expected) {
    const reason = `unexpected conversation at turn ${turn}: last message ${JSON.stringify(lastMessage).slice(0, 400)}`;
    refusals.push({ session, index: request.index, reason });
    return { kind: 'http-error', status: 400, type: 'invalid_request_error', message: `crash script: ${reason}` };
  }
  const id = (k: number): string => `toolu_t${turn}_${k}`;
  const waitMs = 30 + (Number.parseInt(session.slice(0, 8), 16) % 51);
  const text: ScriptedBlock = { type: 'text', text: PROSE[turn] as string };
  const tool = (k: number, name: string, input: Record<string, unknown>): ScriptedBlock => ({
    type: 'tool_use',
    id: id(k),
    name,
    input: { ...input, marker: id(k) },
  });
  const steps: Array<{ content: ScriptedBlock[]; stop: 'tool_use' | 'end_turn' }> = [
    { content: [text, tool(0, 'add', { a: 2, b: 3 }), tool(1, 'wait', { ms: waitMs })], stop: 'tool_use' },
    { content: [text, tool(0, 'multiply', { a: 5, b: 7 })], stop: 'tool_use' },
    { content: [text], stop: 'end_turn' },
    { content: [text, tool(0, 'wait', { ms: 110 - waitMs }), tool(1, 'add', { a: 35, b: 1 })], stop: 'tool_use' },
    { content: [text], stop: 'end_turn' },
  ];
  const step = steps[turn] as (typeof steps)[number];
  return { kind: 'message', message: { content: step.content, stop_reason: step.stop }, frameDelayMs: FRAME_DELAY_MS };
}

// ------------------------------------------------------------------------------ runs and lives (as the test records them)

export interface Ack {
  seq: number;
  id: string;
  type: string;
  life: number;
}

export interface Life {
  /** Events in the log when this life opened the store (= where the previous life died). */
  readySeq: number;
  readyAt: number;
  doneAt: number | null;
  acks: Ack[];
  /** A kill was scheduled and the child died of SIGKILL before finishing. */
  killed: boolean;
  done: boolean;
  journalAtStart: string;
  journalAtExit: string;
  stderr: string;
}

export interface Run {
  label: string;
  dir: string;
  dataDir: string;
  journal: string;
  sessionId: string;
  /** Events the test itself stored before the first child (they count as acknowledged). */
  setup: StoredEvent[];
  lives: Life[];
  events: StoredEvent[];
  requests: RecordedRequest[];
}

export function readJournal(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

// ------------------------------------------------------------------------------ the rules

interface Journal {
  starts: Map<string, number>;
  ends: Map<string, number>;
}

function parseJournal(text: string): Journal {
  const journal: Journal = { starts: new Map(), ends: new Map() };
  for (const line of text.split('\n')) {
    const [word, marker] = line.split(' ');
    if (!marker) continue;
    const counts = word === 'start' ? journal.starts : word === 'end' ? journal.ends : null;
    counts?.set(marker, (counts.get(marker) ?? 0) + 1);
  }
  return journal;
}

function resultText(event: StoredEvent): string {
  if (event.type !== 'agent.tool_result') return '';
  return event.payload.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
}

function describeEvent(event: StoredEvent): string {
  const head = `#${event.seq} ${event.type}`;
  switch (event.type) {
    case 'user.message':
      return `${head} ${JSON.stringify(event.payload.content[0]?.type === 'text' ? event.payload.content[0].text.slice(0, 40) : '')}`;
    case 'agent.tool_use':
      return `${head} ${event.payload.tool_use_id} ${event.payload.name}`;
    case 'agent.tool_result':
      return `${head} ${event.payload.tool_use_id} ${event.payload.status} is_error=${event.payload.is_error} ${JSON.stringify(resultText(event).slice(0, 60))}`;
    case 'span.model_request_end':
      return `${head} is_error=${event.payload.is_error} stop=${event.payload.stop_reason}`;
    case 'session.error':
      return `${head} ${event.payload.error.type} ${event.payload.retry_status.type}`;
    case 'session.status_idle':
      return `${head} ${event.payload.stop_reason.type}`;
    default:
      return head;
  }
}

function around(events: readonly StoredEvent[], seq: number, radius = 4): string {
  return events
    .filter((event) => Math.abs(event.seq - seq) <= radius)
    .map((event) => `    ${event.seq === seq ? '>' : ' '} ${describeEvent(event)}`)
    .join('\n');
}

/** Every rule the final log must keep; each broken one as a sentence with the events around it. */
export function violations(run: Run): string[] {
  const out: string[] = [];
  const { events } = run;
  const report = (rule: string, seq?: number): void => {
    out.push(`${run.label} (${run.dir}): ${rule}${seq === undefined ? '' : `\n${around(events, seq)}`}`);
  };

  // 2. Dense seqs, unique ids.
  const gap = events.find((event, i) => event.seq !== i + 1);
  if (gap) report(`seq ${gap.seq} at position ${events.indexOf(gap) + 1}: seqs are not dense`, gap.seq);
  const ids = new Set<string>();
  for (const event of events) {
    if (ids.has(event.id)) report(`event id ${event.id} appears twice`, event.seq);
    ids.add(event.id);
  }

  // 1. No acknowledged event lost (or changed): the test's own setup events and every child ack.
  const acks: Ack[] = [
    ...run.setup.map((event) => ({ seq: event.seq, id: event.id, type: event.type, life: -1 })),
    ...run.lives.flatMap((life) => life.acks),
  ];
  for (const ack of acks) {
    const event = events[ack.seq - 1];
    if (event?.id !== ack.id || event.type !== ack.type) {
      report(
        `acknowledged event #${ack.seq} ${ack.type} ${ack.id} (life ${ack.life}) is ${event ? `now ${event.type} ${event.id}` : 'missing'}`,
        ack.seq,
      );
    }
  }
  run.lives.forEach((life, i) => {
    const next = run.lives[i + 1];
    if (!next) return;
    const beyond = life.acks.find((ack) => ack.seq > next.readySeq);
    if (beyond) report(`life ${i} acked #${beyond.seq}, but the next life found only ${next.readySeq} events`, beyond.seq);
  });

  // Each scripted response stored exactly once: its text, in script order (a response stored twice
  // would show here even without tool uses).
  const said = events.flatMap((event) => (event.type === 'agent.message' ? event.payload.content.map((block) => block.text) : []));
  if (JSON.stringify(said) !== JSON.stringify(PROSE)) {
    report(
      `the stored responses are not the script's ${PROSE.length}, once each and in order: ${JSON.stringify(said.map((text) => text.slice(0, 24)))}`,
    );
  }

  // 3. Each tool use once, with exactly one result after it.
  const uses = new Map<string, StoredEvent>();
  const results = new Map<string, StoredEvent[]>();
  for (const event of events) {
    if (event.type === 'agent.tool_use') {
      if (uses.has(event.payload.tool_use_id)) report(`tool_use id ${event.payload.tool_use_id} is stored twice`, event.seq);
      uses.set(event.payload.tool_use_id, event);
    } else if (event.type === 'agent.tool_result') {
      const id = event.payload.tool_use_id;
      results.set(id, [...(results.get(id) ?? []), event]);
      const use = uses.get(id);
      if (!use) report(`tool_result for ${id} has no tool_use before it`, event.seq);
    }
  }
  for (const [id, use] of uses) {
    const found = results.get(id) ?? [];
    if (found.length !== 1) report(`tool_use ${id} has ${found.length} results`, use.seq);
  }

  // 4. The journal: no tool ran twice, and the log says what happened to each run.
  const journal = parseJournal(readJournal(run.journal));
  for (const [marker, count] of journal.starts) {
    if (count > 1) report(`tool ${marker} ran ${count} times (journal)`, uses.get(marker)?.seq);
    if (!uses.has(marker)) report(`tool ${marker} ran, but its tool_use is not in the log`);
  }
  for (const [marker, count] of journal.ends) {
    if (count > (journal.starts.get(marker) ?? 0))
      report(`tool ${marker} ended ${count} times but started ${journal.starts.get(marker) ?? 0} times`);
  }
  for (const [id, found] of results) {
    const result = found[0];
    if (result?.type !== 'agent.tool_result') continue;
    const started = journal.starts.get(id) ?? 0;
    const ended = journal.ends.get(id) ?? 0;
    if (result.payload.status === 'completed') {
      if (started !== 1 || ended !== 1)
        report(`tool ${id} is recorded completed, but the journal has ${started} start(s) and ${ended} end(s)`, result.seq);
      if (result.payload.is_error) report(`tool ${id} completed with an error`, result.seq);
    } else if (result.payload.status === 'interrupted') {
      if (!result.payload.is_error) report(`interrupted tool ${id} is not marked is_error`, result.seq);
      if (!/not run again/i.test(resultText(result)))
        report(`interrupted tool ${id} does not tell the model it was not run again`, result.seq);
    } else {
      report(`tool ${id} has status ${result.payload.status}`, result.seq);
    }
    if (started > ended && result.payload.status !== 'interrupted')
      report(`tool ${id} was cut mid-run (start without end) but is recorded ${result.payload.status}`, result.seq);
  }

  // 5. Both turns ended normally, and the last request was a valid conversation answered normally.
  const last = events.at(-1);
  if (last?.type !== 'session.status_idle' || last.payload.stop_reason.type !== 'end_turn')
    report('the session does not end idle with end_turn', last?.seq);
  const idles = events.filter((event) => event.type === 'session.status_idle');
  const asked = events.filter((event) => event.type === 'user.message');
  if (asked.length !== 2) report(`${asked.length} user messages (expected 2)`, asked[2]?.seq);
  for (const idle of idles) {
    if (idle.type === 'session.status_idle' && idle.payload.stop_reason.type !== 'end_turn')
      report(`a turn ended with ${idle.payload.stop_reason.type}`, idle.seq);
  }
  if (idles.length !== 2) report(`${idles.length} idle events (expected 2)`, idles[2]?.seq);
  for (const refusal of refusals.filter((r) => r.session === run.sessionId))
    report(`the model server refused request ${refusal.index}: ${refusal.reason}`);
  const final = run.requests.at(-1);
  if (!final) report('the model server saw no request');
  else out.push(...conversationProblems(final.body, events).map((problem) => `${run.label} (${run.dir}): final request: ${problem}`));
  const turnStarts = events.filter((event) => event.type === 'span.model_request_start' && event.payload.purpose === 'turn').length;
  if (run.requests.length > turnStarts)
    report(`the model server saw ${run.requests.length} requests, but the log has ${turnStarts} request spans`);

  // 6. Request spans pair up; a span closed by recovery is followed by a response_lost error.
  let open: StoredEvent | null = null;
  for (const [i, event] of events.entries()) {
    if (event.type === 'span.model_request_start') {
      if (open) report(`request span #${open.seq} is still open at the next start`, event.seq);
      open = event;
    } else if (event.type === 'span.model_request_end') {
      if (!open) report('a request span ends without a start', event.seq);
      open = null;
      const next = events[i + 1];
      if (
        event.payload.is_error &&
        (next?.type !== 'session.error' || next.payload.error.type !== 'response_lost' || next.payload.retry_status.type !== 'retrying')
      ) {
        report('a failed request span is not followed by a retrying response_lost error', event.seq);
      }
    } else if (event.type === 'session.error' && event.payload.error.type !== 'response_lost') {
      report(`unexpected session.error ${event.payload.error.type}: ${event.payload.error.message}`, event.seq);
    }
  }
  if (open) report(`request span #${open.seq} never ends`, open.seq);
  return out;
}

/** Roles alternate from a user turn; each user turn answers exactly the tool uses before it; every logged result is there as stored. */
function conversationProblems(body: MessagesRequestBody, events: readonly StoredEvent[]): string[] {
  const problems: string[] = [];
  const turns = body.messages.map((message) => ({ role: message.role, blocks: blocksOf(message.content) }));
  turns.forEach((turn, i) => {
    const expectedRole = i % 2 === 0 ? 'user' : 'assistant';
    if (turn.role !== expectedRole) problems.push(`message ${i} is ${turn.role}, expected ${expectedRole}`);
    const asked = (turns[i - 1]?.blocks ?? []).filter((block) => block.type === 'tool_use').map((block) => String(block.id));
    const answered = turn.blocks.filter((block) => block.type === 'tool_result').map((block) => String(block.tool_use_id));
    if (turn.role === 'user' && JSON.stringify(answered) !== JSON.stringify(asked)) {
      problems.push(`message ${i} answers [${answered.join(', ')}] but the turn before asked [${asked.join(', ')}]`);
    }
  });
  if (turns.at(-1)?.role !== 'user') problems.push('it does not end with a user turn');
  if (turns.filter((turn) => turn.role === 'assistant').length !== 4) problems.push('it is not the script’s last step');
  const sent = new Map(
    turns.flatMap((turn) =>
      turn.blocks.filter((block) => block.type === 'tool_result').map((block) => [String(block.tool_use_id), block] as const),
    ),
  );
  for (const event of events) {
    if (event.type !== 'agent.tool_result') continue;
    const block = sent.get(event.payload.tool_use_id);
    const text = (Array.isArray(block?.content) ? (block.content as Block[]) : []).map((part) => String(part.text ?? '')).join('');
    if (!block) problems.push(`the result of ${event.payload.tool_use_id} was never sent to the model`);
    else if (text !== resultText(event) || (block.is_error === true) !== event.payload.is_error) {
      problems.push(
        `the model was sent ${JSON.stringify(text)} (is_error ${String(block.is_error)}) for ${event.payload.tool_use_id}, the log has ${JSON.stringify(resultText(event))}`,
      );
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------ where kills land

export type Site = 'mid-stream' | 'tool-run' | 'tool-done-unrecorded' | 'before-first-commit' | 'between-events';

interface Kill {
  site: Site;
  /** The turn request that was open when the child died, if any (whoever opened it). */
  openSpan: number | null;
  /** Tools this life started and did not finish. */
  running: string[];
}

/**
 * Where each kill landed, read from the log as the next life found it (its `ready` count) and
 * from the journal lines the killed life wrote.
 */
export function kills(run: Run): Kill[] {
  const out: Kill[] = [];
  run.lives.forEach((life, i) => {
    const next = run.lives[i + 1];
    if (!life.killed || !next) return;
    const prefix = run.events.slice(0, next.readySeq);
    let openSpan: number | null = null;
    for (const event of prefix) {
      if (event.type === 'span.model_request_start' && event.payload.purpose === 'turn') openSpan = event.seq;
      else if (event.type === 'span.model_request_end') openSpan = null;
    }
    const own = parseJournal(life.journalAtExit.slice(life.journalAtStart.length));
    const running = [...own.starts.keys()].filter((marker) => !own.ends.has(marker));
    const recorded = new Set(prefix.flatMap((event) => (event.type === 'agent.tool_result' ? [event.payload.tool_use_id] : [])));
    const unrecorded = [...own.ends.keys()].filter((marker) => !recorded.has(marker));
    let site: Site;
    if (openSpan !== null && openSpan > life.readySeq) site = 'mid-stream';
    else if (running.length > 0) site = 'tool-run';
    else if (unrecorded.length > 0) site = 'tool-done-unrecorded';
    else if (next.readySeq === life.readySeq) site = 'before-first-commit';
    else site = 'between-events';
    out.push({ site, openSpan, running });
  });
  return out;
}

/** What each kill must have left in the final log. */
export function killProblems(run: Run, found: Kill[]): string[] {
  const problems: string[] = [];
  const at = (seq: number): StoredEvent | undefined => run.events[seq - 1];
  for (const kill of found) {
    if (kill.openSpan !== null) {
      // The end that pairs with the open start: the first end after it.
      const end = run.events.find((event) => event.seq > (kill.openSpan as number) && event.type === 'span.model_request_end');
      const next = end ? at(end.seq + 1) : undefined;
      if (
        end?.type !== 'span.model_request_end' ||
        !end.payload.is_error ||
        next?.type !== 'session.error' ||
        next.payload.error.type !== 'response_lost'
      ) {
        problems.push(
          `${run.label} (${run.dir}): request #${kill.openSpan} was cut by a kill but is not closed as failed + response_lost\n${around(run.events, kill.openSpan, 6)}`,
        );
      }
    }
    for (const marker of kill.running) {
      const result = run.events.find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === marker);
      if (result?.type !== 'agent.tool_result' || result.payload.status !== 'interrupted') {
        problems.push(
          `${run.label} (${run.dir}): tool ${marker} was cut by a kill but is not recorded interrupted${result ? `\n${around(run.events, result.seq)}` : ''}`,
        );
      }
    }
  }
  const cutSpans = new Set(found.flatMap((kill) => (kill.openSpan === null ? [] : [kill.openSpan])));
  const lost = run.events.filter((event) => event.type === 'session.error' && event.payload.error.type === 'response_lost').length;
  if (lost !== cutSpans.size)
    problems.push(`${run.label} (${run.dir}): ${cutSpans.size} requests were cut by kills, but the log has ${lost} response_lost errors`);
  return problems;
}

// The issue's crash test. A child process (test/support/harness-child.ts) runs a multi-turn
// scripted session through the real Harness and SessionStore against a model server in this
// process; it is SIGKILLed at points spread over the whole session (at least 50 runs), restarted
// and woken until the session is done. Every final log is checked against the rules: no
// acknowledged event lost, none duplicated, no tool run twice without the log saying so (a tool cut
// by the crash is recorded as interrupted and the model is told; never silently re-run).
//
// It must never patch a log or leave a run unchecked to make the rules pass: every run's log is
// checked (also the unkilled ones), a violation is reported with the events around it, and the
// run's folder is kept for inspection.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { SessionStore } from '#services/session/store';
import { startModelServer, type MessagesRequestBody, type ModelServer, type RecordedRequest, type Reply, type ScriptedBlock } from '#test/support/model-server';
import { tempDir } from '#test/support/system';
import { DEFAULT_SETTINGS } from './models.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const childScript = path.join(root, 'test/support/harness-child.ts');

/** Killed runs to complete (each kills its child at least once). */
const RUNS = positiveInt(process.env['HARNESS_CRASH_RUNS'], 60);
/** Runs at a time: children spend most of their life waiting on streams and tools. */
const CONCURRENCY = positiveInt(process.env['HARNESS_CRASH_CONCURRENCY'], 4);
/** Small, so a stream spans many timer ticks and kills land inside it. */
const FRAME_DELAY_MS = 3;
/** Any current model id (the server does not care); set explicitly so the log states it. */
const MODEL = 'claude-sonnet-4-6';
/** A life that takes longer than this is hung, not slow. */
const LIFE_TIMEOUT_MS = 30_000;
const MAX_LIVES = 8;
/**
 * Plain-JS dependencies each child loads before tsx registers its hooks. Under the hooks every one
 * of their files is re-read and lexed off-thread, which doubles a child's start-up CPU (about 1.1
 * s instead of 0.6 s); with some 140 lives on a two-core machine that alone would cost ~35 s. The
 * harness's own imports resolve to these same module instances, so nothing else changes.
 */
const PRELOAD = ['--import', '@anthropic-ai/sdk', '--import', 'zod', '--import', 'better-sqlite3'];

function positiveInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

// ------------------------------------------------------------------------------ the model

// Long enough to stream in many frames (about three words each).
const PROSE = [
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
function sessionOf(body: MessagesRequestBody): string | null {
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
function scripted(request: RecordedRequest): Reply {
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
  const tool = (k: number, name: string, input: Record<string, unknown>): ScriptedBlock => ({ type: 'tool_use', id: id(k), name, input: { ...input, marker: id(k) } });
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

// ------------------------------------------------------------------------------ runs and lives

interface Ack {
  seq: number;
  id: string;
  type: string;
  life: number;
}

interface Life {
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

interface Run {
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

let server: ModelServer;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  server = await startModelServer({ respond: scripted, models: [MODEL] });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await server.close();
});

function readJournal(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** One child life; SIGKILLed `killAfterMs` after it reported ready (null: left to finish). */
function runLife(run: Run, index: number, killAfterMs: number | null): Promise<Life> {
  const life: Life = {
    readySeq: -1,
    readyAt: 0,
    doneAt: null,
    acks: [],
    killed: false,
    done: false,
    journalAtStart: readJournal(run.journal),
    journalAtExit: '',
    stderr: '',
  };
  const child = spawn(process.execPath, [...PRELOAD, '--import', 'tsx', childScript, run.dataDir, server.url, run.sessionId, run.journal], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let failure: string | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const hangTimer = setTimeout(() => {
    failure = `life ${index} hung for ${LIFE_TIMEOUT_MS} ms`;
    child.kill('SIGKILL');
  }, LIFE_TIMEOUT_MS);
  child.stderr.on('data', (chunk: Buffer) => (life.stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [word, ...rest] = line.split(' ');
    if (word === 'ack') {
      const [seq, id, type] = rest;
      life.acks.push({ seq: Number(seq), id: String(id), type: String(type), life: index });
    } else if (word === 'ready') {
      life.readySeq = Number(rest[0]);
      life.readyAt = performance.now();
      if (killAfterMs !== null) killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    } else if (word === 'done') {
      life.done = true;
      life.doneAt = performance.now();
      clearTimeout(killTimer);
    } else if (word === 'failed') {
      failure = `life ${index} says: ${rest.join(' ')}`;
    }
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      clearTimeout(killTimer);
      clearTimeout(hangTimer);
      life.journalAtExit = readJournal(run.journal);
      life.killed = signal === 'SIGKILL' && !life.done;
      if (failure === null && !life.done && !life.killed) failure = `life ${index} exited (${code ?? signal}) without finishing`;
      if (failure === null && life.readySeq < 0) failure = `life ${index} never reported ready`;
      if (failure !== null) reject(new Error(`${run.label}: ${failure}\n${life.stderr}\n(data kept in ${run.dir})`));
      else resolve(life);
    });
  });
}

/** A fresh session, driven to its end through lives killed after `kills[i]` ms (null or missing: not killed). */
async function driveRun(label: string, kills: Array<number | null>): Promise<Run> {
  const dir = tempDir('drover-harness-crash-');
  const dataDir = path.join(dir, 'data');
  const store = SessionStore.open({ dataDir, appVersion: 'test-harness-crash' });
  const session = store.createSession({ title: label });
  const setup = [store.emitEvent(session.id, { type: 'session.configured', payload: { ...DEFAULT_SETTINGS, model: MODEL } })];
  store.close();
  const run: Run = { label, dir, dataDir, journal: path.join(dir, 'journal.txt'), sessionId: session.id, setup, lives: [], events: [], requests: [] };
  for (let i = 0; ; i++) {
    if (i >= MAX_LIVES) throw new Error(`${label}: not done after ${MAX_LIVES} lives (data kept in ${dir})`);
    const life = await runLife(run, i, kills[i] ?? null);
    run.lives.push(life);
    if (life.done) break;
  }
  const reader = SessionStore.open({ dataDir, appVersion: 'test-harness-crash' });
  try {
    run.events = reader.getEvents(session.id, { limit: 10_000 });
  } finally {
    reader.close();
  }
  run.requests = server.requests.filter((request) => sessionOf(request.body) === session.id);
  return run;
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
function violations(run: Run): string[] {
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
  const acks: Ack[] = [...run.setup.map((event) => ({ seq: event.seq, id: event.id, type: event.type, life: -1 })), ...run.lives.flatMap((life) => life.acks)];
  for (const ack of acks) {
    const event = events[ack.seq - 1];
    if (event?.id !== ack.id || event.type !== ack.type) {
      report(`acknowledged event #${ack.seq} ${ack.type} ${ack.id} (life ${ack.life}) is ${event ? `now ${event.type} ${event.id}` : 'missing'}`, ack.seq);
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
    report(`the stored responses are not the script's ${PROSE.length}, once each and in order: ${JSON.stringify(said.map((text) => text.slice(0, 24)))}`);
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
    if (count > (journal.starts.get(marker) ?? 0)) report(`tool ${marker} ended ${count} times but started ${journal.starts.get(marker) ?? 0} times`);
  }
  for (const [id, found] of results) {
    const result = found[0];
    if (result?.type !== 'agent.tool_result') continue;
    const started = journal.starts.get(id) ?? 0;
    const ended = journal.ends.get(id) ?? 0;
    if (result.payload.status === 'completed') {
      if (started !== 1 || ended !== 1) report(`tool ${id} is recorded completed, but the journal has ${started} start(s) and ${ended} end(s)`, result.seq);
      if (result.payload.is_error) report(`tool ${id} completed with an error`, result.seq);
    } else if (result.payload.status === 'interrupted') {
      if (!result.payload.is_error) report(`interrupted tool ${id} is not marked is_error`, result.seq);
      if (!/not run again/i.test(resultText(result))) report(`interrupted tool ${id} does not tell the model it was not run again`, result.seq);
    } else {
      report(`tool ${id} has status ${result.payload.status}`, result.seq);
    }
    if (started > ended && result.payload.status !== 'interrupted') report(`tool ${id} was cut mid-run (start without end) but is recorded ${result.payload.status}`, result.seq);
  }

  // 5. Both turns ended normally, and the last request was a valid conversation answered normally.
  const last = events.at(-1);
  if (last?.type !== 'session.status_idle' || last.payload.stop_reason.type !== 'end_turn') report('the session does not end idle with end_turn', last?.seq);
  const idles = events.filter((event) => event.type === 'session.status_idle');
  const asked = events.filter((event) => event.type === 'user.message');
  if (asked.length !== 2) report(`${asked.length} user messages (expected 2)`, asked[2]?.seq);
  for (const idle of idles) {
    if (idle.type === 'session.status_idle' && idle.payload.stop_reason.type !== 'end_turn') report(`a turn ended with ${idle.payload.stop_reason.type}`, idle.seq);
  }
  if (idles.length !== 2) report(`${idles.length} idle events (expected 2)`, idles[2]?.seq);
  for (const refusal of refusals.filter((r) => r.session === run.sessionId)) report(`the model server refused request ${refusal.index}: ${refusal.reason}`);
  const final = run.requests.at(-1);
  if (!final) report('the model server saw no request');
  else out.push(...conversationProblems(final.body, events).map((problem) => `${run.label} (${run.dir}): final request: ${problem}`));
  const turnStarts = events.filter((event) => event.type === 'span.model_request_start' && event.payload.purpose === 'turn').length;
  if (run.requests.length > turnStarts) report(`the model server saw ${run.requests.length} requests, but the log has ${turnStarts} request spans`);

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
      if (event.payload.is_error && (next?.type !== 'session.error' || next.payload.error.type !== 'response_lost' || next.payload.retry_status.type !== 'retrying')) {
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
  const sent = new Map(turns.flatMap((turn) => turn.blocks.filter((block) => block.type === 'tool_result').map((block) => [String(block.tool_use_id), block] as const)));
  for (const event of events) {
    if (event.type !== 'agent.tool_result') continue;
    const block = sent.get(event.payload.tool_use_id);
    const text = (Array.isArray(block?.content) ? (block.content as Block[]) : []).map((part) => String(part.text ?? '')).join('');
    if (!block) problems.push(`the result of ${event.payload.tool_use_id} was never sent to the model`);
    else if (text !== resultText(event) || (block.is_error === true) !== event.payload.is_error) {
      problems.push(`the model was sent ${JSON.stringify(text)} (is_error ${String(block.is_error)}) for ${event.payload.tool_use_id}, the log has ${JSON.stringify(resultText(event))}`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------ where kills land

type Site = 'mid-stream' | 'tool-run' | 'tool-done-unrecorded' | 'before-first-commit' | 'between-events';

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
function kills(run: Run): Kill[] {
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
function killProblems(run: Run, found: Kill[]): string[] {
  const problems: string[] = [];
  const at = (seq: number): StoredEvent | undefined => run.events[seq - 1];
  for (const kill of found) {
    if (kill.openSpan !== null) {
      // The end that pairs with the open start: the first end after it.
      const end = run.events.find((event) => event.seq > (kill.openSpan as number) && event.type === 'span.model_request_end');
      const next = end ? at(end.seq + 1) : undefined;
      if (end?.type !== 'span.model_request_end' || !end.payload.is_error || next?.type !== 'session.error' || next.payload.error.type !== 'response_lost') {
        problems.push(`${run.label} (${run.dir}): request #${kill.openSpan} was cut by a kill but is not closed as failed + response_lost\n${around(run.events, kill.openSpan, 6)}`);
      }
    }
    for (const marker of kill.running) {
      const result = run.events.find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === marker);
      if (result?.type !== 'agent.tool_result' || result.payload.status !== 'interrupted') {
        problems.push(`${run.label} (${run.dir}): tool ${marker} was cut by a kill but is not recorded interrupted${result ? `\n${around(run.events, result.seq)}` : ''}`);
      }
    }
  }
  const cutSpans = new Set(found.flatMap((kill) => (kill.openSpan === null ? [] : [kill.openSpan])));
  const lost = run.events.filter((event) => event.type === 'session.error' && event.payload.error.type === 'response_lost').length;
  if (lost !== cutSpans.size) problems.push(`${run.label} (${run.dir}): ${cutSpans.size} requests were cut by kills, but the log has ${lost} response_lost errors`);
  return problems;
}

// ------------------------------------------------------------------------------ the test

async function inPool<T>(count: number, next: () => (() => Promise<T>) | undefined): Promise<T[]> {
  const out: T[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      for (let task = next(); task; task = next()) out.push(await task());
    }),
  );
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe('harness under SIGKILL', () => {
  it(`loses, duplicates and silently re-runs nothing across ${RUNS} killed runs`, { timeout: 300_000 }, async () => {
    const started = performance.now();
    const problems: string[] = [];
    const notes: string[] = [];
    /** Records a finished run's problems; a run without any is deleted, a failing one kept for inspection. */
    const check = (run: Run, more: string[] = []): void => {
      const found = [...violations(run), ...more];
      problems.push(...found);
      for (const life of run.lives) if (life.stderr.trim() !== '') notes.push(`${run.label}: ${life.stderr.trim().split('\n')[0]}`);
      if (found.length === 0) rmSync(run.dir, { recursive: true, force: true });
    };

    // Unkilled runs, as many at once as the killed ones will be: how long a session lasts.
    let baselines = 0;
    const baseline = await inPool(CONCURRENCY, () => (baselines++ < CONCURRENCY ? () => driveRun(`baseline ${baselines}`, []) : undefined));
    const span = median(baseline.map((run) => (run.lives[0]?.doneAt ?? 0) - (run.lives[0]?.readyAt ?? 0)));
    for (const run of baseline) check(run);

    // Slot i kills its first life at a point in the i-th Nth of the session, so kills cover all
    // of it; a run that finished before its kill is redone earlier. Every third run is killed
    // again soon after the restart, while it recovers (not more: each life costs ~0.6 s of CPU).
    const slots = Array.from({ length: RUNS }, (_, i) => ({ i, fraction: (i + Math.random()) / RUNS, tries: 0 }));
    let unkilled = 0;
    const sites = new Map<Site, number>();
    let killCount = 0;
    const runs = await inPool(CONCURRENCY, () => {
      const slot = slots.shift();
      if (!slot) return undefined;
      return async () => {
        const second = slot.i % 3 === 1 ? Math.random() * 40 : null;
        const run = await driveRun(`run ${slot.i}${slot.tries > 0 ? ` try ${slot.tries + 1}` : ''}`, [slot.fraction * span, second]);
        const found = kills(run);
        check(run, killProblems(run, found));
        for (const kill of found) sites.set(kill.site, (sites.get(kill.site) ?? 0) + 1);
        killCount += found.length;
        if (!run.lives[0]?.killed) {
          unkilled++;
          if (slot.tries < 4) slots.push({ ...slot, fraction: slot.fraction * 0.85, tries: slot.tries + 1 });
        }
        return run;
      };
    });
    const killed = runs.filter((run) => run.lives[0]?.killed);
    const lives = runs.reduce((sum, run) => sum + run.lives.length, 0);
    console.log(
      [
        `harness crash test: ${killed.length} killed runs (+${unkilled} that finished before their kill, +${baseline.length} baseline), ${lives} child lives, ${killCount} kills, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        `  session span (ready → done, median of baselines): ${span.toFixed(0)} ms at concurrency ${CONCURRENCY}`,
        `  kills: mid-stream ${sites.get('mid-stream') ?? 0}, during a tool run ${sites.get('tool-run') ?? 0}, ` +
          `tool done but result unrecorded ${sites.get('tool-done-unrecorded') ?? 0}, between events ${sites.get('between-events') ?? 0}, ` +
          `before the restarted life's first commit ${sites.get('before-first-commit') ?? 0}`,
        `  responses lost and re-sent: ${runs.reduce((sum, run) => sum + run.events.filter((e) => e.type === 'session.error').length, 0)}, ` +
          `tools recorded interrupted: ${runs.reduce((sum, run) => sum + run.events.filter((e) => e.type === 'agent.tool_result' && e.payload.status === 'interrupted').length, 0)}`,
        ...(notes.length > 0 ? [`  child stderr (first lines): ${notes.slice(0, 5).join(' | ')}`] : []),
      ].join('\n'),
    );
    if (problems.length > 0) console.error(problems.join('\n\n'));

    expect(problems).toEqual([]);
    expect(killed.length).toBeGreaterThanOrEqual(RUNS);
    expect(sites.get('mid-stream') ?? 0).toBeGreaterThan(0);
    expect(sites.get('tool-run') ?? 0).toBeGreaterThan(0);
    expect(sites.get('between-events') ?? 0).toBeGreaterThan(0);
  });
});

// SessionStore on real SQLite files in temp dirs: the log, invariants, export/import (forks and branches: store-forks.test.ts).
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_TYPES, StoredEventSchema, type NewEvent, type StoredEvent } from '#shared/events';
import { appError } from '#test/support/app-error';
import { tempDir } from '#test/support/system';
import { SCHEMA_VERSION } from './schema.ts';
import { DB_FILE, MAX_EVENT_BYTES, SessionStore } from './store.ts';

function text(value: string): NewEvent {
  return { type: 'agent.message', payload: { content: [{ type: 'text', text: value }] } };
}

function userText(value: string): NewEvent {
  return { type: 'user.message', payload: { content: [{ type: 'text', text: value }] } };
}

/** One example of every event type, so contract and round trips cover them all. */
const everyEvent: NewEvent[] = [
  userText('Fix the failing test'),
  { type: 'user.interrupt', payload: { reason: 'wrong direction' } },
  { type: 'user.define_outcome', payload: { description: 'tests pass', rubric: '- all green', max_iterations: 4 } },
  { type: 'session.status_running', payload: {} },
  { type: 'span.model_request_start', payload: { model: 'claude-sonnet-4-5' } },
  { type: 'agent.thinking', payload: { thinking: 'Look at the test first.', signature: 'sig==' } },
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Running the tests.' }] } },
  { type: 'agent.tool_use', payload: { tool_use_id: 'toolu_1', name: 'bash', input: { command: 'npm test' }, hand_id: 'box' } },
  {
    type: 'agent.tool_result',
    payload: {
      tool_use_id: 'toolu_1',
      content: [{ type: 'text', text: '\u001b[32m1 passed\u001b[0m' }],
      is_error: false,
      duration_ms: 812,
    },
  },
  { type: 'agent.mcp_tool_use', payload: { tool_use_id: 'toolu_2', server_name: 'memory', name: 'read_graph', input: {} } },
  {
    type: 'agent.mcp_tool_result',
    payload: { tool_use_id: 'toolu_2', content: [{ type: 'text', text: '{}' }], structured_content: { entities: [] }, is_error: false },
  },
  {
    type: 'agent.thread_context_compacted',
    payload: { summary: 'Earlier: ran tests.', through_seq: 8, tokens_before: 9000, tokens_after: 1200 },
  },
  {
    type: 'span.model_request_end',
    payload: {
      model: 'claude-sonnet-4-5',
      usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 40 },
      stop_reason: 'end_turn',
      is_error: false,
      duration_ms: 1234.5,
    },
  },
  {
    type: 'session.error',
    payload: {
      error: { type: 'overloaded_error', message: 'Overloaded', status: 529 },
      retry_status: { type: 'retrying', attempt: 1, delay_ms: 500 },
    },
  },
  { type: 'span.outcome_evaluation_start', payload: { iteration: 1 } },
  { type: 'span.outcome_evaluation_end', payload: { iteration: 1, result: 'satisfied', explanation: 'All criteria met.' } },
  { type: 'hand.provisioning', payload: { hand_id: 'box', phase: 'pulling', progress: { current: 10, total: 100 } } },
  { type: 'hand.ready', payload: { hand_id: 'box' } },
  { type: 'hand.lost', payload: { hand_id: 'box', reason: 'container exited (137)' } },
  { type: 'hand.failed', payload: { hand_id: 'box', message: 'The Docker engine is not reachable' } },
  { type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'docker', image: 'debian:bookworm' } } },
  { type: 'hand.detached', payload: { hand_id: 'box' } },
  { type: 'hand.snapshot', payload: { hand_id: 'box', at_seq: 3, image: 'drover-snapshot-x:s-box-3', bytes: 1024, duration_ms: 120 } },
  {
    type: 'session.configured',
    payload: { model: 'claude-sonnet-4-5', max_tokens: 8192, system: 'Be brief.', thinking_budget: 2048, context_budget: null },
  },
  { type: 'session.forked', payload: { parent_session_id: '7f1c2d8e-0000-4000-8000-000000000000', at_seq: 3 } },
  // Guardrails (issue 18).
  { type: 'policy.set', payload: { hand: 'box', tool: null, policy: 'always_ask' } },
  {
    type: 'policy.rule_added',
    payload: { rule_id: 'rule_1', hand: 'box', tool: 'bash', rule: { type: 'command_prefix', prefix: 'npm test' } },
  },
  { type: 'policy.rule_removed', payload: { rule_id: 'rule_1' } },
  {
    type: 'session.budget_set',
    payload: { budget: { type: 'limit', max_list_cost: { amount: '2500', currency: 'USD' }, max_tokens: 1_000_000 } },
  },
  {
    type: 'agent.tool_use',
    payload: { tool_use_id: 'toolu_3', name: 'box__bash', input: { command: 'rm -rf build' }, hand_id: 'box', evaluated_permission: 'ask' },
  },
  {
    type: 'session.status_idle',
    payload: { stop_reason: { type: 'requires_action', event_ids: ['3f1c2d8e-0000-4000-8000-000000000001'] } },
  },
  { type: 'user.tool_confirmation', payload: { tool_use_id: 'toolu_3', result: 'deny', deny_message: 'Not on my laptop.' } },
  { type: 'span.tool_run_start', payload: { tool_use_id: 'toolu_3' } },
  {
    type: 'session.usage',
    payload: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 40, list_cost_cents: 0.087 },
  },
  { type: 'session.status_idle', payload: { stop_reason: { type: 'budget_reached', message: 'The session reached its budget.' } } },
  { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
  {
    type: 'session.custom_tools_set',
    payload: { tools: [{ name: 'lookup', description: 'Looks a ticket up.', input_schema: { type: 'object', properties: {} } }] },
  },
  { type: 'system.message', payload: { content: [{ type: 'text', text: 'The CI run is red.' }] } },
  { type: 'agent.custom_tool_use', payload: { tool_use_id: 'toolu_4', name: 'lookup', input: { id: 7 } } },
  {
    type: 'user.custom_tool_result',
    payload: { custom_tool_use_id: '3f1c2d8e-0000-4000-8000-000000000002', content: [], is_error: false },
  },
  {
    type: 'hand.checkpoint',
    payload: {
      hand_id: 'box',
      at_seq: 3,
      manifest: 'a'.repeat(64),
      parent: null,
      base: 'busybox:latest',
      captured_at: 1764750000,
      changed_paths: 2,
      bytes_stored: 512,
      duration_ms: 17,
    },
  },
  {
    type: 'hand.checkpoints_pruned',
    payload: { hand_id: 'box', at_seqs: [3], manifests: ['a'.repeat(64)], reason: 'Thin old checkpoints' },
  },
  // Threads (issue 21).
  {
    type: 'session.roster_set',
    payload: { agents: [{ name: 'reviewer', model: 'claude-haiku-4-5', tools: ['box__bash'] }], self_copies: true },
  },
  {
    type: 'session.thread_created',
    payload: {
      session_thread_id: 'sthr_0123456789ab',
      agent_name: 'reviewer',
      task: 'Review it',
      hands: [{ hand: 'box', mode: 'shared' }],
    },
  },
  { type: 'hand.terminal_opened', payload: { hand_id: 'box', terminal_id: 'term_0123456789abcdef' } },
  { type: 'hand.terminal_closed', payload: { hand_id: 'box', terminal_id: 'term_0123456789abcdef', opened_seq: 3, ended: 'closed' } },
  { type: 'hand.thread_access', payload: { hand: 'box', session_thread_id: 'sthr_0123456789ab', mode: 'shared', action: 'granted' } },
  { type: 'session.thread_status_running', payload: { session_thread_id: 'sthr_0123456789ab' } },
  { type: 'agent.message', payload: { content: [{ type: 'text', text: 'Looks fine.' }], session_thread_id: 'sthr_0123456789ab' } },
  {
    type: 'agent.thread_message_sent',
    payload: { session_thread_id: 'sthr_0123456789ab', content: [{ type: 'text', text: 'Looks fine.' }] },
  },
  {
    type: 'agent.thread_message_received',
    payload: { from_thread_id: 'sthr_0123456789ab', content: [{ type: 'text', text: 'Looks fine.' }] },
  },
  { type: 'session.thread_status_idle', payload: { session_thread_id: 'sthr_0123456789ab', stop_reason: { type: 'end_turn' } } },
  { type: 'session.thread_status_terminated', payload: { session_thread_id: 'sthr_0123456789ab', reason: 'ended by the coordinator' } },
  { type: 'session.thread_archived', payload: { session_thread_id: 'sthr_0123456789ab' } },
  { type: 'session.status_terminated', payload: { reason: 'deleted by user' } },
];

let dir: string;
let store: SessionStore;

beforeEach(() => {
  dir = tempDir('drover-store-');
  store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sessions and the append-only log', () => {
  it('covers every event type in the contract', () => {
    expect(new Set(everyEvent.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
  });

  it('appends events with dense seq, uuid ids and ISO timestamps, and reads them back', () => {
    const session = store.createSession({ title: 'First' });
    const stored = everyEvent.map((event) => store.emitEvent(session.id, event));
    expect(stored.map((e) => e.seq)).toEqual(everyEvent.map((_, i) => i + 1));
    for (const event of stored) expect(StoredEventSchema.parse(event)).toEqual(event);
    expect(store.getEvents(session.id)).toEqual(stored);
    expect(store.getSession(session.id)).toMatchObject({ id: session.id, title: 'First', lastSeq: everyEvent.length, parentId: null });
  });

  it('keeps an id the caller promised (a streamed preview), and refuses one that is not a uuid', () => {
    const session = store.createSession({ title: 'Promised ids' });
    const id = '0f0e0d0c-0b0a-4908-8706-050403020100';
    const [message] = store.emitEvents(session.id, [{ type: 'agent.message', payload: { content: [{ type: 'text', text: 'hi' }] }, id }]);
    expect(message?.id).toBe(id);
    expect(store.emitEvent(session.id, { type: 'user.interrupt', payload: {} }).id).not.toBe(id);
    expect(() => store.emitEvent(session.id, { type: 'user.interrupt', payload: {}, id: 'not-a-uuid' })).toThrow(/id that is not a uuid/);
    expect(store.getEvents(session.id)).toHaveLength(2);
  });

  it('applies payload defaults when storing', () => {
    const session = store.createSession({ title: 'Defaults' });
    const outcome = store.emitEvent(session.id, { type: 'user.define_outcome', payload: { description: 'd', rubric: 'r' } });
    expect(outcome.payload).toEqual({ description: 'd', rubric: 'r', max_iterations: 3, grader_model: null });
  });

  it('keeps everything across close and reopen', () => {
    const session = store.createSession({ title: 'Durable' });
    const stored = store.emitEvents(session.id, everyEvent);
    store.close();
    store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
    expect(store.getEvents(session.id)).toEqual(stored);
    expect(store.listSessions().map((s) => s.id)).toEqual([session.id]);
    expect(store.emitEvent(session.id, text('after reopen')).seq).toBe(stored.length + 1);
  });

  it('lists sessions most recently active first', async () => {
    const a = store.createSession({ title: 'A' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const b = store.createSession({ title: 'B' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    store.emitEvent(a.id, text('a is newer now'));
    expect(store.listSessions().map((s) => s.title)).toEqual(['A', 'B']);
    expect(store.listSessions().find((s) => s.id === b.id)?.lastSeq).toBe(0);
  });

  it('slices by afterSeq, beforeSeq, limit, type and direction', () => {
    const session = store.createSession({ title: 'Slices' });
    for (let i = 1; i <= 50; i++) store.emitEvent(session.id, i % 5 === 0 ? userText(`u${i}`) : text(`a${i}`));
    const seqs = (query: Parameters<SessionStore['getEvents']>[1]) => store.getEvents(session.id, query).map((e) => e.seq);
    expect(seqs({ afterSeq: 10, limit: 3 })).toEqual([11, 12, 13]);
    expect(seqs({ beforeSeq: 4 })).toEqual([1, 2, 3]);
    expect(seqs({ afterSeq: 45 })).toEqual([46, 47, 48, 49, 50]);
    expect(seqs({ afterSeq: 10, beforeSeq: 20, limit: 3, direction: 'backward' })).toEqual([17, 18, 19]);
    expect(seqs({ direction: 'backward', limit: 2 })).toEqual([49, 50]);
    expect(seqs({ types: ['user.message'] })).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(seqs({ types: ['user.message'], afterSeq: 12, limit: 2 })).toEqual([15, 20]);
    expect(seqs({ types: ['user.message', 'hand.lost'], direction: 'backward', limit: 2 })).toEqual([45, 50]);
    expect(seqs({ afterSeq: 50 })).toEqual([]);
  });

  it('delivers appended events to subscribers, and a throwing subscriber breaks nothing', () => {
    const errors: unknown[] = [];
    store.close();
    store = SessionStore.open({ dataDir: dir, onListenerError: (error) => errors.push(error) });
    const session = store.createSession({ title: 'Live' });
    const other = store.createSession({ title: 'Other' });
    const seen: StoredEvent[] = [];
    const everywhere: string[] = [];
    store.subscribe(session.id, () => {
      throw new Error('listener bug');
    });
    const unsubscribe = store.subscribe(session.id, (event) => seen.push(event));
    store.subscribeAll((sessionId, event) => everywhere.push(`${sessionId === session.id ? 'S' : 'O'}${event.seq}`));
    const first = store.emitEvent(session.id, text('one'));
    store.emitEvent(other.id, text('elsewhere'));
    unsubscribe();
    store.emitEvent(session.id, text('two'));
    expect(seen).toEqual([first]);
    expect(everywhere).toEqual(['S1', 'O1', 'S2']);
    expect(errors).toHaveLength(2);
    expect(store.getEvents(session.id)).toHaveLength(2);
  });
});

describe('bad input is refused and writes nothing', () => {
  it('rejects an invalid payload with a typed validation error', () => {
    const session = store.createSession({ title: 'Strict' });
    store.emitEvent(session.id, text('kept'));
    const error = appError(() =>
      store.emitEvent(session.id, {
        type: 'agent.tool_use',
        payload: { tool_use_id: '', name: 'bash', input: 'ls' },
      } as unknown as NewEvent),
    );
    expect(error.code).toBe('invalid-argument');
    expect(error.issues?.map((i) => i.path).sort()).toEqual(['payload.input', 'payload.tool_use_id']);
    expect(error.message).toMatch(/Nothing was saved/);
    expect(store.getEvents(session.id).map((e) => e.seq)).toEqual([1]);
  });

  it('rejects unknown types and unknown payload fields', () => {
    const session = store.createSession({ title: 'Strict' });
    expect(appError(() => store.emitEvent(session.id, { type: 'agent.nope', payload: {} } as unknown as NewEvent)).code).toBe(
      'invalid-argument',
    );
    expect(
      appError(() => store.emitEvent(session.id, { type: 'hand.ready', payload: { hand_id: 'h', secret: 'x' } } as unknown as NewEvent))
        .issues,
    ).toEqual([{ path: 'payload', message: expect.stringContaining('secret') }]);
    expect(store.getEvents(session.id)).toEqual([]);
  });

  it('writes none of a batch when one event is invalid', () => {
    const session = store.createSession({ title: 'Batch' });
    const error = appError(() =>
      store.emitEvents(session.id, [text('a'), text('b'), { type: 'hand.ready', payload: {} } as unknown as NewEvent]),
    );
    expect(error.message).toMatch(/^Event 3 of the batch/);
    expect(store.getEvents(session.id)).toEqual([]);
    expect(store.emitEvent(session.id, text('first real')).seq).toBe(1);
  });

  it('refuses an event over the size limit', () => {
    const session = store.createSession({ title: 'Huge' });
    const error = appError(() => store.emitEvent(session.id, text('x'.repeat(MAX_EVENT_BYTES))));
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toMatch(/the limit is 8388608\. Large outputs belong in a file/);
    expect(store.getEvents(session.id)).toEqual([]);
  });

  it('says which session is missing', () => {
    const error = appError(() => store.emitEvent('00000000-0000-4000-8000-000000000000', text('x')));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('00000000-0000-4000-8000-000000000000');
  });
});

describe('the database itself enforces the log', () => {
  function raw(): Database.Database {
    store.close();
    return new Database(path.join(dir, DB_FILE));
  }

  it('aborts UPDATE and DELETE on events, and gaps or repeats in seq', () => {
    const session = store.createSession({ title: 'Guarded' });
    store.emitEvents(session.id, [text('a'), text('b')]);
    const db = raw();
    try {
      expect(() => db.prepare("UPDATE events SET event = '{}'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
      const insert = db.prepare("INSERT INTO events (session_pk, seq, type, event) VALUES (1, ?, 1, '{}')");
      expect(() => insert.run(4)).toThrow(/dense/);
      expect(() => insert.run(2)).toThrow();
      expect(() => db.prepare('UPDATE sessions SET fork_seq = 1').run()).toThrow(/cannot be changed/);
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2);
    } finally {
      db.close();
      store = SessionStore.open({ dataDir: dir });
    }
  });

  it('finds landmark types through the partial index and scans only for per-turn types', () => {
    const session = store.createSession({ title: 'Plans' });
    store.emitEvents(session.id, [userText('a'), text('b')]);
    const db = raw();
    try {
      const plan = (sql: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((row) => row.detail).join(' | ');
      // The store pins landmark filters to the partial index; SQLite refuses INDEXED BY outright
      // ("no query solution") if the index could not serve the query.
      expect(
        plan(
          'SELECT event FROM events INDEXED BY events_landmarks WHERE session_pk = 1 AND seq BETWEEN 1 AND 9 AND landmark IN (1, 2) ORDER BY seq LIMIT 5',
        ),
      ).toMatch(/USING (COVERING )?INDEX events_landmarks/);
      const rows = db.prepare('SELECT landmark IS NULL AS perTurn FROM events ORDER BY seq').pluck().all();
      expect(rows).toEqual([0, 1]);
    } finally {
      db.close();
      store = SessionStore.open({ dataDir: dir });
    }
  });

  it('records the schema version and refuses a database from a newer Drover without touching it', async () => {
    const db = raw();
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.prepare("UPDATE meta SET value = '9.0.0' WHERE key = 'app_version'").run();
    db.close();
    const { readFileSync } = await import('node:fs');
    const before = readFileSync(path.join(dir, DB_FILE));
    const error = appError(() => SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' }));
    expect(error.code).toBe('storage-too-new');
    expect(error.message).toContain(path.join(dir, DB_FILE));
    expect(error.message).toContain('Drover 9.0.0');
    expect(error.message).toMatch(/Update Drover/);
    expect(readFileSync(path.join(dir, DB_FILE)).equals(before)).toBe(true);
    const fix = new Database(path.join(dir, DB_FILE));
    fix.pragma(`user_version = ${SCHEMA_VERSION}`);
    fix.close();
    store = SessionStore.open({ dataDir: dir });
  });
});

describe('timeline', () => {
  it('lists every event type in order across fork segments', () => {
    const root = store.createSession({ title: 'T' });
    store.emitEvents(root.id, [userText('hi'), { type: 'session.status_running', payload: {} }, text('a'), text('b')]);
    const branch = store.rewind(root.id, 3);
    store.emitEvent(branch.id, { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } });
    const timeline = store.getTimeline(branch.id);
    expect(timeline.lastSeq).toBe(5);
    expect(timeline.codes.map((code) => timeline.types[code])).toEqual([
      'user.message',
      'session.status_running',
      'agent.message',
      'session.forked',
      'session.status_idle',
    ]);
    expect(store.getTimeline(store.createSession({ title: 'empty' }).id)).toMatchObject({ lastSeq: 0, codes: [] });
  });
});

describe('migration', () => {
  it('upgrades a version 1 database: roots stay roots, forks become forks, nothing is lost', () => {
    const root = store.createSession({ title: 'Old' });
    store.emitEvents(root.id, [text('1'), text('2')]);
    const fork = store.fork(root.id, 1);
    store.close();
    // Take the file back to schema 1 as an older Drover wrote it.
    const db = new Database(path.join(dir, DB_FILE));
    db.exec(`ALTER TABLE sessions DROP COLUMN imported_seq;
             DROP TRIGGER sessions_kind_fixed; DROP TRIGGER sessions_kind_consistent; DROP INDEX sessions_by_current;
             ALTER TABLE sessions DROP COLUMN current_pk; ALTER TABLE sessions DROP COLUMN kind; PRAGMA user_version = 1;`);
    db.close();
    store = SessionStore.open({ dataDir: dir });
    expect(store.getSession(root.id)).toMatchObject({ kind: 'root', currentBranchId: root.id });
    expect(store.getSession(fork.id)).toMatchObject({ kind: 'fork', conversationId: fork.id });
    expect(store.getEvents(fork.id)).toHaveLength(2);
  });
});

describe('export and import', () => {
  it('round-trips a forked session exactly, inherited events included', () => {
    const root = store.createSession({ title: 'Exported' });
    store.emitEvents(root.id, everyEvent.slice(0, 10));
    const fork = store.fork(root.id, 7, { title: 'Branch' });
    store.emitEvents(fork.id, everyEvent.slice(10));
    const exported = [...store.exportSession(fork.id)];
    expect(exported).toHaveLength(1 + store.getSession(fork.id).lastSeq);

    const imported = store.importSession([exported.join('\n')]);
    expect(imported).toMatchObject({ title: 'Branch', parentId: null, lastSeq: store.getSession(fork.id).lastSeq });
    expect(imported.id).not.toBe(fork.id);
    expect(store.getEvents(imported.id)).toEqual(store.getEvents(fork.id));
    const again = [...store.exportSession(imported.id)];
    expect(again.slice(1)).toEqual(exported.slice(1));
    expect(JSON.parse(again[0] ?? '').event_count).toBe(JSON.parse(exported[0] ?? '').event_count);
    expect(store.emitEvent(imported.id, text('continues')).seq).toBe(imported.lastSeq + 1);
  });

  it('refuses a damaged file, naming the line, and imports nothing', () => {
    const session = store.createSession({ title: 'Source' });
    store.emitEvents(session.id, [userText('a'), text('b'), text('c')]);
    const lines = [...store.exportSession(session.id)];
    const cases: Array<[string[], RegExp]> = [
      [[], /line 1 is missing/],
      [['not json', ...lines.slice(1)], /line 1 is not JSON/],
      [[lines[0] ?? '', lines[1] ?? '', lines[3] ?? ''], /line 3 has seq 3 where 2 was expected/],
      [lines.slice(0, 3), /truncated/],
      [
        [lines[0] ?? '', (lines[1] ?? '').replace('"user.message"', '"user.shout"'), ...lines.slice(2)],
        /line 2 is not a valid event \(type:/,
      ],
      [
        [lines[0] ?? '', (lines[1] ?? '').replace(/"ts":"[^"]+"/, '"ts":"yesterday"'), ...lines.slice(2)],
        /line 2 .*ts: must be a UTC timestamp/,
      ],
    ];
    for (const [input, message] of cases) {
      const error = appError(() => store.importSession(input));
      expect(error.code).toBe('invalid-argument');
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/Nothing was imported/);
    }
    expect(store.listSessions()).toHaveLength(1);
  });
});

describe('redaction', () => {
  it('stores payloads through the redactor, after validating them', () => {
    const session = store.createSession({ title: 'R' });
    store.useRedactor((payload) => JSON.parse(JSON.stringify(payload).replaceAll('hunter22-secret', '[redacted]')));
    const stored = store.emitEvent(session.id, text('the password is hunter22-secret'));
    expect(JSON.stringify(stored)).not.toContain('hunter22-secret');
    expect(JSON.stringify(store.getEvents(session.id))).toContain('the password is [redacted]');
    expect(() => store.emitEvent(session.id, { type: 'agent.message', payload: { content: 'hunter22-secret' } } as never)).toThrow(
      /invalid/,
    );
    store.useRedactor(null);
    expect(JSON.stringify(store.emitEvent(session.id, text('plain')))).toContain('plain');
  });
});

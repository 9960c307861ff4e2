/**
 * Reads a session's log and folds it (state.ts) — the one way both a wake and Drover's start-up
 * learn where a session stands. Only the events from the latest compaction on are read; what a
 * compaction leaves behind that still matters (the settings, the last status, the outcome and its
 * evaluations, the custom tools) seeds the fold; its system messages lead the view.
 */
import type { StoredEvent } from '#shared/events';
import { MAX_EVENTS_PER_QUERY } from '#shared/sessions';
import type { SessionStore } from '#services/session/store';
import { emptyGuardrails, guardrailsOf, type GuardrailsState } from './approvals.ts';
import { applyEvent, emptyState, foldOutcome, stateOf, type SessionState } from './state.ts';

/** Reads every event of the given types (all events when omitted) in pages. */
export function readAll(store: SessionStore, sessionId: string, types?: StoredEvent['type'][], afterSeq = 0): StoredEvent[] {
  const out: StoredEvent[] = [];
  const limit = 10_000;
  for (let after = afterSeq; ;) {
    const page = store.getEvents(sessionId, { afterSeq: after, limit, ...(types ? { types } : {}) });
    for (const event of page) out.push(event);
    if (page.length < limit) return out;
    after = (page.at(-1) as StoredEvent).seq;
  }
}

/** The session's guardrails folded from its whole log (policies set before a compaction still hold). */
export function guardrailsOfSession(store: SessionStore, sessionId: string, events?: readonly StoredEvent[]): GuardrailsState {
  const importedSeq = store.getSession(sessionId).importedSeq ?? 0;
  return guardrailsOf(events ?? readAll(store, sessionId), emptyGuardrails({ importedSeq }));
}

/**
 * The session's events from its latest compaction on, and its state folded from the log; with
 * `guardrails`, also its guardrails (from the whole log). Synchronous.
 */
export function foldLog(
  store: SessionStore,
  sessionId: string,
  options: { guardrails?: boolean } = {},
): { events: StoredEvent[]; state: SessionState; guardrails: GuardrailsState | null } {
  const [compaction] = store.getEvents(sessionId, { types: ['agent.thread_context_compacted'], direction: 'backward', limit: 1 });
  const seed = emptyState();
  seed.importedSeq = store.getSession(sessionId).importedSeq ?? 0;
  let from = 0;
  if (compaction?.type === 'agent.thread_context_compacted') {
    from = compaction.payload.through_seq;
    const before = { beforeSeq: from + 1, direction: 'backward', limit: 1 } as const;
    const [settings] = store.getEvents(sessionId, { ...before, types: ['session.configured'] });
    const [status] = store.getEvents(sessionId, {
      ...before,
      types: ['session.status_running', 'session.status_idle', 'session.status_terminated'],
    });
    if (settings) applyEvent(seed, settings);
    if (status) applyEvent(seed, status);
    // The custom tools stay offered past a compaction.
    const [customTools] = store.getEvents(sessionId, { ...before, types: ['session.custom_tools_set'] });
    if (customTools) applyEvent(seed, customTools);
    // The outcome and its evaluations so far stay in force past a compaction.
    const [definition] = store.getEvents(sessionId, { ...before, types: ['user.define_outcome'] });
    if (definition) {
      const outcomeEvents = store.getEvents(sessionId, {
        afterSeq: definition.seq - 1,
        beforeSeq: from + 1,
        types: ['user.define_outcome', 'span.outcome_evaluation_start', 'span.outcome_evaluation_end', 'session.status_idle'],
        limit: MAX_EVENTS_PER_QUERY,
      });
      for (const event of outcomeEvents) seed.outcome = foldOutcome(seed.outcome, event);
    }
  }
  // System messages stay in force past a compaction: they lead the view (the context builder puts them in the system prompt).
  const kept = from === 0 ? [] : readAll(store, sessionId, ['system.message']).filter((event) => event.seq <= from);
  const events = [...kept, ...readAll(store, sessionId, undefined, from)];
  const guardrails = options.guardrails === true ? guardrailsOfSession(store, sessionId, from === 0 ? events : undefined) : null;
  return { events, state: stateOf(events, seed), guardrails };
}

/**
 * The sessions the UI bench opens (split from bench/ui.ts): turns of events as the harness records
 * them, deterministic from a seeded generator so every run and both sessions hold the same mix.
 * It must never write anything but the two bench sessions into the temp data dir it is given.
 */
import type { NewEvent } from '#shared/events';
import type { SessionStore } from '#services/session/store';
import { rng } from '../session-store.ts';

const WORDS =
  'the agent ran tests in the container and fixed a failing import then checked the output again before it said done with a short summary of changes'.split(
    ' ',
  );

/**
 * One turn as the harness records it (user message, running, model span, thinking, answer with
 * a code block, a bash call and its coloured output, idle): deterministic, so every run and
 * both sessions hold the same mix.
 */
function turnEvents(turn: number, random: () => number): NewEvent[] {
  const words = (min: number, max: number) =>
    Array.from({ length: min + Math.floor(random() * (max - min)) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  const toolUseId = `toolu_bench_${turn}`;
  const model = 'claude-sonnet-4-5';
  const answer =
    `**Step ${turn}.** ${words(14, 22)}.\n\n- ${words(4, 8)}\n- ${words(4, 8)}\n\n` +
    `\`\`\`ts\nexport function check${turn}(value: number): boolean {\n  return value > ${turn % 97};\n}\n\`\`\`\n\n${words(10, 16)}.`;
  const outputLines = Array.from(
    { length: 14 },
    (_, line) =>
      `\u001b[32m✓\u001b[0m test/${WORDS[(turn + line) % WORDS.length]}-${line}.test.ts \u001b[2m(${3 + line} tests)\u001b[0m ${Math.floor(random() * 90)}ms`,
  );
  const output = `${outputLines.join('\n')}\n\n\u001b[1m\u001b[32m Test Files  14 passed\u001b[0m (14)\n\u001b[1m      Tests  ${Math.floor(random() * 300)} passed\u001b[0m`;
  return [
    { type: 'user.message', payload: { content: [{ type: 'text', text: `Please ${words(4, 12)}.` }] } },
    { type: 'session.status_running', payload: {} },
    { type: 'span.model_request_start', payload: { model } },
    { type: 'agent.thinking', payload: { thinking: words(20, 40), signature: `sig_${turn.toString(36)}_${'Zm9vYmFy'.repeat(8)}` } },
    { type: 'agent.message', payload: { content: [{ type: 'text', text: answer }] } },
    { type: 'agent.tool_use', payload: { tool_use_id: toolUseId, name: 'box__bash', input: { command: 'npm test' }, hand_id: 'box' } },
    {
      type: 'agent.tool_result',
      payload: {
        tool_use_id: toolUseId,
        content: [{ type: 'text', text: output }],
        is_error: false,
        duration_ms: Math.round(500 + random() * 4000),
      },
    },
    {
      type: 'span.model_request_end',
      payload: {
        model,
        usage: {
          input_tokens: Math.floor(random() * 9e4),
          output_tokens: Math.floor(random() * 4e3),
          cache_read_input_tokens: Math.floor(random() * 8e4),
          cache_creation_input_tokens: Math.floor(random() * 2e3),
        },
        stop_reason: 'end_turn',
        is_error: false,
        duration_ms: Math.round(1000 + random() * 20_000),
      },
    },
    { type: 'session.status_idle', payload: { stop_reason: { type: 'end_turn' } } },
  ];
}

/**
 * Creates a session of exactly `count` events: configuration, a Docker hand, then whole turns.
 * It must end idle: serve mode resumes a session whose last turn is unfinished (crash recovery)
 * and would append events while it is measured. So the count is made up with a few settings
 * changes before the first turn, not with a cut-off last turn.
 */
export function fillSession(store: SessionStore, title: string, count: number): string {
  const { id } = store.createSession({ title });
  const random = rng(42);
  const turnLength = turnEvents(0, rng(0)).length;
  const setup: NewEvent[] = [{ type: 'hand.attached', payload: { hand_id: 'box', config: { kind: 'docker', image: 'debian:bookworm' } } }];
  const turns = Math.floor((count - setup.length - 1) / turnLength);
  const settingsChanges = count - setup.length - turns * turnLength;
  let batch: NewEvent[] = [
    ...Array.from({ length: settingsChanges }, (_, index): NewEvent => ({
      type: 'session.configured',
      payload: { model: 'claude-sonnet-4-5', max_tokens: 8192 + 1024 * index },
    })),
    ...setup,
  ];
  // One fsync'd transaction per ~2000 events keeps the fill to seconds, not minutes.
  for (let turn = 1; turn <= turns; turn++) {
    batch.push(...turnEvents(turn, random));
    if (batch.length >= 2000 || turn === turns) {
      store.emitEvents(id, batch);
      batch = [];
    }
  }
  const written = store.getSession(id).lastSeq;
  if (written !== count) throw new Error(`the ${title} session has ${written} events, not ${count}`);
  return id;
}

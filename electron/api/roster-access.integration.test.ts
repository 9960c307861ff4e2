// A coordinator's roster members keep their definitions (issue 21), through the official SDK: a
// session started from a coordinator agent records each member's tools and permission policies in
// `session.roster_set`, on the coordinator's hands; a thread started as a member whose toolset is
// limited to `bash` and `read`, and whose `bash` asks, is offered only those tools of the hand it is
// passed (plus the thread tools), and its bash call waits for the user's answer — while the
// coordinator's own policy for the same hand allows everything.
import type { RecordedRequest, Reply } from '#test/support/model-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '#shared/events';
import { apiRig, uuidOf, type ApiRig } from '#test/support/api-rig';
import { BUSYBOX_IMAGE } from '#test/support/docker';
import { say, systemOf, toolUse, use } from '#test/support/thread-script';
import { toolAllowed } from '#services/harness/threads-run';
import { externalId } from '#api/ids';

let rig: ApiRig;
const model = 'claude-sonnet-4-6';

beforeEach(async () => {
  rig = await apiRig({ defaultImage: BUSYBOX_IMAGE });
});

afterEach(async () => {
  await rig.close();
});

const toolNames = (request: RecordedRequest | undefined): string[] => (request?.body.tools ?? []).map((tool) => tool.name).sort();

/** The lead starts the tester on its environment hand (shared) and waits; the tester runs one bash command; the lead summarises. */
function script(request: RecordedRequest): Reply {
  const system = systemOf(request);
  const body = JSON.stringify(request.body.messages);
  const results = body.match(/"tool_result"/g)?.length ?? 0;
  if (system.includes('You test.')) return results === 0 ? use(toolUse('toolu_bash', 'bash', { command: 'echo tested' })) : say('Tested.');
  if (results === 0)
    return use(
      toolUse('toolu_start', 'thread_start', { agent: 'Tester', task: 'Run the tests.', hands: [{ hand: 'env', mode: 'shared' }] }),
    );
  if (body.includes('Message from thread')) return say('Summary: the tester is done.');
  return use(toolUse(`toolu_wait_${request.body.messages.length}`, 'thread_wait', {}));
}

describe("a roster member's tools and policies", () => {
  it('a member limited to bash and read, with bash asking: its thread sees only those tools and its bash call waits for approval', async () => {
    const tester = await rig.client.beta.agents.create({
      name: 'Tester',
      model: 'claude-haiku-4-5',
      system: 'You test.',
      tools: [
        {
          type: 'agent_toolset_20260401',
          default_config: { enabled: false, permission_policy: { type: 'always_allow' } },
          configs: [
            { name: 'bash', enabled: true, permission_policy: { type: 'always_ask' } },
            { name: 'read', enabled: true },
          ],
        },
        { type: 'custom', name: 'report', description: 'Report a result', input_schema: { type: 'object', properties: {} } },
      ],
    });
    const lead = await rig.client.beta.agents.create({
      name: 'Lead',
      model,
      system: 'You lead.',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
      multiagent: { type: 'coordinator', agents: [tester.id] },
    });
    const env = await rig.client.beta.environments.create({ name: 'box', config: { type: 'cloud', networking: { type: 'unrestricted' } } });
    for (let turn = 0; turn < 12; turn++) rig.script.push(script);
    const session = await rig.client.beta.sessions.create({
      agent: lead.id,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Test it.' }] }],
    } as never);
    const id = uuidOf(session);

    // The roster carries the member's tools (its enabled toolset tools, under the toolset's names, its custom tool) and its policies.
    const [roster] = rig.store.getEvents(id, { types: ['session.roster_set'] }) as Array<
      Extract<StoredEvent, { type: 'session.roster_set' }>
    >;
    expect(roster?.payload).toEqual({
      agents: [
        {
          name: 'Tester',
          model: 'claude-haiku-4-5',
          system: 'You test.',
          tools: ['bash', 'read', 'report'],
          policies: [
            { hand: 'env', tool: null, policy: 'always_allow' },
            { hand: 'env', tool: 'bash', policy: 'always_ask' },
            { hand: 'env', tool: 'read', policy: 'always_allow' },
          ],
        },
      ],
      self_copies: false,
    });

    // The session idles waiting for the thread's bash call.
    const idle = await waitForIdle(id, 0);
    expect(idle.payload.stop_reason.type).toBe('requires_action');
    const log = rig.store.getEvents(id);
    const bash = log.find((event) => event.type === 'agent.tool_use' && event.payload.name === 'bash');
    expect(bash?.payload).toMatchObject({ evaluated_permission: 'ask', session_thread_id: expect.stringMatching(/^sthr_/) });
    expect(idle.payload.stop_reason).toMatchObject({ event_ids: [bash?.id] });
    expect(log.filter((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_bash')).toEqual([]);

    // The tester's request offered only its tools of the hand (and the thread tools); the lead's offered the whole toolset.
    const testerRequest = rig.model.requests.find((request) => systemOf(request).includes('You test.'));
    const leadRequest = rig.model.requests.find((request) => systemOf(request).includes('You lead.'));
    const toolset = ['bash', 'read', 'write', 'edit', 'glob', 'grep', 'web_fetch', 'web_search'];
    expect(toolNames(testerRequest).filter((name) => toolset.includes(name))).toEqual(['bash', 'read']);
    expect(toolNames(testerRequest).every((name) => toolset.includes(name) || name.startsWith('thread_'))).toBe(true);
    expect(toolNames(leadRequest)).toEqual(expect.arrayContaining(['bash', 'edit', 'glob', 'grep', 'read', 'write']));

    // Through the SDK the user denies it: nothing runs, the tester reads the answer and ends, the lead summarises.
    await rig.client.beta.sessions.events.send(session.id, {
      events: [
        { type: 'user.tool_confirmation', tool_use_id: externalId('event', bash?.id ?? ''), result: 'deny', deny_message: 'Not now.' },
      ],
    });
    const done = await waitForIdle(id, idle.seq);
    expect(done.payload.stop_reason.type).toBe('end_turn');
    const result = rig.store
      .getEvents(id, { types: ['agent.tool_result'] })
      .find((event) => event.type === 'agent.tool_result' && event.payload.tool_use_id === 'toolu_bash');
    expect(result?.payload).toMatchObject({ is_error: true });
    expect(JSON.stringify(result?.payload)).toContain('Not now.');
  }, 90_000);

  it('`<hand>__*` allows every tool of that hand, and nothing else', () => {
    expect(toolAllowed(['docs__*'], 'docs__search')).toBe(true);
    expect(toolAllowed(['docs__*'], 'docs2__search')).toBe(false);
    expect(toolAllowed(['docs__*'], 'env__bash')).toBe(false);
    expect(toolAllowed(['env__bash'], 'env__bash')).toBe(true);
    expect(toolAllowed(['env__bash'], 'env__bash2')).toBe(false);
  });
});

async function waitForIdle(id: string, afterSeq: number): Promise<Extract<StoredEvent, { type: 'session.status_idle' }>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [idle] = rig.store.getEvents(id, { types: ['session.status_idle'], afterSeq }) as Array<
      Extract<StoredEvent, { type: 'session.status_idle' }>
    >;
    if (idle) return idle;
    if (Date.now() > deadline)
      throw new Error(
        `no idle after #${afterSeq}: ${rig.store
          .getEvents(id)
          .map((e) => e.type)
          .join(', ')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// `POST /v1/sessions/{id}/rewind` with `keep` (issue 20's "rewind the conversation, the files, or
// both", Drover's extension of the API): a session whose agent writes a file on the environment's
// Docker hand in two turns, then a conversation-only rewind (a new branch that keeps the files) and a
// files-only rewind (no branch: the same session, the container's file back as after turn one),
// each recorded in the log as the `sessions-rewind` RPC records it. Bad values are refused with a
// 400 naming the field and record nothing.
//
// The official SDK has no rewind method (the service has no rewind): the good calls go through its
// generic `client.post`, bad input through raw `fetch` (what the SDK would never send).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { EventOf, EventType } from '#shared/events';
import { apiRig, endTurn, uuidOf, type ApiRig } from '#test/support/api-rig';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import type { RecordedRequest, Reply } from '#test/support/model-server';

let rig: ApiRig;
let docker = false;

beforeAll(async () => {
  docker = await requireDocker();
}, 120_000);

beforeEach(async () => {
  rig = await apiRig();
});

afterEach(async () => {
  await rig.close();
});

const events = <K extends EventType>(sessionId: string, type: K) => rig.store.getEvents(sessionId, { types: [type] }) as Array<EventOf<K>>;

async function idles(sessionId: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (events(sessionId, 'session.status_idle').length < count) {
    if (Date.now() > deadline)
      throw new Error(`no idle: ${JSON.stringify(rig.store.getEvents(sessionId, { direction: 'backward', limit: 5 }))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await rig.host.hands.settled();
}

/** The model runs `command` with the toolset's bash, then ends its turn. */
function bash(command: string): Array<(request: RecordedRequest) => Reply> {
  return [
    (request) => {
      const name = (request.body.tools ?? []).map((tool) => tool.name).find((each) => each.endsWith('bash'));
      if (name === undefined) return endTurn(`no bash tool in ${JSON.stringify(request.body.tools)}`);
      return { kind: 'message', message: { content: [{ type: 'tool_use', name, input: { command } }], stop_reason: 'tool_use' } };
    },
    () => endTurn('Written.'),
  ];
}

async function raw(
  path: string,
  body: unknown,
): Promise<{ status: number; body: { type: string; error: { type: string; message: string } } }> {
  const response = await fetch(`${rig.api.baseURL}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': rig.client.apiKey ?? '', 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { type: string; error: { type: string; message: string } } };
}

describe('rewind with a choice through the API', () => {
  it('passes keep (files: no branch, the files back; conversation: a branch keeping the files); bad values are a 400 naming keep', async () => {
    if (!docker) return;
    const env = await rig.client.beta.environments.create({
      name: 'box',
      config: { type: 'cloud', networking: { type: 'unrestricted' } },
      metadata: { 'drover.image': BUSYBOX_IMAGE },
    });
    const agent = await rig.client.beta.agents.create({
      name: 'writer',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401', configs: [{ name: 'bash', permission_policy: { type: 'always_allow' } }] }],
    });
    rig.script.push(...bash('echo one > /workspace/f'));
    const session = await rig.client.beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Write one.' }] }],
    });
    const id = uuidOf(session);
    await idles(id, 1);
    rig.script.push(...bash('echo two > /workspace/f'));
    await rig.client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Write two.' }] }],
    });
    await idles(id, 2);
    expect(events(id, 'hand.checkpoint')).toHaveLength(2);
    const container = rig.host.hands.statuses(id)[0]?.container ?? '';
    const file = () => dockerCli('exec', container, 'cat', '/workspace/f').trim();
    expect(file()).toBe('two');
    // The rewind point: the end of turn one, by its id as the events list gives it.
    const listed = await rig.client.beta.sessions.events.list(session.id, { types: ['session.status_idle'] });
    const atEventId = listed.data[0]?.id ?? '';
    const point = events(id, 'session.status_idle')[0]?.seq ?? 0;

    // Bad values: refused, naming the field, nothing recorded.
    const sessions = rig.store.listSessions().length;
    const last = rig.store.getSession(id).lastSeq;
    for (const [path, body] of [
      [`/v1/sessions/${session.id}/rewind`, { at_event_id: atEventId, keep: 'everything' }],
      [`/v1/sessions/${session.id}/rewind`, { at_event_id: atEventId, keep: null }],
      [`/v1/sessions/${session.id}/rewind`, { at_event_id: atEventId, keep: ['files'] }],
      // A fork is always of both: it takes no keep.
      [`/v1/sessions/${session.id}/fork`, { at_event_id: atEventId, keep: 'files' }],
    ] as const) {
      const answer = await raw(path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(answer.body.error.message).toMatch(/keep/);
    }
    expect(rig.store.listSessions()).toHaveLength(sessions);
    expect(rig.store.getSession(id).lastSeq).toBe(last);
    expect(file()).toBe('two');

    // Conversation only: a new branch at the point that keeps the files as they are now (the file says "two").
    const conversation = await rig.client.post<BetaManagedAgentsSession>(`/v1/sessions/${session.id}/rewind`, {
      body: { at_event_id: atEventId, keep: 'conversation' },
    });
    expect(conversation.id).not.toBe(session.id);
    expect(conversation).toMatchObject({ agent: { id: agent.id }, environment_id: env.id });
    const branch = uuidOf(conversation);
    expect(rig.store.getSession(branch)).toMatchObject({ kind: 'rewind', forkSeq: point });
    expect(events(branch, 'hand.checkpoint').map((event) => event.payload.rewind)).toEqual([
      { keep: 'conversation', session_id: id, at_seq: expect.any(Number) as number },
    ]);
    expect(rig.store.listSessions()).toHaveLength(sessions + 1);

    // Files only: the same session answers, no branch, the file as after turn one, the choice in the log.
    const filesOnly = await rig.client.post<BetaManagedAgentsSession>(`/v1/sessions/${session.id}/rewind`, {
      body: { at_event_id: atEventId, keep: 'files' },
    });
    expect(filesOnly).toMatchObject({ id: session.id, type: 'session', agent: { id: agent.id }, environment_id: env.id });
    expect(rig.store.listSessions()).toHaveLength(sessions + 1);
    expect(file()).toBe('one');
    expect(events(id, 'hand.checkpoint').at(-1)?.payload.rewind).toEqual({ keep: 'files', session_id: id, at_seq: point });
  }, 120_000);
});

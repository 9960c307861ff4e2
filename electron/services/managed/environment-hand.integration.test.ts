// A cloud environment as a Docker hand, end to end through the official SDK against the local API:
// an environment with limited networking and drover.image, an agent with agent_toolset_20260401
// (bash asks first), a session; the model (the local Messages API server) calls write, read and bash
// by those names; the events the SDK lists say so, bash waits for a confirmation sent through the
// API, and the container's network is limited to the environment's allowed hosts.
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiRig, endTurn, type ApiRig } from '#test/support/api-rig';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import type { Reply } from '#test/support/model-server';

const ready = await requireDocker();
let rig: ApiRig;

beforeEach(async () => {
  rig = await apiRig();
});
afterEach(async () => {
  await rig.close();
});

const calls = (...uses: Array<[string, Record<string, unknown>]>): Reply => ({
  kind: 'message',
  message: { content: uses.map(([name, input]) => ({ type: 'tool_use' as const, name, input })), stop_reason: 'tool_use' },
});

async function events(sessionId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  const all: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of rig.client.beta.sessions.events.list(sessionId)) all.push(event);
  return all;
}

async function until(sessionId: string, stop: string, after = 0): Promise<BetaManagedAgentsSessionEvent[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const listed = await events(sessionId);
    const idles = listed.filter((event) => event.type === 'session.status_idle');
    const last = idles.at(-1);
    if (idles.length > after && last?.type === 'session.status_idle' && last.stop_reason.type === stop) return listed;
    if (Date.now() > deadline) throw new Error(`no ${stop} idle; events: ${listed.map((event) => event.type).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const resultText = (listed: BetaManagedAgentsSessionEvent[], useId: string): string => {
  const result = listed.find((event) => event.type === 'agent.tool_result' && event.tool_use_id === useId);
  if (result?.type !== 'agent.tool_result') return '';
  return (result.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('\n');
};

describe.runIf(ready)('a cloud environment’s Docker hand through the SDK', () => {
  it('runs the agent toolset under its own names, bash after a confirmation, with the network limited to allowed_hosts', async () => {
    const environment = await rig.client.beta.environments.create({
      name: 'box',
      config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: ['localhost'] } },
      metadata: { 'drover.image': BUSYBOX_IMAGE },
    });
    const agent = await rig.client.beta.agents.create({
      name: 'fixer',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401', configs: [{ name: 'bash', permission_policy: { type: 'always_ask' } }] }],
    });
    rig.script.push(
      () => calls(['write', { file_path: 'notes.txt', content: 'build is red\n' }], ['read', { file_path: 'notes.txt' }]),
      () => calls(['bash', { command: 'cat notes.txt; echo "proxy=$HTTPS_PROXY"; ls /sys/class/net' }]),
      () => endTurn('Read the notes.'),
    );
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    await rig.client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Make the build green' }] }],
    });

    const waiting = await until(session.id, 'requires_action');
    const uses = waiting.filter((event) => event.type === 'agent.tool_use');
    expect(uses.map((use) => (use.type === 'agent.tool_use' ? use.name : ''))).toEqual(['write', 'read', 'bash']);
    const [write, read, bash] = uses;
    expect(resultText(waiting, write?.id ?? '')).toBe('Created /workspace/notes.txt (13 bytes, 1 line).');
    expect(resultText(waiting, read?.id ?? '')).toBe('     1\tbuild is red');
    expect(resultText(waiting, bash?.id ?? '')).toBe('');
    const stop = waiting.filter((event) => event.type === 'session.status_idle').at(-1);
    expect(stop?.type === 'session.status_idle' && stop.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [bash?.id] });

    await rig.client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: bash?.id ?? '', result: 'allow' }],
    });
    const done = await until(session.id, 'end_turn', 1);
    const ran = resultText(done, bash?.id ?? '');
    expect(ran).toMatch(/^build is red\nproxy=http:\/\/[\d.]+:\d+\n/);
    // One interface besides lo: the internal network, whose only way out is the egress proxy.
    expect(ran).toMatch(/\neth0\nlo\n\[exit code 0/);
    expect(done.some((event) => event.type === 'agent.message')).toBe(true);
    await rig.host.hands.settled(); // the turn end's snapshot, before the rig removes the session's images
  }, 120_000);
});

// The agent toolset in a session: the real harness and SDK against the local Messages API server,
// a real Docker container behind the registry. The model calls `read`, `bash`, … by those names,
// the log records them so, and each tool has its own permission policy.
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { BUSYBOX_IMAGE, requireDocker } from '#test/support/docker';
import { cleanUpLater, cleanUpRigs, ofType, rig, script, text, waitFor, type Rig } from '#test/support/harness-rig';
import type { ScriptedMessage } from '#test/support/model-server';

const ready = await requireDocker();
afterEach(cleanUpRigs);

function calls(...uses: Array<[string, Record<string, unknown>]>): ScriptedMessage {
  return { content: uses.map(([name, input]) => ({ type: 'tool_use' as const, name, input })), stop_reason: 'tool_use' };
}

async function toolsetRig(...replies: ScriptedMessage[]): Promise<{ r: Rig; registry: HandRegistry }> {
  let registry: HandRegistry | null = null;
  const r = await rig(script(...replies), {
    handsFor: (id) => {
      if (!registry) throw new Error('no registry yet');
      return registry.handsFor(id);
    },
  });
  const made = new HandRegistry({ store: r.store, docker: new DockerEngine({ instance: instanceIdOf(r.dir) }), log: () => undefined });
  registry = made;
  cleanUpLater(async () => {
    await made.close();
    await made.sessionDeleted(r.sessionId);
  });
  made.attach(r.sessionId, {
    name: 'env',
    config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', toolset: { type: 'agent_toolset_20260401' } },
  });
  return { r, registry: made };
}

const resultText = (r: Rig, toolUseId: string | undefined): string => {
  const result = ofType(r, 'agent.tool_result').find((event) => event.payload.tool_use_id === toolUseId);
  const block = result?.payload.content[0];
  return block?.type === 'text' ? block.text : '';
};

describe.runIf(ready)('the agent toolset in a session', () => {
  it('the model sees and calls bash, read, write, edit, glob, grep unprefixed; the log records those names and their results', async () => {
    const { r } = await toolsetRig(
      calls(['write', { file_path: 'notes.txt', content: 'one\ntwo\n' }]),
      calls(['edit', { file_path: 'notes.txt', old_string: 'two', new_string: 'deux' }], ['glob', { pattern: '*.txt' }]),
      calls(['grep', { pattern: 'deux' }], ['read', { file_path: 'notes.txt' }], ['bash', { command: 'wc -l < notes.txt' }]),
      text('done'),
    );
    r.harness.send(r.sessionId, 'take notes');
    await waitFor(r, 'session.status_idle', (event) => event.payload.stop_reason.type === 'end_turn', 60_000);

    const tools = (r.server.requests[0]?.body.tools ?? []) as Array<{ name: string }>;
    expect(tools.map((tool) => tool.name)).toEqual(['bash', 'read', 'write', 'edit', 'glob', 'grep']);
    const uses = ofType(r, 'agent.tool_use');
    expect(uses.map((use) => use.payload.name)).toEqual(['write', 'edit', 'glob', 'grep', 'read', 'bash']);
    const byName = new Map(uses.map((use) => [use.payload.name, use.payload.tool_use_id]));
    expect(resultText(r, byName.get('write'))).toBe('Created /workspace/notes.txt (8 bytes, 2 lines).');
    expect(resultText(r, byName.get('glob'))).toBe('/workspace/notes.txt');
    expect(resultText(r, byName.get('grep'))).toBe('/workspace/notes.txt:2:deux');
    expect(resultText(r, byName.get('read'))).toBe('     1\tone\n     2\tdeux');
    expect(resultText(r, byName.get('bash'))).toMatch(/^2\n\[exit code 0/);
    expect(ofType(r, 'agent.tool_result').every((result) => result.payload.is_error !== true)).toBe(true);
  });

  it('each tool has its own policy: bash asks (nothing runs until allowed) while read runs at once', async () => {
    const { r } = await toolsetRig(
      calls(['read', { file_path: '/etc/passwd' }], ['bash', { command: 'echo ran > /tmp/ran; cat /tmp/ran' }]),
      text('done'),
    );
    r.store.emitEvent(r.sessionId, { type: 'policy.set', payload: { hand: 'env', tool: 'bash', policy: 'always_ask' } });
    r.harness.send(r.sessionId, 'look around');
    const stop = await waitFor(r, 'session.status_idle', (event) => event.payload.stop_reason.type === 'requires_action', 60_000);
    const [read, bash] = ofType(r, 'agent.tool_use');
    expect(read?.payload).toMatchObject({ name: 'read', evaluated_permission: 'allow' });
    expect(bash?.payload).toMatchObject({ name: 'bash', evaluated_permission: 'ask' });
    expect(stop.payload.stop_reason).toMatchObject({ type: 'requires_action', event_ids: [bash?.id] });
    expect(resultText(r, read?.payload.tool_use_id)).toContain('root:x:0:0');
    expect(ofType(r, 'agent.tool_result').map((result) => result.payload.tool_use_id)).toEqual([read?.payload.tool_use_id]);

    r.store.emitEvent(r.sessionId, {
      type: 'user.tool_confirmation',
      payload: { tool_use_id: bash!.payload.tool_use_id, result: 'allow' },
    });
    await waitFor(r, 'session.status_idle', (event) => event.payload.stop_reason.type === 'end_turn', 60_000);
    expect(resultText(r, bash?.payload.tool_use_id)).toMatch(/^ran\n\[exit code 0/);
  });

  it('a policy that denies write answers the model at once, and the file is never written', async () => {
    const { r } = await toolsetRig(
      calls(['write', { file_path: 'x.txt', content: 'x' }]),
      calls(['glob', { pattern: '*' }]),
      text('could not write'),
    );
    r.store.emitEvent(r.sessionId, { type: 'policy.set', payload: { hand: 'env', tool: 'write', policy: 'deny' } });
    r.harness.send(r.sessionId, 'write x');
    await waitFor(r, 'session.status_idle', (event) => event.payload.stop_reason.type === 'end_turn', 60_000);
    const [write, glob] = ofType(r, 'agent.tool_use');
    expect(write?.payload).toMatchObject({ name: 'write', evaluated_permission: 'deny' });
    expect(resultText(r, write?.payload.tool_use_id)).toContain('policy does not allow "write" on "env"');
    expect(resultText(r, glob?.payload.tool_use_id)).toMatch(/^No files under \/workspace match \*\./);
  });
});

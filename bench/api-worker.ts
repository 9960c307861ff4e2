/**
 * A self-hosted worker's tool round trip: the SDK's reference worker (`EnvironmentWorker`,
 * unmodified, in this process, over 127.0.0.1) serving a session of a self-hosted environment. Per
 * tool call: the `agent.tool_use` durable → its result durable (the worker saw the event on its
 * stream, ran `bash` in its workdir, posted `user.tool_result`, and the harness recorded it). The
 * model is the local scripted server; the rig's temp dirs are removed.
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import { EnvironmentWorker } from '@anthropic-ai/sdk/lib/environments/worker';
import { betaAgentToolset20260401 } from '@anthropic-ai/sdk/tools/agent-toolset/node';
import { apiRig, endTurn } from '#test/support/api-rig';
import { tempDir } from '#test/support/system';
import type { Figure } from './session-store.ts';
import { p50, p95, type Log } from './harness/common.ts';

const ROUNDS = 100;

export async function benchApiWorker(log: Log): Promise<Figure[]> {
  const rig = await apiRig();
  const workdir = tempDir('drover-bench-worker-');
  const stop = new AbortController();
  let running: Promise<void> = Promise.resolve();
  try {
    const env = (await rig.client.beta.environments.create({ name: 'bench', config: { type: 'self_hosted' } })) as {
      id: string;
      environment_key?: string;
    };
    const key = env.environment_key ?? '';
    const agent = await rig.client.beta.agents.create({
      name: 'bench',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    for (let index = 0; index < ROUNDS; index++)
      rig.script.push(() => ({
        kind: 'message',
        message: { content: [{ type: 'tool_use', name: 'bash', input: { command: `echo round-${index}` } }], stop_reason: 'tool_use' },
      }));
    rig.script.push(() => endTurn('Done.'));
    const client = new Anthropic({ baseURL: rig.api.baseURL, apiKey: null, authToken: key, maxRetries: 2, logLevel: 'error' });
    const worker = new EnvironmentWorker({
      client,
      environmentId: env.id,
      environmentKey: key,
      workdir,
      workerId: 'bench',
      maxIdleMs: 600_000,
    });
    running = worker.run(stop.signal).catch(() => undefined);

    const uses = new Map<string, number>();
    const trips: number[] = [];
    let sessionId = '';
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const unsubscribe = rig.store.subscribeAll((id, event) => {
      if (id !== sessionId) return;
      if (event.type === 'agent.tool_use') uses.set(event.payload.tool_use_id, performance.now());
      else if (event.type === 'agent.tool_result') {
        const start = uses.get(event.payload.tool_use_id);
        if (start !== undefined) trips.push(performance.now() - start);
      } else if (event.type === 'session.status_idle') done();
    });
    const session = await rig.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    sessionId = session.id.replace(/^sesn_(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    await rig.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'Go' }] }] });
    await finished;
    unsubscribe();
    if (trips.length !== ROUNDS) throw new Error(`expected ${ROUNDS} tool round trips, got ${trips.length}`);
    // The first call also waits for the worker to claim the session: measured from the second on.
    const steady = trips.slice(1);
    // Baseline: the same bash tool of the SDK's toolset, called directly in this process.
    const bash = betaAgentToolset20260401({ workdir }).find((tool) => 'name' in tool && tool.name === 'bash');
    if (bash === undefined) throw new Error("the SDK's toolset has no bash tool");
    const direct: number[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      const before = performance.now();
      await bash.run({ command: `echo round-${index}` }, { signal: stop.signal } as never);
      direct.push(performance.now() - before);
    }
    await bash.close?.();
    log(`  self-hosted worker: ${ROUNDS} bash calls, round trip p50 ${p50(steady).toFixed(2)} ms, p95 ${p95(steady).toFixed(2)} ms`);
    return [
      {
        name: 'Self-hosted worker (SDK EnvironmentWorker, loopback): bash tool_use durable → result durable, p50',
        value: p50(steady),
        unit: 'ms',
        baseline: { name: "the SDK toolset's bash tool called directly, p50", value: p50(direct.slice(1)) },
      },
      {
        name: 'Self-hosted worker (SDK EnvironmentWorker, loopback): bash tool_use durable → result durable, p95',
        value: p95(steady),
        unit: 'ms',
      },
    ];
  } finally {
    stop.abort();
    await running;
    await rig.close();
    rmSync(workdir, { recursive: true, force: true });
  }
}

/**
 * The hand of a session in a self-hosted environment: the agent toolset's tools (`bash`, `read`,
 * `write`, `edit`, `glob`, `grep`, those the agent has on), run by whichever SDK worker holds the
 * session's work item. Running a tool here runs nothing: the tool use is already durable and on the
 * session's event stream, where the worker's SessionToolRunner picks it up; the call waits for the
 * worker's `user.tool_result` (work-queue.ts `deliver`), as a custom tool waits for its program.
 * A lease that expires meanwhile answers it as interrupted; an interrupt of the user stops the wait.
 */
import type { AgentToolName } from '#shared/hands';
import type { SessionStore } from '#services/session/store';
import type { ExecuteOptions, Hand, ToolOutcome, ToolSpec } from '#services/hands/hand';
import { toolsetSpecs } from '#services/hands/toolset/tools';
import { WORKER_HAND_ID, type WorkQueue } from './work-queue.ts';

/** The self-hosted side of a session: its environment and the toolset tools the agent has on. */
export interface SelfHostedSession {
  environmentId: string;
  tools: readonly AgentToolName[];
  /** The agent's permission policy per tool (`ask`: the user confirms before the worker sees the call). */
  policies: Readonly<Partial<Record<AgentToolName, 'allow' | 'ask'>>>;
}

export class WorkerHand implements Hand {
  readonly id = WORKER_HAND_ID;
  readonly concurrent = false;
  private readonly specs: ToolSpec[];
  /** Tool use events this hand is answering now (uuid). */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly queue: WorkQueue,
    private readonly store: SessionStore,
    private readonly sessionId: string,
    private readonly session: SelfHostedSession,
  ) {
    this.specs = toolsetSpecs(session.tools, {
      where: "the self-hosted worker's machine",
      cwd: "the worker's working directory",
      notes: [],
    });
  }

  tools(): readonly ToolSpec[] {
    return this.specs;
  }

  ownToolName(name: string): string {
    return name;
  }

  permission(tool: string): 'allow' | 'ask' | 'deny' {
    const policy = this.session.policies[tool as AgentToolName];
    return policy ?? 'deny';
  }

  async execute(name: string, input: Record<string, unknown>, options: ExecuteOptions): Promise<ToolOutcome> {
    const use = this.openToolUse(name, input);
    if (use === null)
      return {
        isError: true,
        content: [{ type: 'text', text: `Not run: Drover found no recorded call of ${name} to hand to the self-hosted worker.` }],
      };
    this.claimed.add(use);
    const onAbort = (): void => this.queue.forget(use);
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const outcome = await this.queue.waitForResult(this.session.environmentId, this.sessionId, use);
      return { content: outcome.content, isError: outcome.isError, status: outcome.status };
    } finally {
      options.signal.removeEventListener('abort', onAbort);
      this.claimed.delete(use);
    }
  }

  /** The oldest recorded call of `name` with this input that has no result and that this hand is not answering yet. */
  private openToolUse(name: string, input: Record<string, unknown>): string | null {
    const events = this.store.getEvents(this.sessionId, {
      types: ['agent.tool_use', 'agent.tool_result'],
      direction: 'backward',
      limit: 500,
    });
    const answered = new Set<string>();
    let found: string | null = null;
    const wanted = JSON.stringify(input);
    for (const event of events) {
      if (event.type === 'agent.tool_result') answered.add(event.payload.tool_use_id);
      else if (
        event.type === 'agent.tool_use' &&
        event.payload.hand_id === WORKER_HAND_ID &&
        event.payload.name === name &&
        !answered.has(event.payload.tool_use_id) &&
        !this.claimed.has(event.id) &&
        JSON.stringify(event.payload.input) === wanted
      )
        found = event.id;
    }
    return found;
  }
}

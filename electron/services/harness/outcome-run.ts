/**
 * Grading one turn's end against the session's outcome: the outcome's verification command on its
 * hand, then a grader request with its own context (grader.ts), recorded as an evaluation; a
 * `needs_revision` result is the agent's next turn (state.ts, context.ts).
 *
 * The grader's words are not the agent's: they are never streamed to the UI, and its verdict is
 * stored whole or not at all. A failed check must never end the outcome: it stays open and is
 * checked again at the next turn end. An interrupt must stop the check at once, and a check cut
 * by a crash runs again under the same iteration, never as a new one.
 */
import { performance } from 'node:perf_hooks';
import type { NewEvent } from '#shared/events';
import { qualifiedToolName } from '#shared/hands';
import { capVerificationOutput, graderModel, graderRequest, parseVerdict, resultOf, type VerificationRun } from './grader.ts';
import { ModelCallError, streamMessage, type ModelResponse } from './model-client.ts';
import { errorDetail, retryLater } from './retry.ts';
import { evaluationEnd, NO_KEY_MESSAGE, spanEnd, type RunContext } from './run-context.ts';
import { untilAborted } from './tool-run.ts';

export class OutcomeRun {
  constructor(private readonly run: RunContext) {}

  /**
   * Checks the agent's work against the session's outcome: runs the verification command (when
   * the outcome has one), then a grader request with its own context (grader.ts), and records the
   * evaluation; a `needs_revision` result is the agent's next turn (state.ts, context.ts).
   * `resume`: the evaluation's start is in the log already (a retry, or a crash cut it), so it runs
   * again under the same iteration — its verification command too (a check, not the agent's work).
   */
  async grade(iteration: number, resume: boolean): Promise<void> {
    const outcome = this.run.state.outcome;
    if (!outcome) throw new Error('a grading step without an outcome in the log');
    const definition = outcome.definition;
    const signal = this.run.signal;
    const settings = this.run.settings;
    const starting: NewEvent[] = resume ? [] : [{ type: 'span.outcome_evaluation_start', payload: { iteration } }];
    const key = await this.run.options.keyProvider();
    // Interrupted: the next step records the stop (and closes an evaluation already started).
    if (this.run.stopping || signal.aborted) return;
    if (!key) {
      this.run.emitEndingTurn(...starting, evaluationEnd(iteration, 'failed', `The work could not be checked. ${NO_KEY_MESSAGE}`));
      return;
    }
    let verification: VerificationRun | null = null;
    if (definition.verification) {
      // Recorded first, so the log shows the check under way while the command runs.
      if (starting.length > 0) this.run.emit(...starting.splice(0));
      verification = await this.verify(definition.verification, signal);
      if (this.run.stopping || signal.aborted) return;
    }
    const params = graderRequest({ events: this.run.events, outcome: definition, settings, verification });
    const model = graderModel(definition, settings);
    this.run.emit(...starting, { type: 'span.model_request_start', payload: { model, purpose: 'grading' } });
    const started = performance.now();
    let response: ModelResponse;
    try {
      // Not streamed to the UI: the grader's words are not the agent's; its verdict is stored whole.
      response = await streamMessage(this.run.client(key), params, { signal });
    } catch (error) {
      if (this.run.stopping) return;
      await this.gradingFailure(error, model, iteration, started, verification);
      return;
    }
    if (this.run.stopping) return;
    const end = spanEnd(model, 'grading', response.usage, response.stopReason, false, performance.now() - started);
    const evidence = verification ? { verification } : {};
    const verdict = parseVerdict(response.blocks, response.stopReason);
    if (!verdict.ok) {
      this.run.emitEndingTurn(end, evaluationEnd(iteration, 'failed', verdict.explanation, evidence));
      return;
    }
    const result = resultOf(verdict.verdict, iteration, definition.max_iterations);
    this.run.emitEndingTurn(end, evaluationEnd(iteration, result, verdict.explanation, { criteria: verdict.criteria, ...evidence }));
  }

  /** Runs the outcome's verification command with the hand's bash tool; what went wrong is the output when it cannot run. */
  private async verify(check: { hand_id: string; command: string }, signal: AbortSignal): Promise<VerificationRun> {
    const run = (output: string, isError: boolean): VerificationRun => ({
      hand_id: check.hand_id,
      command: check.command,
      output: capVerificationOutput(output),
      is_error: isError,
    });
    const hands = (await this.run.options.handsFor?.(this.run.sessionId, signal)) ?? [];
    const hand = hands.find((candidate) => candidate.id === check.hand_id);
    if (!hand) {
      const attached = hands.map((candidate) => candidate.id).join(', ') || 'none';
      return run(`The verification command was not run: this session has no hand named "${check.hand_id}" (attached: ${attached}).`, true);
    }
    const tool = qualifiedToolName(check.hand_id, 'bash');
    if (!hand.tools().some((spec) => spec.name === tool)) {
      return run(`The verification command was not run: the hand "${check.hand_id}" has no bash tool (${tool}).`, true);
    }
    try {
      const outcome = await untilAborted(hand.execute(tool, { command: check.command }, { signal }), signal);
      const output = outcome.content.map((block) => (block.type === 'text' ? block.text : '[image]')).join('\n');
      return run(output, outcome.isError);
    } catch (error) {
      return run(`The verification command could not run: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  }

  /** A failed grader request: interrupted, retried like a turn's (bounded), or recorded as a failed evaluation. */
  private async gradingFailure(
    error: unknown,
    model: string,
    iteration: number,
    started: number,
    verification: VerificationRun | null,
  ): Promise<void> {
    if (!(error instanceof ModelCallError)) throw error;
    const duration = performance.now() - started;
    const evidence = verification ? { verification } : {};
    if (error.kind === 'aborted') {
      this.run.emitEndingTurn(
        spanEnd(model, 'grading', error.partial.usage, null, false, duration),
        evaluationEnd(iteration, 'interrupted', 'Stopped by the user before the check finished.', evidence),
      );
      return;
    }
    const end = spanEnd(model, 'grading', error.partial.usage, null, true, duration);
    const detail = errorDetail(error);
    const what = `${error.errorType}${error.status ? ` ${error.status}` : ''}: ${error.message}`;
    const open = 'The outcome stays open: it is checked again when Claude next ends a turn.';
    if (error.kind === 'retryable') {
      if (await retryLater(this.run, end, error)) return;
      this.run.emitEndingTurn(
        end,
        { type: 'session.error', payload: { error: detail, retry_status: { type: 'exhausted' } } },
        evaluationEnd(
          iteration,
          'failed',
          `The grader’s model endpoint kept failing (${what}) after ${this.run.retry.maxAttempts} retries. ${open}`,
          evidence,
        ),
      );
      return;
    }
    const message =
      error.kind === 'authentication'
        ? `The Anthropic API refused the API key (${what}), so the work could not be checked. Replace the key in Settings → Credentials (or fix ANTHROPIC_API_KEY). ${open}`
        : `The grader request failed (${what}). ${open}`;
    this.run.emitEndingTurn(
      end,
      { type: 'session.error', payload: { error: detail, retry_status: { type: 'terminal' } } },
      evaluationEnd(iteration, 'failed', message, evidence),
    );
  }
}

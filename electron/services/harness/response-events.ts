/**
 * A model response as the events that record it (session-run.ts stores them in one commit): its
 * blocks, the error results of tool uses that cannot run (an interrupted response, bad input, no
 * such tool), which allowed tool uses may run now, and the custom tool calls Drover must answer
 * itself. Each tool use carries what the session's policies say of it.
 */
import type { NewEvent } from '#shared/events';
import type { ToolRun } from './tool-run.ts';
import type { GuardrailsRun } from './guardrails-run.ts';
import type { ModelResponse } from './model-client.ts';
import { toolResult } from './run-context.ts';

/** A custom tool call in a response being stored that Drover answers itself (it never reaches the program), and why. */
export interface UnanswerableCall {
  toolUseId: string;
  why: 'response-interrupted' | 'bad-input';
  detail?: string;
}

export interface ResponseEvents {
  blocks: NewEvent[];
  results: NewEvent[];
  /** Tool uses allowed to run now (this run stored them, so they have certainly not started). */
  runnable: string[];
  unanswerable: UnanswerableCall[];
}

export function responseEvents(
  response: ModelResponse,
  interrupted: boolean,
  tools: Pick<ToolRun, 'isCustom' | 'handFor' | 'names'>,
  guard: Pick<GuardrailsRun, 'evaluate'>,
): ResponseEvents {
  const blocks: NewEvent[] = [];
  const results: NewEvent[] = [];
  const runnable: string[] = [];
  const unanswerable: UnanswerableCall[] = [];
  for (const [index, block] of response.blocks.entries()) {
    // The id the live preview of this block promised (API clients join the two by it).
    const promised = response.eventIds?.[index];
    const id = promised === undefined ? {} : { id: promised };
    switch (block.type) {
      case 'text':
        blocks.push({ type: 'agent.message', payload: { content: [{ type: 'text', text: block.text }] }, ...id });
        break;
      case 'thinking':
        blocks.push({ type: 'agent.thinking', payload: { thinking: block.thinking, signature: block.signature }, ...id });
        break;
      case 'redacted_thinking':
        blocks.push({ type: 'agent.thinking', payload: { redacted: true, data: block.data }, ...id });
        break;
      case 'tool_use': {
        if (tools.isCustom(block.name)) {
          // Nothing runs here: the program answers it (custom-tools.ts). Drover answers it only if it never reaches the program.
          blocks.push({ type: 'agent.custom_tool_use', payload: { tool_use_id: block.id, name: block.name, input: block.input } });
          if (interrupted) unanswerable.push({ toolUseId: block.id, why: 'response-interrupted' });
          else if (block.inputError !== undefined) unanswerable.push({ toolUseId: block.id, why: 'bad-input', detail: block.inputError });
          break;
        }
        const hand = tools.handFor(block.name);
        const mcp = hand?.kind === 'mcp';
        // What the session's policies say of it, recorded on it: allow runs now, ask waits for the user, deny is answered.
        const permission =
          hand && !interrupted && block.inputError === undefined ? guard.evaluate(hand, block.name, block.input) : undefined;
        const evaluated = permission === undefined ? {} : { evaluated_permission: permission };
        blocks.push(
          hand && mcp
            ? {
                type: 'agent.mcp_tool_use',
                payload: { tool_use_id: block.id, server_name: hand.id, name: block.name, input: block.input, ...evaluated },
              }
            : {
                type: 'agent.tool_use',
                payload: {
                  tool_use_id: block.id,
                  name: block.name,
                  input: block.input,
                  ...(hand ? { hand_id: hand.id } : {}),
                  ...evaluated,
                },
              },
        );
        if (interrupted)
          results.push(
            toolResult(block.id, 'Not run: the user interrupted the response before this tool started.', true, 'interrupted', mcp),
          );
        else if (block.inputError !== undefined)
          results.push(
            toolResult(
              block.id,
              `The tool was not run: ${block.inputError}. Send a JSON object that matches the tool's input schema.`,
              true,
              'completed',
              mcp,
            ),
          );
        else if (!hand)
          results.push(
            toolResult(block.id, `There is no tool named "${block.name}". Available tools: ${tools.names().join(', ') || 'none'}.`, true),
          );
        else if (permission === 'allow') runnable.push(block.id);
        break;
      }
    }
  }
  return { blocks, results, runnable, unanswerable };
}

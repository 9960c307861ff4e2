/**
 * The response streaming right now, from the 'session-live' push: its blocks as they grow, and
 * the output of tools while they run. Never stored token by token — when the response is
 * complete its blocks arrive as events and the live copy is dropped.
 *
 * Deltas are applied at most once per animation frame, so a fast stream costs one render per
 * frame however many tokens arrive in it.
 */
import { useEffect, useState } from 'react';
import type { LiveUpdate } from '#shared/harness';
import type { Transport } from '#renderer/client/transport.ts';

export interface LiveBlock {
  kind: 'text' | 'thinking' | 'tool';
  text: string;
  /** The tool's name, for a tool block. */
  name?: string;
}

export interface LiveState {
  /** The response in progress, or null when none is streaming. */
  blocks: readonly LiveBlock[] | null;
  /** Output so far of tools still running, by tool_use_id. */
  toolOutput: ReadonlyMap<string, string>;
}

const EMPTY: LiveState = { blocks: null, toolOutput: new Map() };

export function useLive(transport: Transport, sessionId: string): LiveState {
  const [state, setState] = useState<LiveState>(EMPTY);
  useEffect(() => {
    let pending: LiveUpdate[] = [];
    let frame = 0;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- a new session's live stream starts empty; updates arrive from the host
    setState(EMPTY);
    const flush = () => {
      frame = 0;
      const updates = pending;
      pending = [];
      setState((current) => updates.reduce(applyLive, current));
    };
    const stop = transport.on('session-live', ({ sessionId: id, update }) => {
      if (id !== sessionId) return;
      pending.push(update);
      if (frame === 0) frame = requestAnimationFrame(flush);
    });
    // A finished tool's output is in its result event; drop the live copy then.
    const stopEvents = transport.on('session-event', ({ sessionId: id, event }) => {
      if (id !== sessionId || (event.type !== 'agent.tool_result' && event.type !== 'agent.mcp_tool_result')) return;
      const toolUseId = event.payload.tool_use_id;
      setState((current) => {
        if (!current.toolOutput.has(toolUseId)) return current;
        const toolOutput = new Map(current.toolOutput);
        toolOutput.delete(toolUseId);
        return { ...current, toolOutput };
      });
    });
    return () => {
      stop();
      stopEvents();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [transport, sessionId]);
  return state;
}

/** The live state after one update. Exported for tests. */
export function applyLive(state: LiveState, update: LiveUpdate): LiveState {
  switch (update.type) {
    case 'response_start':
      return { ...state, blocks: [] };
    case 'block_start': {
      const blocks = [...(state.blocks ?? [])];
      const kind = update.block === 'tool_use' ? 'tool' : update.block === 'text' ? 'text' : 'thinking';
      blocks[update.index] = { kind, text: '', ...(update.name === undefined ? {} : { name: update.name }) };
      return { ...state, blocks };
    }
    case 'delta': {
      if (update.kind === 'input_json') return state;
      const blocks = [...(state.blocks ?? [])];
      const block = blocks[update.index] ?? { kind: update.kind, text: '' };
      blocks[update.index] = { ...block, text: block.text + update.text };
      return { ...state, blocks };
    }
    case 'response_end':
    case 'response_discarded':
      return { ...state, blocks: null };
    case 'tool_progress':
      return { ...state, toolOutput: new Map(state.toolOutput).set(update.tool_use_id, update.text) };
    default:
      return state;
  }
}

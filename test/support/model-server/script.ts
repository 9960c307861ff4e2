/**
 * The model server's scripting API: what a test scripts (a message of blocks, or an HTTP error,
 * with frame delays, a mid-stream error or a dropped connection) and what it gets back (every
 * request as received).
 *
 * A script must never be able to ask for a shape the real API would not send: blocks and stop
 * reasons are the real ones, and faults are the ones a real connection can show.
 */
import type { MessagesRequestBody } from './request.ts';

export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

export interface ScriptedMessage {
  content: ScriptedBlock[];
  stop_reason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';
  stop_sequence?: string;
  usage?: Partial<{
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
  }>;
}

export type Reply =
  | {
      kind: 'message';
      message: ScriptedMessage;
      /** delay before each SSE frame (default 0); a non-streaming reply waits the sum of them */
      frameDelayMs?: number;
      /**
       * after this many frames, send `event: error` with this error type (e.g. 'overloaded_error',
       * 'api_error') and end the response. A non-streaming request gets that error as its HTTP
       * status instead (overloaded_error → 529, api_error → 500, …), as the real API does.
       * A count beyond the script's frames fires after the last one.
       */
      errorAfterFrames?: { frames: number; type: string; message?: string };
      /**
       * after this many frames, destroy the socket without ending the response (a dropped
       * connection). A non-streaming request is dropped before any response byte.
       */
      dropAfterFrames?: number;
    }
  | { kind: 'http-error'; status: number; type: string; message: string; retryAfterSeconds?: number };

export interface RecordedRequest {
  /** parsed JSON body as received */
  body: MessagesRequestBody;
  headers: Record<string, string | string[] | undefined>;
  /** performance.now() when the request's headers arrived (used by benchmarks: time to first request byte) */
  receivedAt: number;
  /** 0-based position in `ModelServer.requests`: requests refused before `respond` take no index */
  index: number;
}

export interface ModelServerOptions {
  respond: (request: RecordedRequest) => Reply | Promise<Reply>;
  /** ids returned by GET /v1/models, newest first */
  models?: string[];
  /**
   * when set, requests whose x-api-key differs get 401 authentication_error (when unset, any
   * non-empty key is accepted; a missing key is 401)
   */
  apiKey?: string;
}

export interface ModelServer {
  url: string;
  /** every /v1/messages request that reached `respond`, in arrival order */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

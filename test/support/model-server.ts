/**
 * A local stand-in for the Anthropic Messages API: an HTTP server on 127.0.0.1 that the real
 * `@anthropic-ai/sdk` talks to through `baseURL`, answering with replies a test scripts. It is
 * the only sanctioned stand-in for the real API in tests, benchmarks and e2e.
 *
 * It must never answer in a shape the real API would not, nor accept a request the real API
 * would refuse: code that passes against it has to be code that could pass against the real
 * service. It never listens beyond 127.0.0.1 and never calls out to the network.
 *
 * This file is the HTTP server (routes, auth, body limits, the request log); what a test scripts
 * is in model-server/script.ts, the request schema and its rules in model-server/request.ts, and
 * the SSE framing of replies in model-server/wire.ts.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseRequestBody } from './model-server/request.ts';
import type { ModelServer, ModelServerOptions, RecordedRequest, Reply } from './model-server/script.ts';
import { messageFrames, sendError, sendModels, sendWhole, streamFrames } from './model-server/wire.ts';

export type { MessagesRequestBody } from './model-server/request.ts';
export type { ModelServer, ModelServerOptions, RecordedRequest, Reply, ScriptedBlock, ScriptedMessage } from './model-server/script.ts';

// Not claude-sonnet-4-5: the SDK prints a deprecation warning for every request naming it.
const DEFAULT_MODELS = ['claude-sonnet-4-6', 'claude-opus-4-5', 'claude-haiku-4-5'];
// The real API refuses bodies over 32 MB before looking at them.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const models = options.models ?? DEFAULT_MODELS;
  const requests: RecordedRequest[] = [];
  // One per response in flight, so close() can stop their frame timers instead of waiting them out.
  const inFlight = new Set<AbortController>();

  const server = createServer((req, res) => {
    const receivedAt = performance.now();
    const gone = new AbortController();
    inFlight.add(gone);
    res.on('close', () => {
      gone.abort();
      inFlight.delete(gone);
    });
    handle(req, res, receivedAt, gone.signal).catch((error: unknown) => {
      // A bug here must show up in the test that hit it, not as a hung request.
      if (gone.signal.aborted) return;
      if (!res.headersSent) {
        sendError(res, 500, 'api_error', `model-server failed: ${errorText(error)}`);
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, receivedAt: number, gone: AbortSignal): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    if (route !== 'POST /v1/messages' && route !== 'GET /v1/models') {
      return sendError(res, 404, 'not_found_error', 'Not Found');
    }
    if (raw === null) {
      return sendError(res, 413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.');
    }
    const key = apiKeyOf(req);
    if (!key) return sendError(res, 401, 'authentication_error', 'x-api-key header is required');
    if (options.apiKey !== undefined && key !== options.apiKey) {
      return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!header(req, 'anthropic-version')) {
      return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    if (route === 'GET /v1/models') return sendModels(res, models, url.searchParams);

    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      return sendError(res, 400, 'invalid_request_error', `There was an issue with your request body: ${errorText(error)}`);
    }
    const parsed = parseRequestBody(json);
    if (!parsed.ok) return sendError(res, 400, 'invalid_request_error', parsed.message);

    const recorded: RecordedRequest = {
      body: parsed.body,
      headers: { ...req.headers },
      receivedAt,
      index: requests.length,
    };
    requests.push(recorded);
    let reply: Reply;
    try {
      reply = await options.respond(recorded);
    } catch (error) {
      return sendError(res, 500, 'api_error', `model-server respond() threw: ${errorText(error)}`);
    }
    if (gone.aborted) return;

    if (reply.kind === 'http-error') {
      return sendError(res, reply.status, reply.type, reply.message, reply.retryAfterSeconds);
    }
    const estimatedInput = Math.max(1, Math.ceil(raw.length / 4));
    const frames = messageFrames(reply.message, parsed.body.model, estimatedInput);
    if (parsed.body.stream === true) {
      await streamFrames(res, frames, reply, gone);
    } else {
      await sendWhole(res, frames, reply, gone);
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const response of inFlight) response.abort();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Null when the body is over the real API's size limit. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep reading so the connection stays usable, but stop holding on to the bytes.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8');
}

/** The SDK (1.x) sends its key as `Authorization: Bearer …`; older clients and curl use x-api-key. */
function apiKeyOf(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer (.+)$/i.exec(header(req, 'authorization') ?? '');
  return header(req, 'x-api-key') || bearer?.[1];
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

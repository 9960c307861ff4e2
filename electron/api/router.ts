/**
 * The API's routes: a method and a path pattern (`/v1/agents/:agent_id`) to a handler. A handler
 * gets its validated path parameters, the query and the parsed JSON body, and answers with a JSON
 * value (status 200 unless it says otherwise) or takes the response over to stream (SSE).
 */
import type { ServerResponse } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface ApiRequest {
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  requestId: string;
  /** The client's address as this server saw it (a self-hosted worker's machine, when it is another). */
  remoteAddress?: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type ApiReply =
  | { status?: number; body: unknown }
  /** Takes the response over (headers not yet sent); resolves when the stream ends. */
  | { stream: (response: ServerResponse, signal: AbortSignal) => Promise<void> };

export interface Route {
  method: HttpMethod;
  /** `/v1/…` with `:name` segments. */
  path: string;
  handler: (request: ApiRequest) => Promise<ApiReply> | ApiReply;
}

interface CompiledRoute {
  route: Route;
  segments: readonly string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
  }

  /** The route for `method` and `path`; `null` when no route has the path, `'method'` when only other methods do. */
  match(method: string, pathname: string): Match | null | { allowed: HttpMethod[] } {
    const parts = pathname.split('/').filter(Boolean);
    const allowed: HttpMethod[] = [];
    for (const { route, segments } of this.routes) {
      const params = matchSegments(segments, parts);
      if (params === null) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}

function matchSegments(segments: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] ?? '';
    const part = parts[index] ?? '';
    if (segment.startsWith(':')) {
      if (part === '' || part.length > 256) return null;
      params[segment.slice(1)] = part;
    } else if (segment !== part) return null;
  }
  return params;
}

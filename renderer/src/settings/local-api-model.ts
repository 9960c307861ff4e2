/**
 * Settings → Local API, the pure parts: the port as typed, the base URL to show, and the SDK
 * snippet filled with it (never with a token).
 */
import { DEFAULT_LOCAL_API_PORT, LocalApiPortSchema, type LocalApiStatus } from '#shared/local-api';

export type PortInput = { ok: true; port: number } | { ok: false; problem: string };

/** The port typed in the field: a whole number from 1 to 65535 (empty: the default). */
export function parsePort(text: string): PortInput {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, port: DEFAULT_LOCAL_API_PORT };
  if (!/^\d+$/.test(trimmed)) return { ok: false, problem: `“${trimmed.slice(0, 20)}” is not a port: type a number from 1 to 65535.` };
  const parsed = LocalApiPortSchema.safeParse(Number(trimmed));
  return parsed.success ? { ok: true, port: parsed.data } : { ok: false, problem: 'A port is a number from 1 to 65535.' };
}

/** Where programs reach it: where it runs, else where it would run on `port`. */
export function baseUrlOf(status: LocalApiStatus | null, port: number): string {
  return status?.baseURL ?? `http://127.0.0.1:${port}`;
}

/** How a program connects with the official SDK (the token comes from the environment, not the page). */
export function sdkSnippet(baseURL: string): string {
  return [
    "import Anthropic from '@anthropic-ai/sdk';",
    '',
    `const client = new Anthropic({ baseURL: '${baseURL}', apiKey: process.env.DROVER_API_TOKEN });`,
    'const agents = await client.beta.agents.list();',
  ].join('\n');
}

/**
 * Settings → Local API, the pure parts: the port and the image for cloud environments as typed,
 * the base URL to show, and the SDK snippet filled with it (never with a token).
 */
import { DEFAULT_LOCAL_API_PORT, EnvironmentImageSchema, LocalApiPortSchema, type LocalApiStatus } from '#shared/local-api';

export type PortInput = { ok: true; port: number } | { ok: false; problem: string };

/** The port typed in the field: a whole number from 1 to 65535 (empty: the default). */
export function parsePort(text: string): PortInput {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, port: DEFAULT_LOCAL_API_PORT };
  if (!/^\d+$/.test(trimmed)) return { ok: false, problem: `“${trimmed.slice(0, 20)}” is not a port: type a number from 1 to 65535.` };
  const parsed = LocalApiPortSchema.safeParse(Number(trimmed));
  return parsed.success ? { ok: true, port: parsed.data } : { ok: false, problem: 'A port is a number from 1 to 65535.' };
}

export type ImageInput = { ok: true; image: string } | { ok: false; problem: string };

/** The image typed for cloud environments: a Docker image reference, checked as a Docker hand's image is. */
export function parseImage(text: string): ImageInput {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, problem: 'Type an image for cloud environments, like "debian:bookworm-slim".' };
  const parsed = EnvironmentImageSchema.safeParse(trimmed);
  if (parsed.success) return { ok: true, image: parsed.data };
  const shown = trimmed.length > 40 ? `${trimmed.slice(0, 40)}…` : trimmed;
  return {
    ok: false,
    problem:
      trimmed.length > 512
        ? 'An image reference is at most 512 characters.'
        : `“${shown}” is not an image reference: ${parsed.error.issues[0]?.message ?? 'type one like "debian:bookworm"'}.`,
  };
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

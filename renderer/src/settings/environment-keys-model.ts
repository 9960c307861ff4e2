/**
 * Settings → Local API → Environment keys, the pure part: what each self_hosted environment's row
 * says about its key (never the key: its last 4 characters at most), and the snippet a worker runs.
 */
import type { EnvironmentKeyInfo } from '#shared/workers';

export function keyLineOf(info: EnvironmentKeyInfo): string {
  if (info.hint === null) return 'No key: workers are refused. Make one to let a worker in.';
  const made = info.created_at === null ? '' : `, made ${info.created_at.slice(0, 16).replace('T', ' ')} UTC`;
  return `Key ends in …${info.hint}${made}.`;
}

/** The SDK worker a machine runs with the key (the key itself is pasted by the user; never filled in). */
export function workerSnippet(baseURL: string, environmentId: string): string {
  return [
    "import Anthropic from '@anthropic-ai/sdk';",
    "import { EnvironmentWorker } from '@anthropic-ai/sdk/lib/environments/worker';",
    '',
    'const environmentKey = process.env.DROVER_ENVIRONMENT_KEY; // the key shown once here',
    `const client = new Anthropic({ baseURL: '${baseURL}', apiKey: null, authToken: environmentKey });`,
    `await new EnvironmentWorker({ client, environmentId: '${environmentId}', environmentKey, workdir: process.cwd() }).run();`,
  ].join('\n');
}

/**
 * The SDK's reference self-hosted worker (`EnvironmentWorker`, unmodified) in a process of its own,
 * against Drover's API: `worker-child.ts <baseURL> <environmentId> <environmentKey> <workdir> <workerId>`.
 * It polls until killed; the SDK's log (warn and up) goes to stderr.
 */
import Anthropic from '@anthropic-ai/sdk';
import { EnvironmentWorker } from '@anthropic-ai/sdk/lib/environments/worker';

const [baseURL, environmentId, environmentKey, workdir, workerId] = process.argv.slice(2);
if (!baseURL || !environmentId || !environmentKey || !workdir || !workerId) {
  console.error('usage: worker-child.ts <baseURL> <environmentId> <environmentKey> <workdir> <workerId>');
  process.exit(2);
}
const client = new Anthropic({ baseURL, apiKey: null, authToken: environmentKey, maxRetries: 2, logLevel: 'warn' });
const worker = new EnvironmentWorker({ client, environmentId, environmentKey, workdir, workerId, maxIdleMs: 600_000 });
console.log('polling');
worker.run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`worker stopped: ${String(error)}`);
    process.exit(1);
  },
);

// A process with Drover's process guard installed, driven over stdin: `throw` (from a timer),
// `reject` (a promise nobody awaits), `ping` (answers `pong`: the process is alive and serving).
import { createInterface } from 'node:readline';
import { installProcessGuard } from '#services/process-guard';

installProcessGuard({
  log: (line) => console.error(line),
  maxErrors: Number(process.argv[2] ?? 20),
  redact: (text) => text.replaceAll('sk-secret', '[redacted]'),
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'throw')
    setTimeout(() => {
      throw new Error('thrown from a timer with sk-secret in it');
    });
  else if (line === 'reject') void Promise.reject(new Error('rejected and not awaited'));
  else if (line === 'ping') console.log('pong');
});
console.log('ready');

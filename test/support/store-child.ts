/**
 * A second process for store tests, run with `node --import tsx`:
 *   hold <dataDir>             open the store, print "ready", keep it open until killed
 *   append <dataDir> <session> append events forever, printing "ack <seq> <id>" after each
 *                              emitEvent returns (i.e. after the commit is durable)
 *   open <dataDir>             try to open the store; print {"ok":true} or the error's code and message
 */
import { SessionStore } from '#services/session/store';

const [mode, dataDir, sessionId] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: store-child.ts hold|append <dataDir> [sessionId]');
if (mode === 'open') {
  try {
    SessionStore.open({ dataDir, appVersion: 'test-child' }).close();
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ ok: false, code, message })}\n`);
  }
  process.exit(0);
}
const store = SessionStore.open({ dataDir, appVersion: 'test-child' });

if (mode === 'hold') {
  process.stdout.write('ready\n');
  setInterval(() => undefined, 60_000);
} else if (mode === 'append' && sessionId) {
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const event = store.emitEvent(sessionId, {
      type: 'agent.message',
      payload: { content: [{ type: 'text', text: `line ${i} `.repeat(1 + (i % 20)) }] },
    });
    process.stdout.write(`ack ${event.seq} ${event.id}\n`);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}

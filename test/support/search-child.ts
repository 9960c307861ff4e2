/**
 * A second process for the search index's crash test, run with `node --import tsx`:
 *   index <dataDir> <sessionId>   opens the store and the index (not following), then forever appends a
 *                                 few events and indexes a few, printing "progress <indexed> <pending>"
 *                                 after each step, so the parent can SIGKILL it with the index mid-way.
 */
import { SessionStore } from '#services/session/store';
import { SearchIndex } from '#services/search/search-index';

const [mode, dataDir, sessionId] = process.argv.slice(2);
if (mode !== 'index' || !dataDir || !sessionId) throw new Error('usage: search-child.ts index <dataDir> <sessionId>');
const store = SessionStore.open({ dataDir, appVersion: 'test-child' });
const index = SearchIndex.open({ store, follow: false, batchEvents: 7 });
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  store.emitEvents(sessionId, [
    {
      type: 'agent.tool_use',
      payload: { tool_use_id: `toolu_${i}`, name: 'bash', input: { command: `echo crashword${i}` }, hand_id: 'box' },
    },
    {
      type: 'agent.tool_result',
      payload: { tool_use_id: `toolu_${i}`, content: [{ type: 'text', text: `crashword${i}\n` }], is_error: false },
    },
    { type: 'span.tool_run_start', payload: { tool_use_id: `toolu_${i}` } },
  ]);
  index.indexSome(2);
  const { indexed, pending } = index.status();
  process.stdout.write(`progress ${indexed} ${pending}\n`);
}

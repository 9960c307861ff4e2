// A Docker-backed checkpoint rig for the Settings → Storage tests (storage, storage-delete, retention):
// a real store and hand registry in a temp data folder, the real Docker engine, one session with a
// BUSYBOX_IMAGE hand `box` (network none), and bash tool calls recorded as the harness records them.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { DockerEngine, instanceIdOf, LABELS } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { SessionStore } from '#services/session/store';
import { BUSYBOX_IMAGE, dockerCli } from '#test/support/docker';
import { tempDir } from '#test/support/system';

/** Every blob file on disk under the data folder: hash → bytes. */
export function blobFiles(dir: string): Map<string, number> {
  const root = path.join(dir, 'checkpoints', 'blobs');
  const found = new Map<string, number>();
  for (const folder of readdirSync(root))
    for (const name of readdirSync(path.join(root, folder)))
      if (!name.startsWith('.tmp-')) found.set(folder + name, statSync(path.join(root, folder, name)).size);
  return found;
}

export interface StorageRigOptions {
  prefix: string;
  title: string;
  checkpoints?: boolean;
  /** Where the rig's cleanup goes (run it after the test). */
  cleanups: Array<() => Promise<void> | void>;
}

export function storageRig(options: StorageRigOptions) {
  const dir = tempDir(options.prefix);
  const store = SessionStore.open({ dataDir: dir });
  const engine = new DockerEngine({ instance: instanceIdOf(dir) });
  const hands = new HandRegistry({
    store,
    docker: engine,
    ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
    log: () => undefined,
  });
  const { id: sessionId } = store.createSession({ title: options.title });
  store.emitEvent(sessionId, {
    type: 'hand.attached',
    payload: { hand_id: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none' } },
  });
  /** Records a `box__bash` tool call in `id`, runs it on the hand, records its result and waits for checkpoints. */
  async function exec(command: string, id = sessionId): Promise<{ seq: number; output: string }> {
    const toolUseId = `toolu_${randomBytes(6).toString('hex')}`;
    const input = { command };
    store.emitEvent(id, { type: 'agent.tool_use', payload: { tool_use_id: toolUseId, name: 'box__bash', input, hand_id: 'box' } });
    const [hand] = await hands.handsFor(id);
    const outcome = await hand?.execute('box__bash', input, { signal: new AbortController().signal });
    if (!outcome || outcome.isError) throw new Error(`${command} failed: ${JSON.stringify(outcome?.content)}`);
    const seq = store.emitEvent(id, {
      type: 'agent.tool_result',
      payload: { tool_use_id: toolUseId, content: outcome.content, is_error: false },
    }).seq;
    await hands.settled();
    const output = outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    return { seq, output };
  }
  options.cleanups.push(async () => {
    await hands.close();
    for (const session of store.listSessions()) await hands.sessionDeleted(session.id);
    for (const container of dockerCli('ps', '-aq', '--filter', `label=${LABELS.instance}=${engine.instance}`).split('\n').filter(Boolean))
      dockerCli('rm', '-f', container);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, engine, hands, sessionId, exec };
}

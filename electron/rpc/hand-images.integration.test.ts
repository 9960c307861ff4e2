// A Docker hand's image is checked when the session is launched and when the hand is attached or
// changed, through the RPC a UI uses, on real parts: the Docker engine, and Debian's
// docker-registry on 127.0.0.1 for an image that is pullable but not here. An image that is
// neither here nor pullable is refused at once, in plain words, before anything is made; one that
// is here costs one inspect (no registry is asked); one that is pullable is pulled only when the
// hand first starts.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '#shared/rpc';
import type { SessionSummary } from '#shared/sessions';
import { createHost, type Host } from '#rpc/host';
import { SessionStore } from '#services/session/store';
import {
  BUSYBOX_IMAGE,
  dockerCli,
  freePort,
  registryUnavailableReason,
  requireDocker,
  startRegistry,
  type LocalRegistry,
} from '#test/support/docker';
import { requirePart, tempDir } from '#test/support/system';

const ready = (await requireDocker()) && requirePart('docker-registry', registryUnavailableReason());

let dir: string;
let store: SessionStore;
let host: Host;
let registry: LocalRegistry;
const tags: string[] = [];

beforeAll(async () => {
  if (!ready) return;
  dir = tempDir('drover-hand-images-');
  store = SessionStore.open({ dataDir: dir });
  host = createHost({
    store,
    info: { version: 'test', dataDir: dir, platform: process.platform },
    push: (_message: PushMessage) => undefined,
    log: () => undefined,
  });
  registry = await startRegistry();
}, 60_000);

afterAll(async () => {
  await host?.close();
  await host?.hands.close();
  store?.close();
  registry?.close();
  for (const tag of tags) dockerCli('rmi', tag);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function dispatch(name: string, arg: unknown): Promise<{ ok: true; result: unknown } | { ok: false; message: string; code: string }> {
  const outcome = await host.dispatch(name, arg);
  return outcome.ok ? { ok: true, result: outcome.result } : { ok: false, message: outcome.error.message, code: outcome.error.code };
}

const launchWith = (image: string) => ({ title: `image ${image}`, hands: [{ name: 'box', config: { kind: 'docker', image } }] });

function imageHere(reference: string): boolean {
  try {
    dockerCli('image', 'inspect', reference);
    return true;
  } catch {
    return false;
  }
}

describe.runIf(ready)('a Docker hand whose image is missing', () => {
  it('is refused at launch, plainly, and no session is made', async () => {
    const before = store.listSessions().length;
    const outcome = await dispatch('sessions-launch', launchWith('nosuch/image:1'));
    expect(outcome).toMatchObject({ ok: false, code: 'invalid-argument' });
    const message = outcome.ok ? '' : outcome.message;
    // Docker Hub cannot be reached from here; elsewhere it answers that there is no such repository.
    expect(message).toMatch(
      /^The image nosuch\/image:1 is not on this machine and cannot be pulled \(Docker Hub \(registry-1\.docker\.io\) (cannot be reached(: [a-z ]+)?|refused it: it does not exist there, or it needs a login)\)\. Build or load it, or pick another image\.$/,
    );
    expect(message).not.toMatch(/https?:|dial tcp|lookup /);
    expect(store.listSessions()).toHaveLength(before);
  });

  it('is refused when attached to a session or set on a hand, and the log is unchanged', async () => {
    const launched = await dispatch('sessions-launch', launchWith(BUSYBOX_IMAGE));
    if (!launched.ok) throw new Error(launched.message);
    const sessionId = (launched.result as SessionSummary).id;
    const events = store.getEvents(sessionId).length;

    const missing = `${registry.host}/drover-test/none:1`;
    const attached = await dispatch('hands-attach', { sessionId, hand: { name: 'other', config: { kind: 'docker', image: missing } } });
    expect(attached).toEqual({
      ok: false,
      code: 'invalid-argument',
      message: `The image ${missing} is not on this machine and cannot be pulled (${registry.host} has no such image or tag). Build or load it, or pick another image.`,
    });
    const closed = `127.0.0.1:${await freePort()}/drover-test/none:1`;
    const updated = await dispatch('hands-update', { sessionId, hand: { name: 'box', config: { kind: 'docker', image: closed } } });
    expect(updated).toMatchObject({
      ok: false,
      message: `The image ${closed} is not on this machine and cannot be pulled (${closed.split('/')[0]} cannot be reached: connection refused). Build or load it, or pick another image.`,
    });
    expect(store.getEvents(sessionId)).toHaveLength(events);
  });

  it('passes with one local inspect when the image is here (its registry is never asked)', async () => {
    // A registry nothing listens on: asking it would fail.
    const here = `127.0.0.1:${await freePort()}/drover-test/here:1`;
    dockerCli('tag', BUSYBOX_IMAGE, here);
    tags.push(here);
    const started = performance.now();
    const outcome = await dispatch('sessions-launch', launchWith(here));
    const elapsed = performance.now() - started;
    expect(outcome.ok).toBe(true);
    console.info(`[figure] sessions-launch with a Docker hand whose image is here: ${elapsed.toFixed(1)} ms`);
  });

  it('passes when the image is pullable, and is pulled only when the hand first starts', async () => {
    const pullable = registry.push(BUSYBOX_IMAGE, 'drover-test/pullable:1');
    expect(imageHere(pullable)).toBe(false);
    const outcome = await dispatch('sessions-launch', launchWith(pullable));
    expect(outcome.ok).toBe(true);
    expect(imageHere(pullable)).toBe(false);
  });
});

// Package images (`drover-packages:*`) in Settings → Storage (issue 20 item 5), with the real Docker
// engine: images built here FROM BUSYBOX_IMAGE (each with a 100 KB layer of its own: no build cache shared) under the tags a hand
// with packages would use. Reclaim removes only those no existing session's hand config and no
// saved environment asks for and no container uses; deleting the session (or the container) that
// kept one lets the next reclaim take it; one built within the grace period stays. The reclaim is
// scoped to this test's own tags (`only`), so it never takes another run's images.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerPackages } from '#shared/hands';
import { createStorageHandlers } from './storage-handlers.ts';
import { derivedTag, describePackages } from '#services/hands/docker/derived-image';
import { DockerEngine, instanceIdOf } from '#services/hands/docker/engine';
import { HandRegistry } from '#services/hands/registry';
import { ManagedDb } from '#services/managed/db';
import { SessionStore } from '#services/session/store';
import { PACKAGE_IMAGE_GRACE_MS } from '#services/checkpoints/storage-packages';
import { BUSYBOX_IMAGE, dockerCli, requireDocker } from '#test/support/docker';
import { tempDir } from '#test/support/system';

const ready = await requireDocker();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const apt = (name: string): DockerPackages => ({ apt: [name], pip: [], npm: [] });

describe.runIf(ready)('Storage: package images', () => {
  it('reclaims only package images nothing needs and no container uses; a deleted session’s go next', async () => {
    const dir = tempDir('drover-packages-');
    const store = SessionStore.open({ dataDir: dir });
    const engine = new DockerEngine({ instance: instanceIdOf(dir) });
    const hands = new HandRegistry({ store, docker: engine, log: () => undefined });
    const suffix = randomBytes(4).toString('hex');
    const baseId = dockerCli('image', 'inspect', '-f', '{{.Id}}', BUSYBOX_IMAGE).trim();
    const packages = {
      session: apt(`session-${suffix}`),
      unused: apt(`unused-${suffix}`),
      container: apt(`container-${suffix}`),
      environment: apt(`environment-${suffix}`),
    };
    const tags = Object.fromEntries(Object.entries(packages).map(([key, value]) => [key, derivedTag(baseId, value)])) as Record<
      keyof typeof packages,
      string
    >;
    const mine = new Set(Object.values(tags));
    const containers: string[] = [];
    cleanups.push(async () => {
      await hands.close();
      for (const container of containers) execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
      for (const tag of mine) execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    for (const [key, tag] of Object.entries(tags)) {
      const dockerfile = `FROM ${BUSYBOX_IMAGE}\nRUN head -c 100000 /dev/urandom > /packages && echo ${tag} > /tag\nLABEL drover.base=${JSON.stringify(BUSYBOX_IMAGE)} drover.packages=${JSON.stringify(describePackages(packages[key as keyof typeof packages]))}\n`;
      execFileSync('docker', ['build', '-q', '-t', tag, '-'], { input: dockerfile, stdio: ['pipe', 'ignore', 'pipe'] });
    }
    // A session whose hand asks for one; a container of another; a saved environment asking for a third.
    const session = store.createSession({ title: 'packages' });
    store.emitEvent(session.id, {
      type: 'hand.attached',
      payload: { hand_id: 'box', config: { kind: 'docker', image: BUSYBOX_IMAGE, network: 'none', packages: packages.session } },
    });
    containers.push(dockerCli('create', tags.container, 'true').trim());
    const managed = ManagedDb.open(dir);
    const now = new Date().toISOString();
    managed.insert({
      kind: 'environment',
      id: `env_${suffix}`,
      version: 1,
      body: {
        type: 'environment',
        id: `env_${suffix}`,
        name: 'with packages',
        config: { type: 'cloud', packages: { ...packages.environment, cargo: [], gem: [], go: [] }, networking: { type: 'unrestricted' } },
      },
      parent: null,
      created_at: now,
      updated_at: now,
      archived_at: null,
    });
    managed.close();

    const rpc = createStorageHandlers({ store, hands, engine, packageImages: { graceMs: 0, only: (tag) => mine.has(tag) } });
    const usage = await rpc['storage-usage'](undefined);
    const row = (tag: string) => usage.packageImages.find((image) => image.tag === tag);
    expect(row(tags.session)).toMatchObject({ needed: true, inUse: false });
    expect(row(tags.unused)).toMatchObject({ needed: false, inUse: false });
    expect(row(tags.container)).toMatchObject({ needed: false, inUse: true });
    expect(row(tags.environment)).toMatchObject({ needed: true, inUse: false });
    expect(row(tags.unused)?.bytes).toBe(Number(dockerCli('image', 'inspect', '-f', '{{.Size}}', tags.unused)));

    // Within the grace period nothing goes, needed or not.
    const patient = createStorageHandlers({
      store,
      hands,
      engine,
      packageImages: { graceMs: PACKAGE_IMAGE_GRACE_MS, only: (tag) => mine.has(tag) },
    });
    expect(await patient['storage-reclaim'](undefined)).toMatchObject({ packageImages: 0, images: 0 });
    expect(await engine.imageExists(tags.unused)).toBe(true);

    const first = await rpc['storage-reclaim'](undefined);
    expect(first).toMatchObject({ packageImages: 1, images: 1 });
    expect(first.freedBytes).toBeGreaterThanOrEqual(100_000);
    expect(await engine.imageExists(tags.unused)).toBe(false);
    for (const key of ['session', 'container', 'environment'] as const) expect(await engine.imageExists(tags[key])).toBe(true);

    // The container gone, and the session deleted: their images go at the next reclaim; the environment's stays.
    execFileSync('docker', ['rm', '-f', containers.pop() ?? ''], { stdio: 'ignore' });
    store.deleteSession(session.id);
    await hands.sessionDeleted(session.id);
    expect(await rpc['storage-reclaim'](undefined)).toMatchObject({ packageImages: 2 });
    expect(await engine.imageExists(tags.session)).toBe(false);
    expect(await engine.imageExists(tags.container)).toBe(false);
    expect(await engine.imageExists(tags.environment)).toBe(true);
    expect((await rpc['storage-usage'](undefined)).packageImages.filter((image) => mine.has(image.tag)).map((image) => image.tag)).toEqual([
      tags.environment,
    ]);
  });
});

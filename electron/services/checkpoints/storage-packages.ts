/**
 * Package images (`drover-packages:*`, hands/docker/derived-image.ts) in Settings → Storage (issue
 * 20 item 5): each one with its bytes, whether a container of it exists, and whether anything still
 * asks for it — a Docker hand config (with packages) of an existing session, or a saved
 * environment (the Managed Agents API's `cloud` environments with packages). "Reclaim" removes the
 * ones nothing needs and no container uses; a later hand that needs one builds it again.
 *
 * A package image is matched to a config by its tag (derivedTag of the base image's id and the
 * packages, when the base is on this machine) or its labels (`drover.base`, `drover.packages`,
 * package order ignored); to a saved environment by its packages alone (the environment's image
 * may be the user's default). Images built within `graceMs` are never removed: a hand may be about
 * to start a container of one it just built, or another data folder of this machine just made it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type { DockerPackages } from '#shared/hands';
import type { PackageImage } from '#shared/storage';
import { DERIVED_REPOSITORY, derivedTag, describePackages, hasPackages } from '#services/hands/docker/derived-image';
import type { DockerEngine } from '#services/hands/docker/engine';
import { MANAGED_DB_FILE, ManagedDb } from '#services/managed/db';
import type { SessionStore } from '#services/session/store';

/** Package images built this recently are kept whatever needs them. */
export const PACKAGE_IMAGE_GRACE_MS = 10 * 60_000;

export interface PackageImageOptions {
  /** Default PACKAGE_IMAGE_GRACE_MS. */
  graceMs?: number;
  /** Only these tags are considered for removal (tests: their own images, never another run's). Default: every package image. */
  only?: (tag: string) => boolean;
  log?: (message: string, error?: unknown) => void;
}

interface Needs {
  /** Tags configs ask for (their base image is on this machine). */
  tags: Set<string>;
  /** `<base>\n<packages>` (packages canonical) of configs. */
  configs: Set<string>;
  /** Canonical package lists of saved environments. */
  environments: Set<string>;
}

/** "apt: b, a; npm: c" → "apt: a, b; npm: c" (order of packages does not matter, as in derivedTag). */
function canonical(packages: string): string {
  return packages
    .split('; ')
    .map((part) => {
      const at = part.indexOf(': ');
      return at < 0
        ? part
        : `${part.slice(0, at)}: ${part
            .slice(at + 2)
            .split(', ')
            .sort()
            .join(', ')}`;
    })
    .join('; ');
}

function describeCanonical(packages: DockerPackages): string {
  return canonical(describePackages(packages));
}

/** What every existing session's Docker hand configs (attached at any point of their logs) and every saved environment ask for. */
async function needs(engine: DockerEngine, store: SessionStore, log?: PackageImageOptions['log']): Promise<Needs> {
  const found: Needs = { tags: new Set(), configs: new Set(), environments: new Set() };
  const baseIds = new Map<string, string | null>();
  for (const session of store.listSessions()) {
    for (const event of store.getEvents(session.id, { types: ['hand.attached'], limit: 10_000 })) {
      if (event.type !== 'hand.attached') continue;
      const config = event.payload.config;
      if (config.kind !== 'docker' || !hasPackages(config.packages)) continue;
      found.configs.add(`${config.image}\n${describeCanonical(config.packages)}`);
      if (!baseIds.has(config.image)) {
        const id = await engine.docker
          .getImage(config.image)
          .inspect()
          .then((info) => info.Id)
          .catch(() => null);
        baseIds.set(config.image, id);
      }
      const baseId = baseIds.get(config.image);
      if (baseId) found.tags.add(derivedTag(baseId, config.packages));
    }
  }
  const file = path.join(store.dataDir, MANAGED_DB_FILE);
  if (existsSync(file)) {
    let managed: ManagedDb | null = null;
    try {
      managed = ManagedDb.open(store.dataDir);
      for (const row of managed.list('environment')) {
        if (row.archived_at !== null) continue;
        const config = (row.body as Partial<BetaEnvironment>).config;
        if (config?.type !== 'cloud') continue;
        const packages = { apt: config.packages.apt, pip: config.packages.pip, npm: config.packages.npm };
        if (hasPackages(packages)) found.environments.add(describeCanonical(packages));
      }
    } catch (error) {
      // Unknown needs: keep every package image rather than take one an environment uses.
      log?.('Saved environments could not be read; no package image is reclaimed', error);
      found.environments.add('*');
    } finally {
      managed?.close();
    }
  }
  return found;
}

/** An image as the engine's `df` reports it (storage.ts reads the same list). */
export interface DfImage {
  Id: string;
  RepoTags?: string[] | null;
  Labels?: Record<string, string> | null;
  Size: number;
  SharedSize: number;
  Created: number;
}

export interface PackageImageRow extends PackageImage {
  id: string;
  /** Its `drover-packages:*` tags. */
  tags: string[];
  /** What removing it frees (its own layers). */
  ownBytes: number;
  createdMs: number;
}

/** Every package image on this machine's engine, largest first. */
export async function listPackageImages(
  engine: DockerEngine,
  store: SessionStore,
  images?: DfImage[],
  log?: PackageImageOptions['log'],
): Promise<PackageImageRow[]> {
  const all = images ?? ((await engine.docker.df()) as { Images?: DfImage[] | null }).Images ?? [];
  const packaged = all.filter((image) => (image.RepoTags ?? []).some((tag) => tag.startsWith(`${DERIVED_REPOSITORY}:`)));
  if (packaged.length === 0) return [];
  const need = await needs(engine, store, log);
  const used = new Set<string>();
  for (const container of await engine.docker.listContainers({ all: true })) {
    used.add(container.ImageID);
    used.add(container.Image);
  }
  const rows: PackageImageRow[] = [];
  for (const image of packaged) {
    const labels = image.Labels ?? {};
    const tags = (image.RepoTags ?? []).filter((tag) => tag.startsWith(`${DERIVED_REPOSITORY}:`));
    const packages = canonical(labels['drover.packages'] ?? '');
    const needed =
      tags.some((tag) => need.tags.has(tag)) ||
      need.configs.has(`${labels['drover.base'] ?? ''}\n${packages}`) ||
      need.environments.has(packages) ||
      need.environments.has('*');
    rows.push({
      id: image.Id,
      tags,
      tag: tags[0] ?? image.Id,
      bytes: image.Size,
      ownBytes: Math.max(0, image.Size - Math.max(0, image.SharedSize)),
      createdMs: image.Created * 1000,
      inUse: used.has(image.Id) || tags.some((tag) => used.has(tag)),
      needed,
    });
  }
  return rows.sort((a, b) => b.bytes - a.bytes || a.tag.localeCompare(b.tag));
}

/** Removes the package images nothing needs and no container uses (older than the grace period); how many and the bytes freed. */
export async function reclaimPackageImages(
  engine: DockerEngine,
  store: SessionStore,
  options: PackageImageOptions = {},
): Promise<{ images: number; bytes: number }> {
  const grace = options.graceMs ?? PACKAGE_IMAGE_GRACE_MS;
  let images = 0;
  let bytes = 0;
  for (const row of await listPackageImages(engine, store, undefined, options.log)) {
    if (row.needed || row.inUse || Date.now() - row.createdMs < grace) continue;
    if (options.only && !options.only(row.tag)) continue;
    try {
      // Its tags, not force: an image a snapshot image still builds on is only untagged by the engine, and counts as not freed.
      for (const tag of row.tags) await engine.docker.getImage(tag).remove();
    } catch (error) {
      options.log?.(`Could not remove the package image ${row.tag}`, error);
    }
    if (!(await engine.imageExists(row.id))) {
      images += 1;
      bytes += row.ownBytes;
    }
  }
  return { images, bytes };
}

/**
 * The image a Docker hand with `packages` runs: its base image plus the packages (apt, then pip,
 * then npm), built once and cached by content — the tag is a hash of the base image's id and the
 * sorted package lists, so a second session (or a restart) with the same base and packages starts
 * at once from the image already built, and a changed base image builds anew.
 *
 * Packages reach the build as arguments of exec-form RUN lines (JSON), never as shell text. A
 * build that fails rejects with its last lines and what to do; nothing half-built is tagged.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DockerPackages } from '#shared/hands';
import type { DockerEngine } from './engine.ts';

/** Where derived images are tagged (shared by every session and data folder of this machine's Docker). */
export const DERIVED_REPOSITORY = 'drover-packages';
/** The builder's own lines (steps, layer ids, intermediate containers): not shown in a failure. */
const BOOKKEEPING = /^(Step \d+\/\d+ : |\s*---> |Removing intermediate container |Successfully (built|tagged) )/;
/** Terminal colour codes (the builder colours a step's stderr). */
const COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
/** Lines of build output kept for a failure's message. */
const TAIL_LINES = 15;

const INSTALL: Record<keyof DockerPackages, string> = {
  apt: [
    'command -v apt-get >/dev/null 2>&1 || { echo "apt packages need apt-get, and the image $0 has none (it is not Debian or Ubuntu based). Use an image that has them, or one with apt-get." >&2; exit 1; }',
    'set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update; apt-get install -y --no-install-recommends "$@"; rm -rf /var/lib/apt/lists/*',
  ].join('\n'),
  pip: [
    'if command -v pip >/dev/null 2>&1; then PIP="pip"; elif command -v pip3 >/dev/null 2>&1; then PIP="pip3"; elif python3 -m pip --version >/dev/null 2>&1; then PIP="python3 -m pip"; else echo "pip packages need pip, and the image $0 has none. Add python3-pip to the apt packages, or use an image with pip." >&2; exit 1; fi',
    'export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1; $PIP install "$@"',
  ].join('\n'),
  npm: [
    'command -v npm >/dev/null 2>&1 || { echo "npm packages need npm, and the image $0 has none. Add nodejs and npm to the apt packages, or use an image with npm." >&2; exit 1; }',
    'npm install --global --no-audit --no-fund --no-update-notifier "$@"',
  ].join('\n'),
};

/** Whether the config asks for any package. */
export function hasPackages(packages: DockerPackages | undefined): packages is DockerPackages {
  return packages !== undefined && packages.apt.length + packages.pip.length + packages.npm.length > 0;
}

/** "apt: ripgrep; npm: typescript@5", for messages. */
export function describePackages(packages: DockerPackages): string {
  return (['apt', 'pip', 'npm'] as const)
    .filter((manager) => packages[manager].length > 0)
    .map((manager) => `${manager}: ${packages[manager].join(', ')}`)
    .join('; ');
}

/** The tag of the derived image for this base image id and these packages. */
export function derivedTag(baseId: string, packages: DockerPackages): string {
  const sorted = { apt: [...packages.apt].sort(), pip: [...packages.pip].sort(), npm: [...packages.npm].sort() };
  const hash = createHash('sha256')
    .update(JSON.stringify({ base: baseId, packages: sorted }))
    .digest('hex')
    .slice(0, 24);
  return `${DERIVED_REPOSITORY}:${hash}`;
}

/** The Dockerfile that installs `packages` on the image `baseId` (exec form: the package names are JSON arguments). */
export function derivedDockerfile(baseId: string, base: string, packages: DockerPackages): string {
  const lines = [`FROM ${baseId}`];
  for (const manager of ['apt', 'pip', 'npm'] as const) {
    if (packages[manager].length === 0) continue;
    lines.push(`RUN ${JSON.stringify(['/bin/sh', '-c', INSTALL[manager], base, ...packages[manager]])}`);
  }
  lines.push(`LABEL drover.base=${JSON.stringify(base)} drover.packages=${JSON.stringify(describePackages(packages))}`);
  return `${lines.join('\n')}\n`;
}

export interface BuildHooks {
  signal: AbortSignal;
  /** Called once when a build starts (not when the image is already built). */
  onBuildStart: (message: string) => void;
  /** Each line of build output. */
  onLine: (line: string) => void;
}

/** Builds in flight, by tag: two hands that need the same image wait for one build. */
const building = new Map<string, Promise<void>>();

/**
 * The derived image for `base` (present on this machine) with `packages`: its tag, built now
 * unless it is already there.
 */
export async function ensureDerivedImage(engine: DockerEngine, base: string, packages: DockerPackages, hooks: BuildHooks): Promise<string> {
  const info = await engine.docker.getImage(base).inspect();
  const tag = derivedTag(info.Id, packages);
  if (await engine.imageExists(tag)) return tag;
  let build = building.get(tag);
  if (!build) {
    build = buildImage(engine, tag, derivedDockerfile(info.Id, base, packages), base, packages, hooks).finally(() => building.delete(tag));
    building.set(tag, build);
  }
  await build;
  return tag;
}

async function buildImage(
  engine: DockerEngine,
  tag: string,
  dockerfile: string,
  base: string,
  packages: DockerPackages,
  hooks: BuildHooks,
): Promise<void> {
  hooks.onBuildStart(`Building an image from ${base} with ${describePackages(packages)} (once: later starts reuse it)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'drover-build-'));
  const tail: string[] = [];
  let partial = '';
  /** One line of output: to the progress, and to the tail unless it is the builder's own bookkeeping. */
  const take = (raw: string): void => {
    const line = raw.replace(COLOURS, '').replace(/\r/g, '').trimEnd();
    if (line === '' || BOOKKEEPING.test(line)) return;
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    hooks.onLine(line);
  };
  try {
    await writeFile(path.join(dir, 'Dockerfile'), dockerfile);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await engine.docker.buildImage({ context: dir, src: ['Dockerfile'] }, { t: tag, rm: true, forcerm: true, pull: false });
    } catch (error) {
      throw engine.explain(error, `build an image with ${describePackages(packages)}`);
    }
    const failure = await new Promise<string | null>((resolve, reject) => {
      const onAbort = (): void => {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        reject(new Error('stopped'));
      };
      if (hooks.signal.aborted) return onAbort();
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      engine.docker.modem.followProgress(
        stream,
        (error: Error | null, output: Array<{ error?: string }>) => {
          hooks.signal.removeEventListener('abort', onAbort);
          if (error) return resolve(error.message);
          const failed = output.find((entry) => typeof entry.error === 'string');
          resolve(failed?.error ?? null);
        },
        (event: { stream?: string; error?: string }) => {
          if (event.error !== undefined) return; // the failure itself, said once at the end
          // Output comes in pieces that need not end at line ends.
          const lines = (partial + (event.stream ?? '')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) take(line);
        },
      );
    });
    take(partial);
    if (failure !== null) {
      // The builder repeats the whole RUN line: its exit code is what matters.
      const code = /returned a non-zero code: (\d+)/.exec(failure)?.[1];
      const reason = code === undefined ? failure.trim() : `an install step exited with code ${code}`;
      throw new Error(
        [
          `Building the image with ${describePackages(packages)} on ${base} failed: ${reason}.`,
          'Last lines of the build:',
          ...tail,
          'Check the package names and versions (and that the image can reach its package registry), then start the hand again.',
        ].join('\n'),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The engine of one Docker hand (issue 22): the engine the hand names, or the one its requirements
 * pick (engines/engine-pool.ts), chosen when the hand first starts — before that, nothing of the
 * hand touches an engine. The choice sticks for the hand's life (a fresh container after a loss
 * starts on the same engine); it is recorded in the hand's log with its reason
 * (`hand.provisioning`, phase `connecting`). Every call of the hand — containers, execs, archives,
 * checkpoints' captures and restores — goes through this object, so all of it reaches the chosen
 * engine.
 *
 * Host folders (mounts) are this computer's: a hand with mounts is refused on a remote engine.
 */
import { AppError } from '#shared/errors';
import type { DockerHandConfig } from '#shared/hands';
import { LOCAL_ENGINE_ID } from '#shared/engines';
import type { EnginePool } from '#services/engines/engine-pool';
import { DockerEngine } from './engine.ts';

export interface RoutedEngineOptions {
  pool: EnginePool;
  /** The hand's engine and requirements (its configuration). */
  config: Pick<DockerHandConfig, 'engine' | 'requirements' | 'mounts'>;
  /** Records which engine was picked and why (the hand's log). */
  note(message: string): void;
}

/** Whether a hand's configuration asks for an engine other than the registry's default. */
export function routesEngine(config: { engine?: string | undefined; requirements?: object | undefined }): boolean {
  return (config.engine !== undefined && config.engine !== LOCAL_ENGINE_ID) || config.requirements !== undefined;
}

export class RoutedEngine extends DockerEngine {
  private picking: Promise<void> | null = null;
  private picked = false;

  constructor(
    local: DockerEngine,
    private readonly options: RoutedEngineOptions,
  ) {
    super({ instance: local.instance });
    this.become(local);
  }

  /** The engine's id once picked, else null. */
  pickedId: string | null = null;

  /** The engine the hand names (its configuration), if any. */
  get named(): string | undefined {
    return this.options.config.engine;
  }

  override ready(signal: AbortSignal): Promise<void> {
    if (this.picked) return Promise.resolve();
    this.picking ??= this.pick(signal).finally(() => {
      this.picking = null;
    });
    return this.picking;
  }

  private async pick(signal: AbortSignal): Promise<void> {
    const { pool, config, note } = this.options;
    signal.throwIfAborted();
    const choice = await pool.pick(config.requirements ?? {}, config.engine);
    if (choice.engine.remote && config.mounts.length > 0) {
      throw new Error(
        `This hand mounts folders of this computer (${config.mounts.map((mount) => mount.host_path).join(', ')}), which the Docker engine "${choice.config.name}" on another machine cannot see. Remove the mounts, or run the hand on this computer's engine.`,
      );
    }
    this.become(choice.engine);
    this.pickedId = choice.id;
    this.picked = true;
    note(choice.why);
  }
}

/**
 * The engine object a Docker hand is made with: the registry's (this computer's) engine, or — for a
 * hand that names another engine or states requirements — a RoutedEngine that picks at start.
 */
export function engineForHand(
  registry: { docker: DockerEngine; engines?: EnginePool },
  name: string,
  config: Pick<DockerHandConfig, 'engine' | 'requirements' | 'mounts'>,
  note: (message: string) => void,
): DockerEngine {
  if (!routesEngine(config)) return registry.docker;
  const pool = registry.engines;
  if (!pool) {
    throw new AppError(
      'invalid-argument',
      `The hand "${name}" asks for another Docker engine, but this Drover has no engines besides this computer's. Remove its engine and requirements.`,
    );
  }
  return new RoutedEngine(registry.docker, { pool, config, note });
}

/**
 * The engine a Docker hand's container and images are on now (`engine`: the one it was made with):
 * the engine it picked; before a routed hand picks (nothing of it started yet), the engine it
 * names, else this computer's — images are read by content id there, so one missing reads as unknown.
 */
export function engineNow(engine: DockerEngine | undefined, registry: { docker: DockerEngine; engines?: EnginePool }): DockerEngine {
  if (!(engine instanceof RoutedEngine) || engine.pickedId !== null) return engine ?? registry.docker;
  const named = engine.named;
  if (named === undefined || named === LOCAL_ENGINE_ID || !registry.engines) return registry.docker;
  try {
    return registry.engines.engine(named);
  } catch {
    return registry.docker; // the engine was removed from Settings since
  }
}

/** A hand's configuration as far as its image and engine go (any kind of hand). */
export interface HandImage {
  kind: string;
  image?: string;
  engine?: string;
  requirements?: object;
}

/** The images of Docker hands that run on this computer's engine, once each (checked here before a session starts). */
export function imagesCheckedHere(hands: ReadonlyArray<{ config: HandImage }>): string[] {
  const images = hands.flatMap(({ config }) =>
    config.kind === 'docker' && config.image !== undefined && !routesEngine(config) ? [config.image] : [],
  );
  return [...new Set(images)];
}

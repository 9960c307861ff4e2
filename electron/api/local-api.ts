/**
 * Settings → Local API: runs the Managed Agents API server (startApi) as the user set it up. Its
 * settings (`local-api.json`: enabled, port, the image `cloud` environments run when their
 * metadata names none; off by default) and its token (`api-token`) live in
 * the data folder, both readable by the user alone (mode 0600). Turning it on, moving it or
 * turning it off applies at once; a port it cannot listen on is refused in words and nothing is
 * saved. A new token is in force at once: the old one is refused from the next request, and the
 * server restarts on the same port so that no connection opened with it (a stream) stays open.
 * A new image applies to sessions created after (the API's context reads it at each session).
 *
 * Implements the rpc layer's `LocalApiControl`; the hosts (electron/main, electron/serve) make one
 * and hand it to `createHost`. Every change is serialized, so two quick clicks cannot race.
 */
import { readFileSync } from 'node:fs';
import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import {
  DEFAULT_LOCAL_API_PORT,
  EnvironmentImageSchema,
  LocalApiPortSchema,
  type LocalApiNewToken,
  type LocalApiSettings,
  type LocalApiStatus,
} from '#shared/local-api';
import type { LocalApiControl } from '#rpc/local-api-handlers';
import { newToken, readToken, tokenIsValid, writeToken } from '#services/access-token';
import { DEFAULT_ENVIRONMENT_IMAGE } from '#services/managed/environment-hand';
import { writePrivateFileAtomic } from '#services/vault/private-file';
import type { EnvironmentKeyInfo, NewEnvironmentKey, WorkerStatus } from '#shared/workers';
import { EnvironmentStore } from '#services/managed/environments';
import type { WorkQueue } from '#services/managed/work-queue';
import type { ApiContext } from './context.ts';
import type { RunningApi } from './server.ts';
import { API_TOKEN_FILE, startApi } from './start.ts';
import { existingWorkQueue, workQueueFor } from './work.ts';

function keyInfoOf(queue: WorkQueue, environment: BetaEnvironment): EnvironmentKeyInfo {
  const key = queue.keyInfo(environment.id);
  return { environment_id: environment.id, name: environment.name, hint: key?.hint ?? null, created_at: key?.created_at ?? null };
}

export const LOCAL_API_SETTINGS_FILE = 'local-api.json';

/** Version 1 had no image (its files load with the default); version 2 names it. */
const SettingsFileSchema = z.discriminatedUnion('version', [
  z.strictObject({ version: z.literal(1), enabled: z.boolean(), port: LocalApiPortSchema }),
  z.strictObject({ version: z.literal(2), enabled: z.boolean(), port: LocalApiPortSchema, environment_image: EnvironmentImageSchema }),
]);

/** The settings in force: every field present. */
type Settings = Required<LocalApiSettings>;

export interface LocalApiOptions {
  dataDir: string;
  /** The API's context, asked for at each start (by then the host exists); its default image is this LocalApi's. */
  context: () => Omit<ApiContext, 'defaultImage'>;
  /** Where to listen (default 127.0.0.1; the API answers this machine only whatever it is). */
  listenHost?: string;
  log: (line: string, error?: unknown) => void;
}

/** For serve's `--api-port N [--api-token T] [--api-image I]`: on, on that port, for this run (not saved). */
export interface LocalApiOverride {
  port: number;
  /** A token to use (and keep as `api-token`); absent: the stored one, else a new one. */
  token?: string;
  /** The image `cloud` environments run for this run; absent: the saved one. */
  image?: string;
}

export class LocalApi implements LocalApiControl {
  private settings: Settings;
  private token: string | null;
  private running: RunningApi | null = null;
  private error: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly settingsFile: string;
  private readonly listenHost: string;

  constructor(private readonly options: LocalApiOptions) {
    this.settingsFile = path.join(options.dataDir, LOCAL_API_SETTINGS_FILE);
    this.listenHost = options.listenHost ?? '127.0.0.1';
    this.settings = this.readSettings();
    this.token = readToken(options.dataDir, API_TOKEN_FILE);
  }

  /**
   * Starts the API as saved (or, with `override`, on that port for this run). Never throws for a
   * port it cannot have: the status's `error` says why it is not running.
   */
  start(override?: LocalApiOverride): Promise<LocalApiStatus> {
    return this.serialized(async () => {
      if (override !== undefined) {
        if (override.token !== undefined) {
          if (!tokenIsValid(override.token)) {
            throw new AppError('invalid-argument', 'An API token must be 16–256 characters of letters, digits, "-" or "_".');
          }
          this.keepToken(override.token);
        }
        const image = override.image === undefined ? this.settings.environment_image : checkedImage(override.image);
        this.settings = { enabled: true, port: override.port, environment_image: image };
      }
      if (!this.settings.enabled) return this.status();
      try {
        this.running = await this.listen(this.settings.port);
        this.error = null;
      } catch (error) {
        this.error = error instanceof AppError ? error.message : String(error);
        this.options.log(`The Local API did not start: ${this.error}`);
      }
      return this.status();
    });
  }

  status(): LocalApiStatus {
    const running = this.running;
    return {
      enabled: this.settings.enabled,
      port: running?.port ?? this.settings.port,
      baseURL: running?.baseURL ?? null,
      running: running !== null,
      error: this.settings.enabled && running === null ? this.error : null,
      tokenHint: this.token === null ? null : this.token.slice(-4),
      environment_image: this.settings.environment_image,
    };
  }

  /** The image `cloud` environments run when their metadata names none: what the sessions created now get. */
  defaultImage(): string {
    return this.settings.environment_image;
  }

  configure(settings: LocalApiSettings): Promise<LocalApiStatus> {
    return this.serialized(async () => {
      const { enabled, port, environment_image } = checkedSettings(settings, this.settings.environment_image);
      if (!enabled) {
        this.save({ enabled: false, port, environment_image });
        const running = this.running;
        this.running = null;
        this.error = null;
        await running?.close();
        return this.status();
      }
      const current = this.running;
      if (current === null || current.port !== port) {
        // The new port first: if it cannot be had, whatever ran goes on running and nothing is saved.
        const next = await this.listen(port);
        this.running = next;
        this.error = null;
        await current?.close();
      }
      this.save({ enabled: true, port, environment_image });
      return this.status();
    });
  }

  rotateToken(): Promise<LocalApiNewToken> {
    return this.serialized(async () => {
      const token = newToken();
      this.keepToken(token);
      this.options.log('A new Local API token was made; the old one no longer works.');
      const running = this.running;
      if (running !== null) {
        // Refused from the next request already; a restart also ends connections opened with the old one.
        this.running = null;
        await running.close();
        try {
          this.running = await this.listen(running.port);
          this.error = null;
        } catch (error) {
          this.error = error instanceof AppError ? error.message : String(error);
          this.options.log(`The Local API did not restart after the new token: ${this.error}`);
        }
      }
      return { token, status: this.status() };
    });
  }

  /** The session's self-hosted worker: none until the API made its work queue in this run (it lives in memory). */
  workers(sessionId: string): WorkerStatus[] {
    return existingWorkQueue(this.options.context().managed)?.workersOf(sessionId) ?? [];
  }

  environmentKeys(): EnvironmentKeyInfo[] {
    const queue = this.workQueue();
    const environments = new EnvironmentStore(this.options.context().managed).list();
    return environments
      .filter((environment) => environment.config.type === 'self_hosted')
      .map((environment) => keyInfoOf(queue, environment));
  }

  makeEnvironmentKey(environmentId: string): NewEnvironmentKey {
    const environment = this.selfHosted(environmentId);
    const queue = this.workQueue();
    const key = queue.mintKey(environment.id);
    this.options.log(`A new environment key was made for ${environment.id}; its old one no longer works.`);
    return { key, info: keyInfoOf(queue, environment) };
  }

  revokeEnvironmentKey(environmentId: string): EnvironmentKeyInfo {
    const environment = this.selfHosted(environmentId);
    const queue = this.workQueue();
    queue.revokeKey(environment.id);
    this.options.log(`The environment key of ${environment.id} was revoked.`);
    return keyInfoOf(queue, environment);
  }

  private selfHosted(environmentId: string): BetaEnvironment {
    const environment = new EnvironmentStore(this.options.context().managed).get(environmentId);
    if (environment.config.type !== 'self_hosted')
      throw new AppError(
        'invalid-argument',
        `The environment ${environment.id} is "${environment.config.type}": only a self_hosted environment has a key for workers.`,
      );
    return environment;
  }

  private workQueue(): WorkQueue {
    return workQueueFor({ ...this.options.context(), defaultImage: () => this.defaultImage() });
  }

  /** Stops the server (at quit); later changes are refused. Closing twice is harmless. */
  close(): Promise<void> {
    return this.serialized(async () => {
      this.closed = true;
      const running = this.running;
      this.running = null;
      await running?.close();
    }, true);
  }

  private serialized<T>(work: () => Promise<T>, evenClosed = false): Promise<T> {
    const next = this.queue.then(() => {
      if (this.closed && !evenClosed) throw new AppError('conflict', 'Drover is quitting: the Local API can no longer be changed.');
      return work();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async listen(port: number): Promise<RunningApi> {
    if (this.token === null) this.keepToken(newToken());
    const context: ApiContext = { ...this.options.context(), defaultImage: () => this.defaultImage() };
    try {
      const running = await startApi({
        context,
        host: this.listenHost,
        port,
        // Never empty: with no token (impossible here) a fresh unknown one refuses everyone.
        token: () => this.token ?? newToken(),
      });
      this.options.log(`The Local API listens at ${running.baseURL}.`);
      return running;
    } catch (error) {
      throw listenError(error, port);
    }
  }

  private keepToken(token: string): void {
    try {
      writeToken(this.options.dataDir, API_TOKEN_FILE, token);
    } catch (error) {
      throw new AppError(
        'storage-unwritable',
        `The Local API's token could not be saved in ${this.options.dataDir}: ${error instanceof Error ? error.message : String(error)}. Check that the data folder is writable and has room, then try again.`,
      );
    }
    this.token = token;
  }

  private readSettings(): Settings {
    const off: Settings = { enabled: false, port: DEFAULT_LOCAL_API_PORT, environment_image: DEFAULT_ENVIRONMENT_IMAGE };
    let text: string;
    try {
      text = readFileSync(this.settingsFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.options.log(`${this.settingsFile} could not be read; the Local API is off`, error);
      return off;
    }
    try {
      const parsed = SettingsFileSchema.safeParse(JSON.parse(text));
      if (parsed.success) {
        const { enabled, port } = parsed.data;
        return { enabled, port, environment_image: parsed.data.version === 1 ? DEFAULT_ENVIRONMENT_IMAGE : parsed.data.environment_image };
      }
      this.options.log(
        `${this.settingsFile} is not valid (${parsed.error.issues[0]?.message ?? 'unknown problem'}); the Local API is off until it is set again`,
      );
    } catch (error) {
      this.options.log(`${this.settingsFile} is not JSON; the Local API is off until it is set again`, error);
    }
    return off;
  }

  private save(settings: Settings): void {
    try {
      writePrivateFileAtomic(this.settingsFile, `${JSON.stringify({ version: 2, ...settings })}\n`);
    } catch (error) {
      throw new AppError(
        'storage-unwritable',
        `The Local API's settings could not be saved in ${this.options.dataDir}: ${error instanceof Error ? error.message : String(error)}. Check that the data folder is writable and has room, then try again.`,
      );
    }
    this.settings = settings;
  }
}

/** Checked again here: a host may call `configure` without the RPC layer's validation. */
function checkedSettings(settings: LocalApiSettings, currentImage: string): Settings {
  const port = LocalApiPortSchema.safeParse(settings.port);
  if (!port.success)
    throw new AppError('invalid-argument', `The Local API's port must be a number from 1 to 65535 (got ${String(settings.port)}).`);
  const image = settings.environment_image === undefined ? currentImage : checkedImage(settings.environment_image);
  return { enabled: settings.enabled, port: port.data, environment_image: image };
}

/** An image reference as a Docker hand takes it (trimmed), or an AppError saying what one looks like. */
function checkedImage(image: string): string {
  const parsed = EnvironmentImageSchema.safeParse(image);
  if (parsed.success) return parsed.data;
  throw new AppError(
    'invalid-argument',
    `${JSON.stringify(String(image).slice(0, 80))} is not an image for cloud environments: ${parsed.error.issues[0]?.message ?? 'not an image reference'}.`,
  );
}

/** Why the server could not listen on `port`, in words the user can act on. */
function listenError(error: unknown, port: number): AppError {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new AppError('conflict', `Port ${port} is in use: pick another (another program, or another Drover, listens there).`);
  }
  if (code === 'EACCES') {
    return new AppError('conflict', `Port ${port} needs administrator rights on this system: pick one from 1024 to 65535.`);
  }
  return new AppError(
    'conflict',
    `The Local API could not listen on port ${port}: ${error instanceof Error ? error.message : String(error)}. Pick another port, or try again.`,
    { cause: error },
  );
}

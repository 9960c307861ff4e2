/**
 * The Docker engines the user added (Settings → Engines), in `<dataDir>/engines.json` (mode 0600,
 * replaced atomically). This computer's engine (`local`) is always first and cannot be removed
 * (only its labels change). Entries hold vault secret ids, never secret values.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import { EngineConfigSchema, LOCAL_ENGINE_ID, type EngineConfig, type EngineConfigInput } from '#shared/engines';
import { writePrivateFileAtomic } from '#services/vault/private-file';

const EnginesFileSchema = z.strictObject({ version: z.literal(1), engines: z.array(EngineConfigSchema) });

const LOCAL: EngineConfig = { id: LOCAL_ENGINE_ID, kind: 'local', name: 'This computer', labels: [] };

export class EngineStore {
  constructor(readonly file: string) {}

  /** Every engine, this computer's first. */
  list(): EngineConfig[] {
    const engines = this.read();
    const local = engines.find((engine) => engine.id === LOCAL_ENGINE_ID) ?? LOCAL;
    return [local, ...engines.filter((engine) => engine.id !== LOCAL_ENGINE_ID)];
  }

  get(id: string): EngineConfig | null {
    return this.list().find((engine) => engine.id === id) ?? null;
  }

  /** Adds an engine or replaces the one with its id. Refuses an invalid configuration with what is wrong. */
  put(input: EngineConfigInput): EngineConfig[] {
    const parsed = EngineConfigSchema.safeParse(input);
    if (!parsed.success) {
      throw new AppError(
        'invalid-argument',
        `This engine is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'engine'}: ${issue.message}`).join('; ')}.`,
      );
    }
    const engine = parsed.data;
    if ((engine.id === LOCAL_ENGINE_ID) !== (engine.kind === 'local')) {
      throw new AppError(
        'invalid-argument',
        engine.kind === 'local'
          ? 'Only the engine "local" is this computer\'s engine.'
          : 'The id "local" is this computer\'s engine; give the new engine another id.',
      );
    }
    const engines = this.list().filter((existing) => existing.id !== engine.id);
    const next = engine.id === LOCAL_ENGINE_ID ? [engine, ...engines] : [...engines, engine];
    this.write(next);
    return this.list();
  }

  remove(id: string): EngineConfig[] {
    if (id === LOCAL_ENGINE_ID) throw new AppError('invalid-argument', "This computer's engine cannot be removed.");
    const engines = this.list();
    if (!engines.some((engine) => engine.id === id)) throw new AppError('not-found', `There is no engine "${id}".`);
    this.write(engines.filter((engine) => engine.id !== id));
    return this.list();
  }

  private read(): EngineConfig[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return [];
      throw error;
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // reported below
    }
    const parsed = EnginesFileSchema.safeParse(json);
    if (!parsed.success) {
      throw new AppError(
        'internal',
        `The list of Docker engines (${this.file}) is damaged. Fix or delete it, then add the engines again in Settings → Engines.`,
      );
    }
    return parsed.data.engines;
  }

  private write(engines: EngineConfig[]): void {
    writePrivateFileAtomic(this.file, `${JSON.stringify({ version: 1, engines }, null, 2)}\n`);
  }
}

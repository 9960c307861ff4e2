/**
 * The list of containers kept alive across a quit (`kept-containers.json`: container id → until
 * when), which the next start reuses or removes (HandRegistry.close and cleanUp).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writePrivateFileAtomic } from '#services/vault/private-file';

const KeepFileSchema = z.record(z.string(), z.string());

/** The kept containers and until when (ISO time); empty when there is no list or it cannot be read. */
export function readKept(file: string | undefined): Record<string, string> {
  if (!file) return {};
  try {
    const parsed = KeepFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export function writeKept(file: string | undefined, kept: Record<string, string>, log: (message: string, error?: unknown) => void): void {
  if (!file) return;
  try {
    writePrivateFileAtomic(file, JSON.stringify(kept, null, 2));
  } catch (error) {
    log('Could not record the containers kept alive', error);
  }
}

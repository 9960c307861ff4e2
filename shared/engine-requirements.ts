/**
 * What a Docker hand may ask of the engine it runs on (issue 22): instead of naming an engine, a
 * hand can state what its task needs, and Drover picks an engine that has it. Pure data + zod
 * (imported by shared/hands.ts and shared/engines.ts; imports nothing of theirs).
 */
import { z } from 'zod';

/** An engine's id: `local` (this computer's engine) or one the user added. */
export const EngineIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'an engine id is 1–40 lowercase letters, digits or dashes, starting with a letter');

/** A label the user gives an engine (e.g. `gpu-box`, `team=ml`). */
export const EngineLabelSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._=:-]{0,62}$/, 'a label is letters, digits, ".", "_", "=", ":" or "-" (at most 63)');

/** Docker's names for CPU architectures (`docker info` reports `x86_64` / `aarch64`; both spellings are accepted). */
export const ArchSchema = z.enum(['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64']);
export type Arch = z.infer<typeof ArchSchema>;

export const EngineRequirementsSchema = z.strictObject({
  arch: ArchSchema.optional(),
  /** At least this many CPUs on the engine's machine. */
  min_cpus: z.number().int().min(1).max(4096).optional(),
  /** At least this much memory on the engine's machine, in MiB. */
  min_memory_mb: z
    .number()
    .int()
    .min(16)
    .max(64 * 1024 * 1024)
    .optional(),
  /** An engine that can give containers a GPU (an `nvidia` runtime). */
  gpu: z.boolean().optional(),
  /** Every one of these labels the user gave the engine. */
  labels: z.array(EngineLabelSchema).max(16).optional(),
});
export type EngineRequirements = z.output<typeof EngineRequirementsSchema>;

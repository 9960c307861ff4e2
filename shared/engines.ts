/**
 * Docker engines Drover's Docker hands run on (issue 22): this computer's engine (always there),
 * and engines reached as Docker itself reaches them — `ssh://user@host[:port]` (the engine's socket
 * over SSH, with Drover's known-hosts trust and a login from the vault) and `tcp://host:port` with
 * TLS (CA, certificate and key from the vault). Secrets are vault ids only: no secret value is ever
 * part of an engine's configuration. Pure data + zod.
 */
import { z } from 'zod';
import { EngineIdSchema, EngineLabelSchema } from './engine-requirements.ts';
import { HostKeySchema, SshAuthSchema } from './hands.ts';
import { SecretIdSchema } from './vault.ts';

export { EngineIdSchema, EngineLabelSchema, EngineRequirementsSchema, type EngineRequirements } from './engine-requirements.ts';

/** The id of this computer's engine. */
export const LOCAL_ENGINE_ID = 'local';

const SSH_URL = /^ssh:\/\/([A-Za-z_][A-Za-z0-9_.-]*)@([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/?$/;
const TCP_URL = /^tcp:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})\/?$/;

/** Where an engine's URL points: `ssh://user@host[:port]` (port 22 by default) or `tcp://host:port`. */
export function parseEngineUrl(
  url: string,
): { kind: 'ssh'; user: string; host: string; port: number } | { kind: 'tcp'; host: string; port: number } | null {
  const ssh = SSH_URL.exec(url);
  if (ssh) {
    const port = ssh[3] === undefined ? 22 : Number(ssh[3]);
    if (port < 1 || port > 65_535) return null;
    return { kind: 'ssh', user: ssh[1] ?? '', host: (ssh[2] ?? '').replace(/^\[|\]$/g, ''), port };
  }
  const tcp = TCP_URL.exec(url);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65_535) return null;
    return { kind: 'tcp', host: (tcp[1] ?? '').replace(/^\[|\]$/g, ''), port };
  }
  return null;
}

const base = {
  id: EngineIdSchema,
  /** What the user calls it (shown in Settings and in the hand's notes). */
  name: z.string().trim().min(1, 'give the engine a name').max(80),
  /** Labels the user gives the engine; a hand's requirements can ask for them. */
  labels: z.array(EngineLabelSchema).max(32).default([]),
};

export const LocalEngineConfigSchema = z.strictObject({ ...base, kind: z.literal('local') });

export const SshEngineConfigSchema = z.strictObject({
  ...base,
  kind: z.literal('ssh'),
  url: z.string().regex(SSH_URL, 'an SSH engine is ssh://user@host or ssh://user@host:port'),
  /** How Drover logs in (a key or password from the vault, or ssh-agent), as for SSH hands. */
  auth: SshAuthSchema,
  /** The engine's socket on that machine. */
  socket_path: z
    .string()
    .min(1)
    .max(1024)
    .refine((p) => p.startsWith('/'), 'the engine socket is an absolute path on that machine, like /var/run/docker.sock')
    .default('/var/run/docker.sock'),
});

export const TcpEngineConfigSchema = z.strictObject({
  ...base,
  kind: z.literal('tcp'),
  url: z.string().regex(TCP_URL, 'a TLS engine is tcp://host:port (Docker uses port 2376 for TLS)'),
  /** The CA certificate the engine's certificate is checked against (PEM, in the vault). */
  ca_secret_id: SecretIdSchema,
  /** Drover's client certificate and its private key (PEM, in the vault): the engine's `--tlsverify` checks them. */
  cert_secret_id: SecretIdSchema,
  key_secret_id: SecretIdSchema,
});

export const EngineConfigSchema = z.discriminatedUnion('kind', [LocalEngineConfigSchema, SshEngineConfigSchema, TcpEngineConfigSchema]);
export type EngineConfig = z.output<typeof EngineConfigSchema>;
export type EngineConfigInput = z.input<typeof EngineConfigSchema>;
export type SshEngineConfig = z.output<typeof SshEngineConfigSchema>;
export type TcpEngineConfig = z.output<typeof TcpEngineConfigSchema>;

/** What "Test" found: the engine's facts, or why it cannot be reached (in words). */
export const EngineTestResultSchema = z.strictObject({
  ok: z.boolean(),
  message: z.string(),
  /** Docker's version, the machine's OS and architecture (Docker's name, e.g. amd64), CPUs, memory (bytes), images. */
  version: z.string().nullable(),
  os: z.string().nullable(),
  arch: z.string().nullable(),
  cpus: z.number().int().nonnegative().nullable(),
  memory_bytes: z.number().nonnegative().nullable(),
  images: z.number().int().nonnegative().nullable(),
  /** Whether the engine has an `nvidia` runtime (a GPU for containers). */
  gpu: z.boolean().nullable(),
  /** For ssh:// engines: the host key presented and whether it is trusted (an unknown key is confirmed like an SSH hand's). */
  host_key: HostKeySchema.nullable(),
  trust: z.enum(['trusted', 'unknown', 'changed']).nullable(),
  latency_ms: z.number().nonnegative().nullable(),
});
export type EngineTestResult = z.infer<typeof EngineTestResultSchema>;

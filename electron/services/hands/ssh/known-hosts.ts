/**
 * The SSH host keys the user has trusted, in `<dataDir>/known-hosts.json` (mode 0600, replaced
 * atomically). A machine's key is trusted only by the user confirming its fingerprint: nothing
 * here ever trusts a key on its own, and a key that differs from the trusted one is `changed`
 * (refused: a possible man-in-the-middle) until the user forgets the old one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HostKeySchema, type HostKey } from '#shared/hands';
import { writePrivateFileAtomic } from '#services/vault/private-file';

export type HostKeyTrust = 'trusted' | 'unknown' | 'changed';

const KnownHostsFileSchema = z.strictObject({
  version: z.literal(1),
  keys: z.array(HostKeySchema.extend({ added_at: z.string() })),
});
type KnownHostsFile = z.infer<typeof KnownHostsFileSchema>;

/** `SHA256:` and the unpadded base64 of the SHA-256 of the key blob: what `ssh-keygen -l` prints. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key's algorithm, read from the blob (its first SSH string), e.g. `ssh-ed25519`. */
export function algorithmOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return 'unknown';
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** The host key of `host:port` as SSH presented it (the raw public key blob). */
export function hostKeyOf(host: string, port: number, blob: Buffer): HostKey {
  return { host, port, algorithm: algorithmOf(blob), fingerprint: fingerprintOf(blob) };
}

export class KnownHosts {
  constructor(readonly file: string) {}

  /** Whether `key` is the one trusted for its host and port. */
  check(key: HostKey): HostKeyTrust {
    const known = this.find(key.host, key.port);
    if (known === null) return 'unknown';
    return known.fingerprint === key.fingerprint ? 'trusted' : 'changed';
  }

  /** The key trusted for `host:port`, or null. */
  find(host: string, port: number): HostKey | null {
    const entry = this.read().keys.find((known) => sameHost(known, host, port));
    return entry ? { host: entry.host, port: entry.port, algorithm: entry.algorithm, fingerprint: entry.fingerprint } : null;
  }

  /** Trusts `key` for its host and port (replacing any key trusted there before). The user's decision only. */
  trust(key: HostKey): void {
    const parsed = HostKeySchema.parse(key);
    const file = this.read();
    const keys = file.keys.filter((known) => !sameHost(known, parsed.host, parsed.port));
    keys.push({ ...parsed, host: parsed.host.toLowerCase(), added_at: new Date().toISOString() });
    this.write({ version: 1, keys });
  }

  /** Forgets the key trusted for `host:port` (the next connection asks again). */
  forget(host: string, port: number): void {
    const file = this.read();
    const keys = file.keys.filter((known) => !sameHost(known, host, port));
    if (keys.length !== file.keys.length) this.write({ version: 1, keys });
  }

  list(): HostKey[] {
    return this.read().keys.map(({ host, port, algorithm, fingerprint }) => ({ host, port, algorithm, fingerprint }));
  }

  private read(): KnownHostsFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return { version: 1, keys: [] };
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    const parsed = KnownHostsFileSchema.safeParse(json);
    // A damaged file is an error, not an empty list: quietly starting afresh would lose the user's decisions.
    if (!parsed.success)
      throw new Error(
        `The list of trusted SSH host keys (${this.file}) is damaged. Delete it, then confirm each machine's fingerprint again.`,
      );
    return parsed.data;
  }

  private write(file: KnownHostsFile): void {
    writePrivateFileAtomic(this.file, `${JSON.stringify(file, null, 2)}\n`);
  }
}

function sameHost(known: HostKey, host: string, port: number): boolean {
  return known.host.toLowerCase() === host.toLowerCase() && known.port === port;
}

/**
 * A vault key kept in a plain file (base64, mode 0600): a real KeySource for tests that exercise
 * the vault itself, and for tests that need a real vault in a temp folder. It protects nothing —
 * anyone who can read the file has the key — so it must never be used outside tests.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VAULT_KEY_BYTES, decodeKey, encodeKey, type KeySource } from '#services/vault/key-source';
import { writePrivateFileAtomic } from '#services/vault/private-file';

export class FileKeySource implements KeySource {
  readonly name: string;

  constructor(readonly file: string) {
    this.name = `test key file ${file}`;
  }

  async unavailableReason(): Promise<string | null> {
    return null;
  }

  async loadKey(): Promise<Buffer | null> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return null;
      throw error;
    }
    return decodeKey(text, this.file);
  }

  async createKey(): Promise<Buffer> {
    const existing = await this.loadKey();
    if (existing !== null) return existing;
    const key = randomBytes(VAULT_KEY_BYTES);
    writePrivateFileAtomic(this.file, encodeKey(key));
    return key;
  }
}

/**
 * Where the vault's 32-byte key lives: the OS keyring in serve mode, Electron safeStorage in the
 * app, a plain file in tests. The vault encrypts every value with this key; the key source
 * protects the key. A key source must never write the key in the clear to disk or to a log.
 */
import { AppError } from '#shared/errors';

/** Bytes in a vault key (AES-256). */
export const VAULT_KEY_BYTES = 32;

export interface KeySource {
  /**
   * How the key is protected, for the user, without an article (messages say "the …", "this …"):
   * "OS keyring (Secret Service)", "Electron safeStorage (gnome_libsecret)".
   */
  readonly name: string;
  /**
   * Why no key can be kept here, as sentences for the user that say what to do, or null when
   * the source works. Never throws.
   */
  unavailableReason(): Promise<string | null>;
  /**
   * The stored key, or null when none was made yet. Rejects when the source cannot be read
   * (an AppError 'vault-unavailable' saying why and what to do).
   */
  loadKey(): Promise<Buffer | null>;
  /**
   * Generates a key, stores it, and returns it. Must never replace a key that is already
   * stored (a vault locked with it would become unreadable).
   */
  createKey(): Promise<Buffer>;
}

/** A key as a key source keeps it in text form. */
export function encodeKey(key: Buffer): string {
  return key.toString('base64');
}

/**
 * The key in `text` (base64 of 32 bytes). Throws 'vault-unavailable' naming `where` when the
 * stored text is not a vault key, so nobody mistakes a damaged entry for a missing one.
 */
export function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== VAULT_KEY_BYTES) {
    throw new AppError(
      'vault-unavailable',
      `The vault key kept in ${where} is not a valid key (it should be ${VAULT_KEY_BYTES} bytes in base64). ` +
        'Nothing was changed. If something else wrote that entry, remove it and restore the right one; ' +
        'without it the secrets in the vault cannot be decrypted.',
    );
  }
  return key;
}

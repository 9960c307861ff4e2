/**
 * The vault key for the Electron app: `<dataDir>/vault.key`, encrypted with Electron safeStorage
 * (the Keychain on macOS, DPAPI on Windows, the Secret Service or KWallet on Linux). Uses the
 * async safeStorage API (Electron 45 has it; the sync one is deprecated). Call it only after the
 * app's 'ready' event.
 *
 * On Linux without a keyring, safeStorage falls back to 'basic_text': a password built into
 * Chromium, as good as plaintext. That is refused unless DROVER_ALLOW_WEAK_VAULT=1 accepts it.
 *
 * Must never: write the key unencrypted, or replace a key file that exists.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { safeStorage } from 'electron';
import { AppError } from '#shared/errors';
import { ensureDataDir } from '#services/data-dir';
import { storageError } from '#services/session/storage-errors';
import { VAULT_KEY_BYTES, decodeKey, encodeKey, type KeySource } from '#services/vault/key-source';
import { writePrivateFileAtomic } from '#services/vault/private-file';

export const VAULT_KEY_FILE = 'vault.key';
const WEAK_OPT_IN = 'DROVER_ALLOW_WEAK_VAULT';
/** Linux backends that protect nothing: no keyring was found (or the app is not ready yet). */
const WEAK_BACKENDS: ReadonlySet<string> = new Set(['basic_text', 'unknown']);

export function createSafeStorageKeySource(dataDir: string): KeySource {
  const file = path.join(dataDir, VAULT_KEY_FILE);
  const weakAccepted = process.env[WEAK_OPT_IN] === '1';

  function backendName(): string {
    if (process.platform === 'darwin') return 'Electron safeStorage (macOS Keychain)';
    if (process.platform === 'win32') return 'Electron safeStorage (Windows DPAPI)';
    if (process.platform === 'linux') return `Electron safeStorage (${safeStorage.getSelectedStorageBackend()})`;
    return 'Electron safeStorage';
  }

  async function decrypt(encrypted: Buffer): Promise<Buffer> {
    let result: string;
    let shouldReEncrypt: boolean;
    try {
      ({ result, shouldReEncrypt } = await safeStorage.decryptStringAsync(encrypted));
    } catch (error) {
      throw new AppError(
        'vault-unavailable',
        `The vault key in ${file} cannot be decrypted by the ${backendName()} (${detailOf(error)}): it was made under another OS account, ` +
          'on another machine, or with a keyring that has since been reset or is locked. Nothing was changed. ' +
          `Unlock the keyring and try again; or, to start over with an empty vault, move ${file} and vault.json aside.`,
        { cause: error },
      );
    }
    const key = decodeKey(result, file);
    if (shouldReEncrypt) {
      // The OS rotated its key: store ours under the new one. Best effort; the old file still opens.
      try {
        writePrivateFileAtomic(file, await safeStorage.encryptStringAsync(encodeKey(key)));
      } catch {
        // Kept as it was; tried again on the next start.
      }
    }
    return key;
  }

  function readEncrypted(): Buffer | null {
    try {
      return readFileSync(file);
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return null;
      throw new AppError(
        'storage-unwritable',
        `The vault key file ${file} cannot be read (${detailOf(error)}). Check that it belongs to you.`,
        {
          cause: error,
        },
      );
    }
  }

  return {
    get name() {
      return backendName();
    },

    async unavailableReason() {
      try {
        if (process.platform === 'linux' && weakAccepted) safeStorage.setUsePlainTextEncryption(true);
        if (!(await safeStorage.isAsyncEncryptionAvailable())) {
          return `The ${backendName()} cannot encrypt on this system, so Drover cannot keep secrets. Make sure your OS keyring is available to your account, then restart Drover.`;
        }
      } catch (error) {
        return `The ${backendName()} failed (${detailOf(error)}), so Drover cannot keep secrets. Restart Drover; if it persists, check your OS keyring.`;
      }
      if (process.platform === 'linux' && !weakAccepted) {
        const backend = safeStorage.getSelectedStorageBackend();
        if (WEAK_BACKENDS.has(backend)) {
          return (
            `This Linux session has no keyring Electron can use (safeStorage backend: ${backend}), so Drover would have to store ` +
            `secrets as good as plaintext: anyone who can read ${dataDir} could read them. Install and start gnome-keyring or KWallet ` +
            `(and log in through a desktop session that starts it), or set ${WEAK_OPT_IN}=1 to accept this.`
          );
        }
      }
      return null;
    },

    async loadKey() {
      const encrypted = readEncrypted();
      return encrypted === null ? null : decrypt(encrypted);
    },

    async createKey() {
      const existing = readEncrypted();
      if (existing !== null) return decrypt(existing);
      const key = randomBytes(VAULT_KEY_BYTES);
      const encrypted = await safeStorage.encryptStringAsync(encodeKey(key));
      try {
        ensureDataDir(dataDir);
        writePrivateFileAtomic(file, encrypted);
      } catch (error) {
        throw storageError(error, file, 'save the vault key') ?? error;
      }
      return key;
    },
  };
}

function detailOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

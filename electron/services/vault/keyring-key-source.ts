/**
 * The vault key kept in the OS keyring, for serve mode (no Electron, so no safeStorage): the
 * Secret Service on Linux (gnome-keyring, KWallet, KeePassXC), the Keychain on macOS, the
 * Credential Manager on Windows, through @napi-rs/keyring. One key per data folder: service
 * "Drover", account `vault-key:<instanceIdOf(dataDir)>`, the key in base64.
 *
 * On Linux the entry is pinned to the Secret Service: the library would otherwise fall back to
 * the kernel keyring, which lives in memory only, and the vault would be unreadable after a
 * reboot. libdbus reads DBUS_SESSION_BUS_ADDRESS once per process, at the first keyring call
 * (setting it later has no effect, even after a failure), so the environment must be right when
 * the process starts.
 *
 * Must never: log the key, or replace a key that is already stored.
 */
import { randomBytes } from 'node:crypto';
import { AsyncEntry } from '@napi-rs/keyring';
import { AppError } from '#shared/errors';
import { instanceIdOf } from '#services/hands/docker/engine';
import { VAULT_KEY_BYTES, decodeKey, encodeKey, type KeySource } from './key-source.ts';

export const KEYRING_SERVICE = 'Drover';

/**
 * How long one keyring call may take. Generous: on a desktop, a locked keyring shows an unlock
 * prompt and the call waits for the person to answer it.
 */
const CALL_TIMEOUT_MS = 120_000;

/** The keyring account holding the vault key of `dataDir`. */
export function keyringAccountOf(dataDir: string): string {
  return `vault-key:${instanceIdOf(dataDir)}`;
}

/** The key source for `dataDir`, in the OS keyring. */
export function createKeyringKeySource(dataDir: string): KeySource {
  const platform = process.platform;
  const account = keyringAccountOf(dataDir);
  const name = keyringName(platform);
  const where = `the ${name} (service "${KEYRING_SERVICE}", account "${account}")`;

  function entry(): AsyncEntry {
    // The constructor already probes the store when one is required, and throws when it is missing.
    return new AsyncEntry(KEYRING_SERVICE, account, { linux: { store: 'secret-service' } });
  }

  async function read(): Promise<string | null> {
    try {
      return await entry().getPassword(AbortSignal.timeout(CALL_TIMEOUT_MS));
    } catch (error) {
      throw new AppError('vault-unavailable', describeKeyringFailure(error, { platform, name, env: process.env }), { cause: error });
    }
  }

  return {
    name,

    async unavailableReason() {
      try {
        // Reading the real entry (not a probe entry) also meets a locked keyring: a search that
        // finds nothing never asks to unlock.
        await read();
        return null;
      } catch (error) {
        return error instanceof AppError ? error.message : describeKeyringFailure(error, { platform, name, env: process.env });
      }
    },

    async loadKey() {
      const text = await read();
      return text === null ? null : decodeKey(text, where);
    },

    async createKey() {
      const existing = await read();
      if (existing !== null) return decodeKey(existing, where);
      const key = randomBytes(VAULT_KEY_BYTES);
      try {
        await entry().setPassword(encodeKey(key), AbortSignal.timeout(CALL_TIMEOUT_MS));
      } catch (error) {
        throw new AppError('vault-unavailable', describeKeyringFailure(error, { platform, name, env: process.env }), { cause: error });
      }
      // Read back: a keyring that accepts a write it does not keep would lose every secret later.
      const stored = await read();
      if (stored === null || !decodeKey(stored, where).equals(key)) {
        throw new AppError(
          'vault-unavailable',
          `The ${name} accepted the vault key but did not give it back. Nothing was saved. Check the keyring (e.g. in Seahorse or KeePassXC), then try again.`,
        );
      }
      return key;
    },
  };
}

function keyringName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'OS keyring (Secret Service)';
}

/**
 * A keyring failure as sentences for the user: what is missing and what to do. The library's
 * errors are plain strings (keyring-rs's Display), so this matches on their wording.
 */
function describeKeyringFailure(
  error: unknown,
  context: { platform: NodeJS.Platform; name: string; env: Record<string, string | undefined> },
): string {
  const detail = error instanceof Error ? error.message : String(error);
  const busAddress = context.env['DBUS_SESSION_BUS_ADDRESS']?.trim();
  const prefix = 'Drover keeps the vault key in the OS keyring, but';
  const noBus =
    `${prefix} DBUS_SESSION_BUS_ADDRESS is not set, so there is no D-Bus session bus to reach a keyring through. ` +
    'Start Drover from a desktop session, or give it a session bus and an unlocked keyring first, e.g. ' +
    '`dbus-run-session -- sh -c \'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets && npm run serve\'`.';
  if (context.platform === 'linux' || context.platform === 'freebsd') {
    if (/timeout|timed out|abort/i.test(detail)) {
      return `${prefix} the keyring did not answer within ${CALL_TIMEOUT_MS / 1000} seconds (${detail}). If it showed an unlock prompt, answer it; then try again.`;
    }
    if (/autolaunch|DBUS_SESSION_BUS_ADDRESS/.test(detail)) return noBus;
    if (/Failed to connect to socket|Connection refused|No such file or directory/i.test(detail)) {
      return (
        `${prefix} the D-Bus session bus at ${busAddress ?? 'its default address'} does not answer (${detail}). ` +
        'Check that DBUS_SESSION_BUS_ADDRESS points at the running session bus (`systemctl --user status dbus`), then restart Drover ' +
        '(the bus is looked up once, when Drover first uses the keyring).'
      );
    }
    if (/org\.freedesktop\.secrets|ServiceUnknown|NameHasNoOwner|not provided by any \.service/i.test(detail)) {
      return (
        `${prefix} no Secret Service is running on the D-Bus session bus. Start one: gnome-keyring ` +
        "(`gnome-keyring-daemon --start --components=secrets`), KWallet, or KeePassXC's Secret Service integration; then try again."
      );
    }
    if (/prompt|locked/i.test(detail)) {
      return (
        `${prefix} the keyring is locked and was not unlocked (${detail}). Unlock it (log in to the desktop, use Seahorse, ` +
        'or `gnome-keyring-daemon --unlock` with its password on standard input), then try again.'
      );
    }
    if (/no result found|no such object|collection/i.test(detail)) {
      return (
        `${prefix} the Secret Service has no default keyring to store it in (${detail}). ` +
        'Create or unlock a default keyring (in Seahorse: the "Login" keyring; in KeePassXC: expose a database group to Secret Service), then try again.'
      );
    }
    if (!busAddress) return noBus;
    return `${prefix} the Secret Service failed (${detail}). Check that the keyring is running and unlocked, then try again.`;
  }
  return `Drover keeps the vault key in the ${context.name}, but it failed (${detail}). Check that it is available to your account, then try again.`;
}

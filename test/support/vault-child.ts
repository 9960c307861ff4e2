/**
 * A Drover process using the vault with the OS keyring, for keyring tests, run with
 * `node --import tsx vault-child.ts <command> <dataDir> [args]` and the keyring's environment
 * (libdbus takes the session bus from the environment once per process, so each keyring needs
 * its own process). Prints one JSON line: {"ok":true,"result":…} or {"ok":false,"code","message"}.
 *
 *   status                  Vault.status()
 *   list                    Vault.list()
 *   create <name> <kind>    Vault.create(), the value read from standard input (never argv)
 *   reveal <id> <purpose>   Vault.reveal()
 *   keyring-entry           the vault key's keyring entry, read with @napi-rs/keyring directly
 */
import { readFileSync } from 'node:fs';
import { AsyncEntry } from '@napi-rs/keyring';
import { SecretIdSchema, SecretKindSchema } from '#shared/vault';
import { createKeyringKeySource, KEYRING_SERVICE, keyringAccountOf } from '#services/vault/keyring-key-source';
import { Vault } from '#services/vault/vault';

const [command, dataDir, ...args] = process.argv.slice(2);
if (command === undefined || dataDir === undefined) throw new Error('usage: vault-child.ts <command> <dataDir> [args]');

async function run(command: string, dataDir: string): Promise<unknown> {
  if (command === 'keyring-entry') {
    const entry = new AsyncEntry(KEYRING_SERVICE, keyringAccountOf(dataDir), { linux: { store: 'secret-service' } });
    return { key: await entry.getPassword() };
  }
  const vault = Vault.open({ dataDir, keySource: createKeyringKeySource(dataDir), log: (message) => process.stderr.write(`${message}\n`) });
  try {
    switch (command) {
      case 'status':
        return await vault.status();
      case 'list':
        return await vault.list();
      case 'create':
        return await vault.create({ name: args[0] ?? '', kind: SecretKindSchema.parse(args[1]), value: readFileSync(0, 'utf8') });
      case 'reveal':
        return await vault.reveal(SecretIdSchema.parse(args[0]), args[1] ?? '');
      default:
        throw new Error(`unknown command ${command}`);
    }
  } finally {
    await vault.close();
  }
}

try {
  process.stdout.write(`${JSON.stringify({ ok: true, result: await run(command, dataDir) })}\n`);
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, code, message })}\n`);
}

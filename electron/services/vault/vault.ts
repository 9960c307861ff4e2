/**
 * The vault: secrets kept encrypted in `<dataDir>/vault.json` under a 32-byte key that an injected
 * KeySource protects (the OS keyring in serve mode, Electron safeStorage in the app).
 *
 * Each value is sealed with AES-256-GCM, a fresh 12-byte IV, and the secret's id and kind as
 * additional authenticated data, so a ciphertext moved to another entry no longer decrypts.
 * Names, kinds and dates are not secret: they are in the file in the clear, so the list works
 * while the key is unavailable. `key_check` (a known text sealed with the key) tells a wrong key
 * apart from a damaged file before anything is written.
 *
 * Must never: write a value (or the key) unencrypted to disk, put a value in a log line or an
 * error message, or write over a vault file it cannot decrypt. A failed write leaves the previous
 * file as it was (see private-file.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '#shared/errors';
import { describeIssues, issuesText } from '#shared/events';
import {
  SecretIdSchema,
  SecretKindSchema,
  SecretNameSchema,
  SecretValueSchema,
  type SecretId,
  type SecretKind,
  type SecretMeta,
  type VaultStatus,
} from '#shared/vault';
import { ensureDataDir } from '#services/data-dir';
import { storageError } from '#services/session/storage-errors';
import { VAULT_KEY_BYTES, type KeySource } from './key-source.ts';
import { writePrivateFileAtomic } from './private-file.ts';
import type { SecretResolver } from './resolver.ts';

export const VAULT_FILE = 'vault.json';
const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_CHECK_TEXT = 'drover vault key check';
const KEY_CHECK_AAD = 'drover-vault/key-check';
/** A secret's last use is written to the file at most this often (reveals can come per request). */
export const USE_RECORD_INTERVAL_MS = 60_000;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const Base64Schema = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const SealedSchema = z.strictObject({ iv: Base64Schema, tag: Base64Schema, data: Base64Schema });
type Sealed = z.infer<typeof SealedSchema>;

const StoredSecretSchema = z.strictObject({
  id: SecretIdSchema,
  name: z.string().min(1),
  kind: SecretKindSchema,
  created_at: z.string(),
  updated_at: z.string(),
  last_used_at: z.string().nullable(),
  last_used_for: z.string().nullable(),
  ...SealedSchema.shape,
});
type StoredSecret = z.infer<typeof StoredSecretSchema>;

const VaultFileSchema = z
  .strictObject({
    version: z.literal(FORMAT_VERSION),
    key_check: SealedSchema,
    secrets: z.array(StoredSecretSchema),
  })
  .superRefine((file, context) => {
    const ids = new Set<string>();
    const names = new Set<string>();
    file.secrets.forEach((secret, index) => {
      if (ids.has(secret.id))
        context.addIssue({ code: 'custom', path: ['secrets', index, 'id'], message: `the id ${secret.id} is used twice` });
      if (names.has(nameKey(secret.name)))
        context.addIssue({ code: 'custom', path: ['secrets', index, 'name'], message: 'the name is used twice' });
      ids.add(secret.id);
      names.add(nameKey(secret.name));
    });
  });
type VaultFile = z.infer<typeof VaultFileSchema>;

const CreateSchema = z.strictObject({ name: SecretNameSchema, kind: SecretKindSchema, value: SecretValueSchema });
const PurposeSchema = z.string().trim().min(1, 'say what the secret is used for').max(200, 'a purpose is at most 200 characters');

export interface VaultOptions {
  dataDir: string;
  keySource: KeySource;
  /** Where failures that do not reach the user go (never with a value in them). */
  log?: (message: string, error?: unknown) => void;
  /** The clock; tests move it to check when uses are written. */
  now?: () => Date;
}

/** A secret's value, for the output redactor. */
export interface SecretValue {
  id: SecretId;
  name: string;
  value: string;
}

export class Vault implements SecretResolver {
  /** The vault file. */
  readonly file: string;
  private readonly keySource: KeySource;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly now: () => Date;
  /** The file as last read or written; null: there is none; undefined: not read yet. */
  private document: VaultFile | null | undefined;
  /** Held once a key matched the file (or a new one was made): from then on every call succeeds. */
  private key: Buffer | null = null;
  /** Every decrypted value, once `values()` was asked for; kept current by create/replace/remove. */
  private valueCache: Map<SecretId, SecretValue> | null = null;
  /** When each secret's use was last written to the file (ms). */
  private readonly useWrittenAt = new Map<SecretId, number>();
  /** A use is recorded in memory but not yet in the file. */
  private usesPending = false;
  /** Calls run one at a time: a read-modify-write never interleaves with another. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(options: VaultOptions) {
    this.file = path.join(options.dataDir, VAULT_FILE);
    this.keySource = options.keySource;
    this.log = options.log ?? ((message, error) => console.error(message, error));
    this.now = options.now ?? (() => new Date());
  }

  /**
   * A vault on `dataDir`. Opens lazily: nothing is read and the key source is not asked until a
   * call needs it, so a host starts even when the keyring is missing (`status()` then says why).
   */
  static open(options: VaultOptions): Vault {
    return new Vault(options);
  }

  /** Whether secrets can be stored and read here; never throws. */
  status(): Promise<VaultStatus> {
    return this.exclusive(async () => {
      const backend = this.keySource.name;
      try {
        await this.unlock(false);
        return { available: true, backend, reason: null };
      } catch (error) {
        if (error instanceof AppError) return { available: false, backend, reason: error.message };
        this.log('vault: status check failed', error);
        return { available: false, backend, reason: `The vault could not be checked (${detailOf(error)}). Details are in Drover's log.` };
      }
    });
  }

  /** Every secret's metadata, in the order they were made. Works without the key. */
  list(): Promise<SecretMeta[]> {
    return this.exclusive(() => (this.load()?.secrets ?? []).map(toMeta));
  }

  /** The secrets of one kind, without their values. Works without the key. */
  async findByKind(kind: SecretKind): Promise<SecretMeta[]> {
    const parsedKind = parseArgument(SecretKindSchema, kind, 'kind');
    return this.exclusive(() => (this.load()?.secrets ?? []).filter((secret) => secret.kind === parsedKind).map(toMeta));
  }

  /** Stores a new secret. Names are unique regardless of case ('conflict'). */
  async create(input: { name: string; kind: SecretKind; value: string }): Promise<SecretMeta> {
    const { name, kind, value } = parseArgument(CreateSchema, input, 'secret');
    return this.exclusive(async () => {
      const existing = this.load();
      if (existing?.secrets.some((secret) => nameKey(secret.name) === nameKey(name))) {
        throw new AppError(
          'conflict',
          `A secret named "${name}" already exists. Choose another name, or replace that secret's value instead.`,
        );
      }
      const key = await this.requireKey();
      const base = this.load() ?? newDocument(key);
      const id = newSecretId(new Set(base.secrets.map((secret) => secret.id)));
      const at = this.now().toISOString();
      const stored: StoredSecret = {
        id,
        name,
        kind,
        created_at: at,
        updated_at: at,
        last_used_at: null,
        last_used_for: null,
        ...seal(key, value, secretAad(id, kind)),
      };
      this.save({ ...base, secrets: [...base.secrets, stored] }, 'save the new secret');
      this.valueCache?.set(id, { id, name, value });
      return toMeta(stored);
    });
  }

  /** Gives a secret a new value; its name, kind and id stay. */
  async replace(id: SecretId, value: string): Promise<SecretMeta> {
    const secretId = parseArgument(SecretIdSchema, id, 'id');
    const newValue = parseArgument(SecretValueSchema, value, 'value');
    return this.exclusive(async () => {
      const found = this.find(secretId);
      const key = await this.requireKey();
      const document = this.loaded();
      const updated: StoredSecret = {
        ...found,
        updated_at: this.now().toISOString(),
        ...seal(key, newValue, secretAad(found.id, found.kind)),
      };
      this.save(
        { ...document, secrets: document.secrets.map((secret) => (secret.id === secretId ? updated : secret)) },
        'save the new value',
      );
      this.valueCache?.set(secretId, { id: secretId, name: found.name, value: newValue });
      return toMeta(updated);
    });
  }

  /** Deletes a secret. Needs the key too: a file Drover cannot decrypt is never written over. */
  async remove(id: SecretId): Promise<void> {
    const secretId = parseArgument(SecretIdSchema, id, 'id');
    return this.exclusive(async () => {
      this.find(secretId);
      await this.requireKey();
      const document = this.loaded();
      this.save({ ...document, secrets: document.secrets.filter((secret) => secret.id !== secretId) }, 'remove the secret');
      this.valueCache?.delete(secretId);
      this.useWrittenAt.delete(secretId);
    });
  }

  /**
   * The value, for `purpose` (recorded as the secret's last use: in memory at once, in the file
   * at most once a minute per secret; `close()` writes what is left).
   */
  async reveal(id: SecretId, purpose: string): Promise<string> {
    const secretId = parseArgument(SecretIdSchema, id, 'id');
    const usedFor = parseArgument(PurposeSchema, purpose, 'purpose');
    return this.exclusive(async () => {
      const found = this.find(secretId);
      const key = await this.requireKey();
      const value = this.valueCache?.get(secretId)?.value ?? this.decrypt(key, found);
      this.recordUse(secretId, usedFor);
      return value;
    });
  }

  /**
   * Every value this vault can decrypt, for the output redactor; decrypted once, then kept in
   * memory. Resolves [] while the vault cannot be unlocked: no value can have been revealed by it
   * then (once the key matched, it is held, so this never goes back to [] after a reveal).
   */
  values(): Promise<ReadonlyArray<SecretValue>> {
    return this.exclusive(async () => {
      if (this.valueCache === null) {
        let key: Buffer;
        try {
          if ((this.load()?.secrets.length ?? 0) === 0) return [];
          key = await this.requireKey();
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          this.log(`vault: no values to redact, the vault cannot be opened: ${error.message}`);
          return [];
        }
        const cache = new Map<SecretId, SecretValue>();
        for (const secret of this.loaded().secrets) {
          try {
            cache.set(secret.id, { id: secret.id, name: secret.name, value: this.decrypt(key, secret) });
          } catch (error) {
            // It cannot be revealed either, so it cannot leak through Drover: leave it out.
            this.log(`vault: secret ${secret.id} cannot be decrypted and is left out of redaction`, error);
          }
        }
        this.valueCache = cache;
      }
      return [...this.valueCache.values()].map((entry) => Object.freeze({ ...entry }));
    });
  }

  /** Writes uses not yet in the file. Call before the process exits. */
  close(): Promise<void> {
    return this.exclusive(() => {
      const document = this.document;
      if (!this.usesPending || !document) return;
      try {
        this.save(document, 'record when secrets were last used');
      } catch (error) {
        this.log('vault: could not record when secrets were last used', error);
      }
    });
  }

  private exclusive<T>(work: () => Promise<T> | T): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The key, made on first use when there is no vault file yet. */
  private async requireKey(): Promise<Buffer> {
    const key = await this.unlock(true);
    if (key === null) throw new Error('unlock(true) returned no key');
    return key;
  }

  /**
   * The key that opens the file; with `create`, a new one when there is neither file nor key.
   * Throws 'vault-unavailable' (the source's reason, or a key that does not open the file) and
   * changes nothing then.
   */
  private async unlock(create: boolean): Promise<Buffer | null> {
    if (this.key !== null) return this.key;
    const reason = await this.keySource.unavailableReason();
    if (reason !== null) throw new AppError('vault-unavailable', reason);
    const document = this.load();
    let key = await this.fromKeySource('read', () => this.keySource.loadKey());
    if (key === null) {
      if (document !== null) throw this.foreignKeyError();
      if (!create) return null;
      key = await this.fromKeySource('store', () => this.keySource.createKey());
      this.log(`vault: made a new vault key, kept in the ${this.keySource.name}`);
    }
    if (key.length !== VAULT_KEY_BYTES) {
      throw new AppError(
        'vault-unavailable',
        `The vault key from the ${this.keySource.name} is ${key.length} bytes, not ${VAULT_KEY_BYTES}: it is not a Drover vault key. Nothing was changed.`,
      );
    }
    if (document !== null && unseal(key, document.key_check, KEY_CHECK_AAD) !== KEY_CHECK_TEXT) throw this.foreignKeyError();
    this.key = key;
    return key;
  }

  private async fromKeySource<T>(action: 'read' | 'store', work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError(
        'vault-unavailable',
        `Drover could not ${action} the vault key in the ${this.keySource.name} (${detailOf(error)}). Nothing was changed. ` +
          'Check that the keyring is running and unlocked, then try again.',
        { cause: error },
      );
    }
  }

  private foreignKeyError(): AppError {
    return new AppError(
      'vault-unavailable',
      `The vault in ${this.file} was locked with a key this ${this.keySource.name} does not have ` +
        '(it was made under another OS account, on another machine, or with a keyring that has since been reset). ' +
        'Nothing was changed. Run Drover where that keyring is available; or, to start over with an empty vault, ' +
        `move ${this.file} aside (the secrets in it cannot be recovered without that key).`,
    );
  }

  /** The parsed file, or null when there is none. Throws 'storage-corrupt' naming the file. */
  private load(): VaultFile | null {
    if (this.document !== undefined) return this.document;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') {
        this.document = null;
        return null;
      }
      throw new AppError(
        'storage-unwritable',
        `The vault file ${this.file} cannot be read (${detailOf(error)}). Nothing was changed. ` +
          'Check that it belongs to you and that its folder is readable.',
        { cause: error },
      );
    }
    this.document = parseVaultFile(text, this.file);
    return this.document;
  }

  /** The parsed file where the caller already knows it exists. */
  private loaded(): VaultFile {
    const document = this.load();
    if (document === null) throw new Error('the vault file was expected to be loaded');
    return document;
  }

  private find(id: SecretId): StoredSecret {
    const found = this.load()?.secrets.find((secret) => secret.id === id);
    if (!found)
      throw new AppError(
        'not-found',
        `There is no secret ${id} in the vault (it may have been removed). Refresh the list and choose another.`,
      );
    return found;
  }

  private decrypt(key: Buffer, secret: StoredSecret): string {
    const value = unseal(key, secret, secretAad(secret.id, secret.kind));
    if (value === null) {
      throw new AppError(
        'storage-corrupt',
        `The secret "${secret.name}" (${secret.id}) in ${this.file} cannot be decrypted: the file was changed outside Drover or is damaged. ` +
          'Nothing was changed. Give the secret its value again (replace it), or remove it.',
      );
    }
    return value;
  }

  private recordUse(id: SecretId, usedFor: string): void {
    const document = this.loaded();
    const now = this.now();
    this.document = {
      ...document,
      secrets: document.secrets.map((secret) =>
        secret.id === id ? { ...secret, last_used_at: now.toISOString(), last_used_for: usedFor } : secret,
      ),
    };
    const writtenAt = this.useWrittenAt.get(id);
    if (writtenAt !== undefined && now.getTime() - writtenAt < USE_RECORD_INTERVAL_MS) {
      this.usesPending = true;
      return;
    }
    try {
      this.save(this.document, 'record when the secret was used');
      this.useWrittenAt.set(id, now.getTime());
    } catch (error) {
      // The value was still delivered; the use stays in memory and goes with the next write.
      this.usesPending = true;
      this.log(`vault: could not record the use of secret ${id}`, error);
    }
  }

  /** Writes `next` atomically, then makes it the current document. Throws a storage AppError. */
  private save(next: VaultFile, action: string): void {
    try {
      ensureDataDir(path.dirname(this.file));
      writePrivateFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    } catch (error) {
      throw storageError(error, this.file, action) ?? error;
    }
    this.document = next;
    this.usesPending = false;
  }
}

function parseVaultFile(text: string, file: string): VaultFile {
  const corrupt = (detail: string, cause?: unknown): AppError =>
    new AppError(
      'storage-corrupt',
      `The vault file ${file} is damaged or is not a Drover vault (${detail}). Drover has not changed it. ` +
        'Move it aside (keep it if it may hold secrets you need), then try again to start a new, empty vault.',
      cause === undefined ? undefined : { cause },
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corrupt(`not JSON: ${detailOf(error)}`, error);
  }
  const version = typeof json === 'object' && json !== null && 'version' in json ? json.version : undefined;
  if (typeof version === 'number' && version > FORMAT_VERSION) {
    throw new AppError(
      'storage-too-new',
      `The vault file ${file} was written by a newer Drover (format ${version}; this one reads format ${FORMAT_VERSION}). ` +
        'Nothing was changed. Update Drover to use it.',
    );
  }
  const parsed = VaultFileSchema.safeParse(json);
  if (!parsed.success) throw corrupt(issuesText(describeIssues(parsed.error.issues.slice(0, 3))));
  return parsed.data;
}

function newDocument(key: Buffer): VaultFile {
  return { version: FORMAT_VERSION, key_check: seal(key, KEY_CHECK_TEXT, KEY_CHECK_AAD), secrets: [] };
}

/** Binds a ciphertext to its entry: moved to another id or kind, it fails authentication. */
function secretAad(id: SecretId, kind: SecretKind): string {
  return `drover-vault/secret/${id}/${kind}`;
}

function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** The plaintext, or null when the key, the AAD or the bytes do not match. */
function unseal(key: Buffer, sealed: Sealed, aad: string): string | null {
  const iv = Buffer.from(sealed.iv, 'base64');
  const tag = Buffer.from(sealed.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function newSecretId(taken: ReadonlySet<string>): SecretId {
  for (;;) {
    let id = 'sec_';
    while (id.length < 20) {
      // 252 = 7 × 36: dropping bytes above it keeps every letter equally likely.
      for (const byte of randomBytes(32)) if (byte < 252 && id.length < 20) id += ID_ALPHABET.charAt(byte % ID_ALPHABET.length);
    }
    if (!taken.has(id)) return id;
  }
}

/** Names compare without regard to case (or Unicode normal form). */
function nameKey(name: string): string {
  return name.trim().normalize('NFC').toLowerCase();
}

function toMeta(secret: StoredSecret): SecretMeta {
  return {
    id: secret.id,
    name: secret.name,
    kind: secret.kind,
    createdAt: secret.created_at,
    updatedAt: secret.updated_at,
    lastUsedAt: secret.last_used_at,
    lastUsedFor: secret.last_used_for,
  };
}

/** `value` checked by `schema`; 'invalid-argument' naming each bad field otherwise (never the value). */
function parseArgument<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error.issues, [what]);
  throw new AppError('invalid-argument', `This ${what} is not valid: ${issuesText(issues)}. Nothing was saved.`, { issues });
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function detailOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

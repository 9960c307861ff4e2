/**
 * The main process's one door to credentials: the vault (write-only from the UI), the Anthropic
 * API key (the environment overrides the vault), its test, and the redactor kept in step with
 * every stored value. RPC handlers and hosts go through this; nothing here returns a value
 * across RPC — only metadata and statuses.
 */
import { AppError } from '#shared/errors';
import type { ApiKeyStatus, SecretId, SecretKind, SecretMeta, VaultStatus } from '#shared/vault';
import type { Redactor } from './redact.ts';
import type { SecretResolver } from './resolver.ts';

/** What Credentials needs of the vault (electron/services/vault/vault.ts implements it). */
export interface VaultLike extends SecretResolver {
  status(): Promise<VaultStatus>;
  list(): Promise<SecretMeta[]>;
  create(secret: { name: string; kind: SecretKind; value: string }): Promise<SecretMeta>;
  replace(id: SecretId, value: string): Promise<SecretMeta>;
  remove(id: SecretId): Promise<void>;
  values(): Promise<ReadonlyArray<{ id: SecretId; name: string; value: string }>>;
}

export interface CredentialsOptions {
  /** Null where no vault could be set up at all (its reason is `unavailable`). */
  vault: VaultLike | null;
  unavailable?: string;
  redactor: Redactor;
  /** ANTHROPIC_API_KEY, read at call time (it overrides the vault). */
  environmentKey: () => string | null;
  testKey: (key: string) => Promise<{ ok: boolean; message: string }>;
  log?: (message: string, error?: unknown) => void;
}

const API_KEY_NAME = 'Anthropic API key';

export class Credentials implements SecretResolver {
  private lastTest: ApiKeyStatus['test'] = null;

  constructor(private readonly options: CredentialsOptions) {}

  /** Loads the stored values into the redactor (call once at start; changes here keep it current). */
  async start(): Promise<void> {
    await this.refreshRedactor();
  }

  async status(): Promise<VaultStatus> {
    if (this.options.vault === null)
      return { available: false, backend: 'none', reason: this.options.unavailable ?? 'No vault is set up.' };
    return this.options.vault.status();
  }

  async list(): Promise<SecretMeta[]> {
    return (await this.vault()).list();
  }

  async create(secret: { name: string; kind: SecretKind; value: string }): Promise<SecretMeta> {
    const meta = await (await this.vault()).create(secret);
    await this.refreshRedactor();
    return meta;
  }

  async replace(id: SecretId, value: string): Promise<SecretMeta> {
    const meta = await (await this.vault()).replace(id, value);
    if (meta.kind === 'anthropic-api-key') this.lastTest = null;
    await this.refreshRedactor();
    return meta;
  }

  async remove(id: SecretId): Promise<void> {
    await (await this.vault()).remove(id);
    await this.refreshRedactor();
  }

  reveal(id: SecretId, purpose: string): Promise<string> {
    return this.vault().then((vault) => vault.reveal(id, purpose));
  }

  /** The key for model requests: ANTHROPIC_API_KEY, else the vault's, else null. */
  async apiKey(): Promise<string | null> {
    const fromEnvironment = this.options.environmentKey();
    if (fromEnvironment !== null) return fromEnvironment;
    const stored = await this.storedApiKey();
    if (stored === null) return null;
    try {
      return await (await this.vault()).reveal(stored.id, 'API requests');
    } catch (error) {
      this.options.log?.('The stored Anthropic API key could not be read', error);
      return null;
    }
  }

  async apiKeyStatus(): Promise<ApiKeyStatus> {
    if (this.options.environmentKey() !== null) return { source: 'environment', secretId: null, test: this.lastTest };
    const stored = await this.storedApiKey();
    return stored === null ? { source: 'none', secretId: null, test: null } : { source: 'vault', secretId: stored.id, test: this.lastTest };
  }

  /** Stores the key (replacing the stored one), then tests it. */
  async setApiKey(value: string): Promise<ApiKeyStatus> {
    const stored = await this.storedApiKey();
    if (stored === null) await this.create({ name: API_KEY_NAME, kind: 'anthropic-api-key', value });
    else await this.replace(stored.id, value);
    return this.testApiKey();
  }

  /** Tests the key in use; says so when there is none. */
  async testApiKey(): Promise<ApiKeyStatus> {
    const key = await this.apiKey();
    const result =
      key === null ? { ok: false, message: 'No API key is set: paste one from console.anthropic.com.' } : await this.options.testKey(key);
    this.lastTest = { ...result, at: new Date().toISOString() };
    return this.apiKeyStatus();
  }

  private async storedApiKey(): Promise<SecretMeta | null> {
    if (this.options.vault === null) return null;
    let secrets: SecretMeta[];
    try {
      secrets = await this.options.vault.list();
    } catch {
      return null;
    }
    const keys = secrets.filter((secret) => secret.kind === 'anthropic-api-key');
    keys.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    return keys[0] ?? null;
  }

  private async vault(): Promise<VaultLike> {
    const vault = this.options.vault;
    if (vault === null)
      throw new AppError('conflict', `Secrets cannot be stored here: ${this.options.unavailable ?? 'no vault is set up.'}`);
    const status = await vault.status();
    if (!status.available) throw new AppError('conflict', `Secrets cannot be stored here: ${status.reason ?? 'the vault is unavailable.'}`);
    return vault;
  }

  private async refreshRedactor(): Promise<void> {
    const secrets: Array<{ name: string; value: string }> = [];
    const fromEnvironment = this.options.environmentKey();
    if (fromEnvironment !== null) secrets.push({ name: 'ANTHROPIC_API_KEY', value: fromEnvironment });
    if (this.options.vault !== null && (await this.options.vault.status()).available) {
      try {
        for (const { name, value } of await this.options.vault.values()) secrets.push({ name, value });
      } catch (error) {
        this.options.log?.('The vault could not be read to redact its secrets from outputs', error);
      }
    }
    this.options.redactor.setSecrets(secrets);
  }
}

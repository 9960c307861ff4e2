/**
 * How the rest of the main process gets a secret's value: by id, for a stated purpose (recorded
 * as the secret's last use). Hands, the git proxy and the model client depend on this interface,
 * not on the vault, so tests can hand them a real vault in a temp folder.
 *
 * A value obtained here must go only where the purpose says (a header, a connection): never
 * into an event, a log line, an RPC reply, a container's environment or a command line.
 */
import type { SecretId } from '#shared/vault';

export interface SecretResolver {
  /**
   * The secret's value. Rejects with an AppError the user can act on when the secret does not
   * exist ('not-found') or the vault cannot be opened (its reason and what to do).
   */
  reveal(id: SecretId, purpose: string): Promise<string>;
  /**
   * The stored secrets' names (never values), so a part that masks what it revealed names each in
   * the one marker form (`[secret “name” redacted]`). The vault has it; a resolver without it
   * gets a marker named by what the value was for.
   */
  list?(): Promise<ReadonlyArray<{ id: string; name: string }>>;
}

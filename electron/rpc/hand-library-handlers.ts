/**
 * Settings → Hands library's RPC methods (issue 23): saved hand configurations
 * (services/hands/hand-library.ts). Each answers with the library as it stands after it, every
 * saved hand with the secrets it uses by vault id and name — never a value.
 */
import type { HandLibraryEntry, HandLibraryListing } from '#shared/hand-library';
import { secretIdsOf } from '#shared/hand-library';
import type { HandlerImpl } from '#shared/rpc';
import type { SecretMeta } from '#shared/vault';
import { HandLibrary } from '#services/hands/hand-library';

export type HandLibraryMethod = 'hand-library-list' | 'hand-library-save' | 'hand-library-rename' | 'hand-library-delete';

export interface HandLibraryServices {
  dataDir: string;
  /** The vault's secrets' metadata (names only); a vault that cannot be read leaves the names unknown. */
  listSecrets: () => Promise<SecretMeta[]>;
}

export function createHandLibraryHandlers({ dataDir, listSecrets }: HandLibraryServices): Pick<HandlerImpl, HandLibraryMethod> {
  const library = new HandLibrary(dataDir);

  async function listing(entries: readonly HandLibraryEntry[], error: string | null = null): Promise<HandLibraryListing> {
    let secrets: readonly SecretMeta[] = [];
    if (entries.some((entry) => secretIdsOf(entry.hand.config).length > 0)) {
      try {
        secrets = await listSecrets();
      } catch {
        // The vault is locked or unavailable: the ids are shown without names.
      }
    }
    const nameOf = (id: string) => secrets.find((secret) => secret.id === id)?.name ?? null;
    return {
      entries: entries.map((entry) => ({ ...entry, secrets: secretIdsOf(entry.hand.config).map((id) => ({ id, name: nameOf(id) })) })),
      error,
    };
  }

  return {
    'hand-library-list': () => {
      const read = library.read();
      return read.ok ? listing(read.entries) : listing([], read.error);
    },
    'hand-library-save': ({ label, hand }) => listing(library.save(label, hand)),
    'hand-library-rename': ({ id, label }) => listing(library.rename(id, label)),
    'hand-library-delete': ({ id }) => listing(library.remove(id)),
  };
}

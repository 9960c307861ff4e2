/**
 * The hand library (Settings → Hands library) as the UI keeps it: the saved hands from
 * 'hand-library-list' (with the names of the secrets each uses — never a value), loaded when
 * `active`, and save / rename / delete, each answering with the library after it.
 */
import { useCallback, useEffect, useState } from 'react';
import type { HandLibraryListing } from '#shared/hand-library';
import type { HandSpecInput } from '#shared/hands';
import type { Transport } from '#renderer/client/transport.ts';
import { messageOf } from '#renderer/ui/errors.ts';

export interface HandLibraryState {
  /** null until the first answer (or when it failed: see `loadError`). */
  listing: HandLibraryListing | null;
  loadError: string | null;
  refresh: () => Promise<void>;
  /** Each rejects with the RPC error (the caller shows it where it was asked). */
  save: (label: string, hand: HandSpecInput) => Promise<void>;
  rename: (id: string, label: string) => Promise<void>;
  remove: (id: string) => Promise<void>;
}

export function useHandLibrary(transport: Transport, active = true): HandLibraryState {
  const [listing, setListing] = useState<HandLibraryListing | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setListing(await transport.call('hand-library-list', undefined));
      setLoadError(null);
    } catch (reason) {
      setLoadError(messageOf(reason));
    }
  }, [transport]);

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- loads from the host: state is set when its answer arrives
    if (active) void refresh();
  }, [active, refresh]);

  return {
    listing,
    loadError,
    refresh,
    save: async (label, hand) => setListing(await transport.call('hand-library-save', { label, hand })),
    rename: async (id, label) => setListing(await transport.call('hand-library-rename', { id, label })),
    remove: async (id) => setListing(await transport.call('hand-library-delete', { id })),
  };
}

/** A label for a hand saved from a session: its name and what it is, within the library's 80 characters. */
export function defaultLibraryLabel(name: string, description: string): string {
  const label = `${name} — ${description}`;
  return label.length <= 80 ? label : `${label.slice(0, 79)}…`;
}

/**
 * What the app frame (the API key card) and a session (a turn stopped for want of a key) both
 * say about a missing key. Imports no feature.
 */
import { useEffect, useState } from 'react';
import type { Transport } from '#renderer/client/transport.ts';

/** What works where no key can be stored: the environment variable, read when Drover starts. */
export const NO_VAULT_ADVICE = 'Set ANTHROPIC_API_KEY in the environment Drover starts from, then restart Drover.';

/** Whether a key can be stored here (null until known): what the advice about a missing key depends on. */
export function useKeyStorable(transport: Transport): boolean | null {
  const [storable, setStorable] = useState<boolean | null>(null);
  useEffect(() => {
    transport.call('vault-status', undefined).then(
      (vault) => setStorable(vault.available),
      () => undefined,
    );
  }, [transport]);
  return storable;
}

/**
 * Settings → Engines (issue 22) for the forms that configure a Docker hand ("Add a Docker hand",
 * the launch dialog): the engines a hand can name, or null while unknown or when this Drover has
 * none besides this computer's (the fields then offer no engine choice).
 */
import { useEffect, useState } from 'react';
import type { EngineConfig } from '#shared/engines';
import type { Transport } from '#renderer/client/transport.ts';

export function useEngines(transport: Transport, active = true): readonly EngineConfig[] | null {
  const [engines, setEngines] = useState<readonly EngineConfig[] | null>(null);
  useEffect(() => {
    if (!active) return;
    let current = true;
    transport.call('engines-list', undefined).then(
      (list) => {
        if (current) setEngines(list);
      },
      () => {
        if (current) setEngines(null);
      },
    );
    return () => {
      current = false;
    };
  }, [transport, active]);
  return engines;
}

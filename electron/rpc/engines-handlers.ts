/**
 * Settings → Engines' RPC methods (issue 22): the Docker engines Docker hands can run on
 * (services/engines). Configurations carry vault secret ids only: no secret value reaches the
 * renderer. A host key an ssh:// engine's Test shows is trusted with `ssh-trust-host`, as for SSH hands.
 */
import { AppError } from '#shared/errors';
import type { HandlerImpl } from '#shared/rpc';
import type { EnginePool } from '#services/engines/engine-pool';

export type EnginesMethod = 'engines-list' | 'engines-put' | 'engines-remove' | 'engines-test';

export function createEnginesHandlers(engines: EnginePool | undefined): Pick<HandlerImpl, EnginesMethod> {
  const pool = (): EnginePool => {
    if (!engines)
      throw new AppError('conflict', 'This Drover runs Docker hands on this computer only: it was started without Settings → Engines.');
    return engines;
  };
  return {
    'engines-list': () => pool().list(),
    'engines-put': ({ engine }) => pool().put(engine),
    'engines-remove': ({ id }) => pool().remove(id),
    'engines-test': ({ engine }) => pool().test(engine),
  };
}

/**
 * `sessions-time-density` (issue 23): the timeline's time scale over a whole session — events per
 * slice of time and the turns starting in each — read by `services/session/time-density.ts` over
 * its own connection to the store's database. Read-only.
 */
import type { HandlerImpl } from '#shared/rpc';
import { readTimeDensity, type TimeDensitySource } from '#services/session/time-density';

export type TimeDensityMethod = 'sessions-time-density';

export function createTimeDensityHandlers({ store }: { store: TimeDensitySource }): Pick<HandlerImpl, TimeDensityMethod> {
  return {
    'sessions-time-density': (query) => readTimeDensity(store, query),
  };
}

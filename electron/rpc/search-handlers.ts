/**
 * Search across sessions (issue 23 item 2): `search` and `search-status` over the search index
 * (electron/services/search/). Without an index (a host made without one) they say so.
 */
import { AppError } from '#shared/errors';
import type { HandlerImpl } from '#shared/rpc';
import type { SearchIndex } from '#services/search/search-index';

export type SearchMethod = 'search' | 'search-status';

export function createSearchHandlers(search: SearchIndex | undefined): Pick<HandlerImpl, SearchMethod> {
  const index = (): SearchIndex => {
    if (search === undefined)
      throw new AppError('internal', 'Search is not available in this Drover: it has no search index. Restart Drover.');
    return search;
  };
  return {
    search: (arg) => index().search(arg),
    // Events still settling are not a backlog to show: indexed now, the answer says only what is behind.
    'search-status': () => {
      const found = index();
      found.catchUp();
      return found.status();
    },
  };
}

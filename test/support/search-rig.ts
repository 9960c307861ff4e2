/**
 * The search index's tests' scratch space: temp data folders, stores and indexes on real SQLite
 * files, each closed or removed after the test that made it (the file's afterEach, registered here).
 */
import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { SearchIndex, type SearchIndexOptions } from '#services/search/search-index';
import { SessionStore } from '#services/session/store';
import { tempDir } from './system.ts';

export interface SearchRig {
  /** Undone after each test, last first (a test may add its own). */
  cleanups: Array<() => void>;
  /** A fresh temp data folder. */
  scratch(): string;
  openStore(dir: string): SessionStore;
  /** An index over `store` that polls for nothing (pollMs 0) unless told. */
  openIndex(store: SessionStore, options?: Omit<SearchIndexOptions, 'store'>): SearchIndex;
}

export function searchRig(prefix: string): SearchRig {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    while (cleanups.length > 0) cleanups.pop()?.();
  });
  return {
    cleanups,
    scratch() {
      const dir = tempDir(prefix);
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    openStore(dir) {
      const store = SessionStore.open({ dataDir: dir, appVersion: '1.0.0-test' });
      cleanups.push(() => store.close());
      return store;
    },
    openIndex(store, options = {}) {
      const index = SearchIndex.open({ store, log: () => undefined, pollMs: 0, ...options });
      cleanups.push(() => index.close());
      return index;
    },
  };
}

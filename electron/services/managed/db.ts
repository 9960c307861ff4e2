/**
 * What the Managed Agents API keeps beside the session logs: agents (every version), environments,
 * vaults and their credentials' metadata (values live in Drover's vault), and each API session's
 * record (the agent snapshot it started with, its environment, metadata, vault ids).
 *
 * One table of JSON documents keyed by (kind, id, version), in `managed.sqlite` in the data folder
 * (private to the user, like the session database). Sessions themselves stay in the session store:
 * the log is the truth; this holds only the configurations the service's resources name.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { withPrivateFiles } from '#services/data-dir';
import { guardStorage } from '#services/session/storage-errors';

export const MANAGED_DB_FILE = 'managed.sqlite';

export type ResourceKind =
  'agent' | 'environment' | 'vault' | 'credential' | 'session' | 'environment_key' | 'work_item' | 'work_token' | 'thread';

export interface ResourceRow {
  kind: ResourceKind;
  id: string;
  /** 1 for kinds without versions; agents count up from 1. */
  version: number;
  /** The resource as the API shows it (never a secret). */
  body: unknown;
  /** For credentials: their vault; for sessions: their environment. */
  parent: string | null;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

interface RawRow {
  kind: ResourceKind;
  id: string;
  version: number;
  body: string;
  parent: string | null;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  seq: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  parent TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  archived_at TEXT,
  UNIQUE (kind, id, version)
);
CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (kind, parent);
`;

export class ManagedDb {
  private constructor(private readonly db: Database.Database) {}

  static open(dataDir: string, options: { nativeBinding?: string } = {}): ManagedDb {
    const file = path.join(dataDir, MANAGED_DB_FILE);
    const files = [file, `${file}-wal`, `${file}-shm`, `${file}-journal`];
    const db = guardStorage(file, 'open the API database', () =>
      withPrivateFiles(files, () => {
        const opened =
          options.nativeBinding === undefined ? new Database(file) : new Database(file, { nativeBinding: options.nativeBinding });
        opened.pragma('journal_mode = WAL');
        opened.pragma('synchronous = FULL');
        opened.exec(SCHEMA);
        return opened;
      }),
    );
    return new ManagedDb(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Inserts a new resource or a new version of one. */
  insert(row: ResourceRow): void {
    this.db
      .prepare(
        'INSERT INTO resources (kind, id, version, body, parent, created_at, updated_at, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(row.kind, row.id, row.version, JSON.stringify(row.body), row.parent, row.created_at, row.updated_at, row.archived_at);
  }

  /** Replaces one stored version in place (environments, vaults, credentials, sessions: one version each). */
  replace(row: ResourceRow): void {
    this.db
      .prepare('UPDATE resources SET body = ?, parent = ?, updated_at = ?, archived_at = ? WHERE kind = ? AND id = ? AND version = ?')
      .run(JSON.stringify(row.body), row.parent, row.updated_at, row.archived_at, row.kind, row.id, row.version);
  }

  /** The latest version of a resource (or the given one), or null. */
  get(kind: ResourceKind, id: string, version?: number): ResourceRow | null {
    const raw =
      version === undefined
        ? (this.db.prepare('SELECT * FROM resources WHERE kind = ? AND id = ? ORDER BY version DESC LIMIT 1').get(kind, id) as
            RawRow | undefined)
        : (this.db.prepare('SELECT * FROM resources WHERE kind = ? AND id = ? AND version = ?').get(kind, id, version) as
            RawRow | undefined);
    return raw === undefined ? null : rowOf(raw);
  }

  /** Every version of one resource, oldest first. */
  versions(kind: ResourceKind, id: string): ResourceRow[] {
    return (this.db.prepare('SELECT * FROM resources WHERE kind = ? AND id = ? ORDER BY version').all(kind, id) as RawRow[]).map(rowOf);
  }

  /** The latest version of each resource of a kind (optionally under one parent), in creation order. */
  list(kind: ResourceKind, parent?: string): ResourceRow[] {
    const sql = `SELECT r.* FROM resources r
      JOIN (SELECT id, MAX(version) AS version FROM resources WHERE kind = ? GROUP BY id) latest ON latest.id = r.id AND latest.version = r.version
      WHERE r.kind = ?${parent === undefined ? '' : ' AND r.parent = ?'}
      ORDER BY (SELECT MIN(seq) FROM resources f WHERE f.kind = r.kind AND f.id = r.id)`;
    const args = parent === undefined ? [kind, kind] : [kind, kind, parent];
    return (this.db.prepare(sql).all(...args) as RawRow[]).map(rowOf);
  }

  /** Removes a resource, every version. */
  remove(kind: ResourceKind, id: string): void {
    this.db.prepare('DELETE FROM resources WHERE kind = ? AND id = ?').run(kind, id);
  }

  /** Runs `work` in one transaction. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}

function rowOf(raw: RawRow): ResourceRow {
  return {
    kind: raw.kind,
    id: raw.id,
    version: raw.version,
    body: JSON.parse(raw.body) as unknown,
    parent: raw.parent,
    created_at: raw.created_at,
    updated_at: raw.updated_at,
    archived_at: raw.archived_at,
  };
}

import Database from 'better-sqlite3';

export interface LocalDbOptions {
  /**
   * FULL: a committed transaction survives a power cut (alerts, the webhook outbox, tokens, the
   * audit log). NORMAL: it survives a crash of the process, not of the machine (state that can
   * be rebuilt, like data completeness).
   */
  synchronous: 'FULL' | 'NORMAL';
  /** Wait this long for a lock held by another process (the CLI shares tokens and audit with the platform). */
  busyTimeoutMs?: number;
}

/**
 * A store's schema as an ordered list of migrations: entry i brings the file from version i to
 * version i + 1 (`PRAGMA user_version`). Entries are only ever appended, never edited, so every
 * install, however old, reaches the same schema by running the entries it has not run yet.
 *
 * Entry 0 is each store's original schema, written with `IF NOT EXISTS`: files created before
 * versioning existed are at user_version 0 and already hold those tables, so for them it is a
 * no-op that only stamps version 1.
 */
export type Migrations = readonly (string | ((db: Database.Database) => void))[];

/**
 * For a migration whose column some files already have: those written by a release that added
 * it before schema versions existed (SQLite has no ADD COLUMN IF NOT EXISTS).
 */
export function addColumnIfMissing(db: Database.Database, table: string, column: string, type: string): void {
  const has = db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)').all(table).some((c) => c.name === column);
  if (!has) db.exec(`ALTER TABLE "${table}" ADD COLUMN "${column}" ${type}`);
}

/**
 * The platform's local SQLite state (PP_DATA_DIR): one file per concern, write-ahead log, the
 * durability each store needs, and its schema brought up to date by `migrations`. `:memory:` for
 * unit tests.
 */
export function openLocalDb(path: string, migrations: Migrations, opts: LocalDbOptions): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous}`);
    if (opts.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
    migrate(db, path, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Database.Database, path: string, migrations: Migrations): void {
  // Read outside a transaction first so an up-to-date file (every start after the first) takes
  // no write lock: the CLI and the platform open the same files.
  if (checkedVersion(db, path, migrations) === migrations.length) return;
  // IMMEDIATE takes the write lock before re-reading the version, so two processes starting
  // together cannot both run the same migration; each step and its version stamp commit together.
  db.transaction(() => {
    for (let v = checkedVersion(db, path, migrations); v < migrations.length; v++) {
      const step = migrations[v]!;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

function checkedVersion(db: Database.Database, path: string, migrations: Migrations): number {
  const version = schemaVersion(db);
  if (version > migrations.length) {
    throw new Error(
      `${path}: schema version ${version} is newer than this build knows (${migrations.length}); ` +
        'it was written by a newer PlantPulse: run that version, or restore a backup taken before the upgrade',
    );
  }
  return version;
}

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
 * The platform's local SQLite state (PP_DATA_DIR): one file per concern, write-ahead log, the
 * durability each store needs, and its schema applied (statements idempotent). `:memory:` for
 * unit tests.
 */
export function openLocalDb(path: string, schema: string, opts: LocalDbOptions): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous}`);
  if (opts.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
  db.exec(schema);
  return db;
}

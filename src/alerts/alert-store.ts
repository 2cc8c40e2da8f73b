import type Database from 'better-sqlite3';
import { openLocalDb, type Migrations } from '../storage/local-db.js';
import { scopeSql, type SiteScope } from '../auth/site-scope.js';
import type { Alert, AlertQuery, AlertState, Category, Severity } from './types.js';

/**
 * Alerts live in SQLite (one file in the data dir): the open ones must survive restarts, and the
 * API filters them by site, state and time. A partial unique index makes "exactly one open alert
 * per key" a property of the database, not only of the code. History of transitions goes to
 * InfluxDB (`alert` measurement); this table is the current state of every episode.
 */
const MIGRATIONS: Migrations = [
  // 1: alerts and their lifecycle (the schema of every install before versioning).
  `
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  site TEXT NOT NULL, line TEXT NOT NULL, device TEXT NOT NULL,
  rule TEXT NOT NULL, metric TEXT NOT NULL,
  category TEXT NOT NULL, severity TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
  opened_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, resolved_at INTEGER,
  count INTEGER NOT NULL,
  value REAL NOT NULL, peak REAL NOT NULL, threshold REAL, baseline REAL,
  message_en TEXT NOT NULL, message_zh TEXT NOT NULL,
  flapping INTEGER NOT NULL DEFAULT 0, clear_pending_since INTEGER,
  acked_at INTEGER, acked_by TEXT, ack_note TEXT,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open_per_key ON alerts (key) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS alerts_by_key_time ON alerts (key, opened_at);
CREATE INDEX IF NOT EXISTS alerts_by_site_time ON alerts (site, opened_at);
`,
];

interface Row {
  id: string;
  key: string;
  site: string;
  line: string;
  device: string;
  rule: string;
  metric: string;
  category: string;
  severity: string;
  state: string;
  opened_at: number;
  last_seen: number;
  resolved_at: number | null;
  count: number;
  value: number;
  peak: number;
  threshold: number | null;
  baseline: number | null;
  message_en: string;
  message_zh: string;
  flapping: number;
  clear_pending_since: number | null;
  acked_at: number | null;
  acked_by: string | null;
  ack_note: string | null;
  updated_at: number;
}

function fromRow(r: Row): Alert {
  return {
    id: r.id,
    key: r.key,
    site: r.site,
    line: r.line,
    device: r.device,
    rule: r.rule,
    metric: r.metric,
    category: r.category as Category,
    severity: r.severity as Severity,
    state: r.state as AlertState,
    openedAt: r.opened_at,
    lastSeen: r.last_seen,
    resolvedAt: r.resolved_at,
    count: r.count,
    value: r.value,
    peak: r.peak,
    threshold: r.threshold,
    baseline: r.baseline,
    message: { en: r.message_en, zh: r.message_zh },
    flapping: r.flapping === 1,
    clearPendingSince: r.clear_pending_since,
    ackedAt: r.acked_at,
    ackedBy: r.acked_by,
    ackNote: r.ack_note,
    updatedAt: r.updated_at,
  };
}

/** Puts a caller's site scope into a statement's conditions (nothing for an unrestricted scope). */
function addScope(where: string[], args: Record<string, string | number>, scope: SiteScope | undefined): void {
  if (!scope || scope.all) return;
  const { clause, params } = scopeSql(scope);
  where.push(clause);
  Object.assign(args, params);
}

function toRow(a: Alert): Row {
  return {
    id: a.id,
    key: a.key,
    site: a.site,
    line: a.line,
    device: a.device,
    rule: a.rule,
    metric: a.metric,
    category: a.category,
    severity: a.severity,
    state: a.state,
    opened_at: a.openedAt,
    last_seen: a.lastSeen,
    resolved_at: a.resolvedAt,
    count: a.count,
    value: a.value,
    peak: a.peak,
    threshold: a.threshold,
    baseline: a.baseline,
    message_en: a.message.en,
    message_zh: a.message.zh,
    flapping: a.flapping ? 1 : 0,
    clear_pending_since: a.clearPendingSince,
    acked_at: a.ackedAt,
    acked_by: a.ackedBy,
    ack_note: a.ackNote,
    updated_at: a.updatedAt,
  };
}

const COLUMNS = Object.keys(toRow({ message: { en: '', zh: '' } } as Alert));

export class AlertStore {
  private readonly db: Database.Database;
  private readonly stmts;

  /** `path`: a file (durable; WAL, synchronous=FULL) or `:memory:` (unit tests). */
  constructor(path: string) {
    // An acknowledged alert transition must survive power loss like acknowledged samples do.
    this.db = openLocalDb(path, MIGRATIONS, { synchronous: 'FULL' });
    this.stmts = {
      open: this.db.prepare<[string], Row>(`SELECT * FROM alerts WHERE key = ? AND state = 'open'`),
      latest: this.db.prepare<[string], Row>(`SELECT * FROM alerts WHERE key = ? ORDER BY opened_at DESC LIMIT 1`),
      byId: this.db.prepare<[string], Row>(`SELECT * FROM alerts WHERE id = ?`),
      openedSince: this.db.prepare<[string, number], { n: number }>(`SELECT count(*) AS n FROM alerts WHERE key = ? AND opened_at >= ?`),
      allOpen: this.db.prepare<[], Row>(`SELECT * FROM alerts WHERE state = 'open'`),
      openOf: this.db.prepare<[string, string, string], Row>(`SELECT * FROM alerts WHERE site = ? AND line = ? AND device = ? AND state = 'open'`),
      remove: this.db.prepare<[string]>(`DELETE FROM alerts WHERE id = ?`),
      upsert: this.db.prepare(
        `INSERT INTO alerts (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (id) DO UPDATE SET ${COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ')}`,
      ),
    };
  }

  openFor(key: string): Alert | null {
    const r = this.stmts.open.get(key);
    return r ? fromRow(r) : null;
  }

  /** The most recent episode of a key, open or resolved. */
  latestFor(key: string): Alert | null {
    const r = this.stmts.latest.get(key);
    return r ? fromRow(r) : null;
  }

  /** With `scope`, an alert of another site is not found (the scope is part of the query). */
  get(id: string, scope?: SiteScope): Alert | null {
    if (scope && !scope.all) {
      const { clause, params } = scopeSql(scope);
      const r = this.db.prepare<Record<string, string>, Row>(`SELECT * FROM alerts WHERE id = @id AND ${clause}`).get({ ...params, id });
      return r ? fromRow(r) : null;
    }
    const r = this.stmts.byId.get(id);
    return r ? fromRow(r) : null;
  }

  /** How many episodes of `key` opened at or after `since` (flapping detection). */
  openedSince(key: string, since: number): number {
    return this.stmts.openedSince.get(key, since)?.n ?? 0;
  }

  allOpen(): Alert[] {
    return this.stmts.allOpen.all().map(fromRow);
  }

  /** Open alerts of one device (its rules' and its data alerts). */
  openOf(site: string, line: string, device: string): Alert[] {
    return this.stmts.openOf.all(site, line, device).map(fromRow);
  }

  /** Forget an alert (a NATS worker's record of an episode another worker settled: alert-manager.ts). */
  remove(id: string): void {
    this.stmts.remove.run(id);
  }

  /** Open alerts and those changed (wall clock) at or after `since`, oldest change first: a worker republishes them at start (src/view/). */
  openOrChangedSince(since: number): Alert[] {
    return this.db.prepare<[number], Row>(`SELECT * FROM alerts WHERE state = 'open' OR updated_at >= ? ORDER BY updated_at`).all(since).map(fromRow);
  }

  save(alert: Alert): void {
    this.stmts.upsert.run(toRow(alert));
  }

  /** Several saves as one transaction (one fsync), all or nothing. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Filtering happens in SQL (never after the fact), newest first. */
  query(q: AlertQuery): Alert[] {
    const where: string[] = [];
    const args: Record<string, string | number> = {};
    const add = (clause: string, name: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args[name] = value;
    };
    add('state = @state', 'state', q.state);
    add('site = @site', 'site', q.site);
    add('line = @line', 'line', q.line);
    add('device = @device', 'device', q.device);
    add('category = @category', 'category', q.category);
    // Overlap with [from, to]: opened before `to`, and still open or resolved after `from`.
    add('opened_at <= @to', 'to', q.to);
    add('(resolved_at IS NULL OR resolved_at >= @from)', 'from', q.from);
    addScope(where, args, q.scope);
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id LIMIT @limit`;
    return this.db
      .prepare<Record<string, string | number>, Row>(sql)
      .all({ ...args, limit: q.limit ?? 1000 })
      .map(fromRow);
  }

  /** Alerts of a site opened in [from, to), counted per line and category (reports); the scope in the SQL. */
  countOpened(q: { site: string; from: number; to: number; scope?: SiteScope }): { line: string; category: Category; count: number }[] {
    const where = ['site = @site', 'opened_at >= @from', 'opened_at < @to'];
    const args: Record<string, string | number> = { site: q.site, from: q.from, to: q.to };
    addScope(where, args, q.scope);
    return this.db
      .prepare<Record<string, string | number>, { line: string; category: string; count: number }>(`SELECT line, category, count(*) AS count FROM alerts WHERE ${where.join(' AND ')} GROUP BY line, category ORDER BY line, category`)
      .all(args)
      .map((r) => ({ line: r.line, category: r.category as Category, count: r.count }));
  }

  close(): void {
    this.db.close();
  }
}

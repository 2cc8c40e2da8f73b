import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openLocalDb, type Migrations } from '../storage/local-db.js';
import { formatScope, type Principal, type Role, type TokenInfo } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import { REDACTED, scrubText } from '../observability/redact.js';

/**
 * The audit log (docs/security.md): who did what to whom, durably and append-only, in its own
 * SQLite file `PP_DATA_DIR/audit.sqlite`. The platform writes it for HTTP actions, the CLI for
 * token management, from another process (WAL mode and busy_timeout let both write).
 * Rows can only be added: triggers refuse UPDATE and DELETE, and the one deletion there is,
 * `prune` (PP_AUDIT_RETENTION_DAYS), lifts the DELETE trigger inside its own transaction only and
 * leaves an `audit.prune` entry saying what it removed. Details never carry secrets: keys that
 * name one are dropped and token-shaped or credential-bearing strings are scrubbed.
 */
export const AUDIT_ACTIONS = ['alert.acknowledge', 'token.create', 'token.revoke', 'subscription.create', 'subscription.delete', 'subscription.redeliver', 'audit.prune'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditActor {
  /** The API token's public id; null for the CLI, start-up, or PP_AUTH=off. */
  tokenId: string | null;
  /** A token's role, or `operator` (the CLI, on the data dir) or `platform` (start-up). */
  role: Role | 'operator' | 'platform';
  name: string;
}

export interface NewAuditEntry {
  actor: AuditActor;
  action: AuditAction;
  /** What was acted on: an alert, token or subscription id. */
  target: string;
  details?: Record<string, unknown>;
  /** `http` (with the client address), `cli`, `start-up`, `retention` (pruning). */
  source: 'http' | 'cli' | 'start-up' | 'retention';
  address?: string | null;
}

export interface AuditEntry extends Required<Omit<NewAuditEntry, 'details' | 'address'>> {
  /** Increasing in the log that wrote it (with several processes, each has its own: see `origin`). */
  id: number;
  /** With several processes on NATS: which process's log wrote it (its audit.sqlite's identity). */
  origin?: string;
  ts: number;
  details: Record<string, unknown>;
  address: string | null;
}

export interface AuditQuery {
  from?: number;
  to?: number;
  action?: AuditAction;
  /** A token id or an actor name. */
  actor?: string;
  limit: number;
}

const NO_DELETE_TRIGGER = `CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`;

const MIGRATIONS: Migrations = [
  // 1: the append-only audit log (the schema of every install before versioning).
  `
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  actor_token_id TEXT,
  actor_role TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  source TEXT NOT NULL,
  address TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
${NO_DELETE_TRIGGER}
`,
  // 2: with several processes on NATS (audit-share.ts): this file's identity in the shared log,
  // and the copy of every other process's entries that the audit query reads beside this one's.
  `
CREATE TABLE IF NOT EXISTS audit_origin (id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fleet_audit_log (
  origin TEXT NOT NULL,
  origin_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  actor_token_id TEXT,
  actor_role TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  source TEXT NOT NULL,
  address TEXT,
  PRIMARY KEY (origin, origin_id)
);
CREATE INDEX IF NOT EXISTS fleet_audit_log_ts ON fleet_audit_log (ts);
`,
];

interface Row {
  id: number;
  ts: number;
  actor_token_id: string | null;
  actor_role: string;
  actor_name: string;
  action: string;
  target: string;
  details: string;
  source: string;
  address: string | null;
}

/** Keys whose values are secrets by name: never stored, whatever a caller passes. */
const SECRET_KEY = /secret|password|passwd|token$|^token|authorization|credential/i;

/** A copy of `value` with secret-named keys dropped and strings scrubbed (depth-bounded). */
export function sanitizeDetails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => sanitizeDetails(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `tokenId` is the public id of a token, not a secret.
    if (SECRET_KEY.test(k) && k !== 'tokenId' && typeof v !== 'boolean') continue;
    out[k] = sanitizeDetails(v, depth + 1);
  }
  return out;
}

export function actorOf(p: Principal): AuditActor {
  return { tokenId: p.tokenId, role: p.role, name: p.name };
}

/** The platform itself, at start-up (the first admin token). */
export const START_UP_ACTOR: AuditActor = { tokenId: null, role: 'platform', name: 'platform start-up' };

/** The platform pruning old entries. */
export const RETENTION_ACTOR: AuditActor = { tokenId: null, role: 'platform', name: 'audit retention (PP_AUDIT_RETENTION_DAYS)' };

/** What a token.create / token.revoke entry says about the token (never the token itself). */
export function tokenDetails(t: TokenInfo): Record<string, unknown> {
  return { role: t.role, scope: formatScope(t.scope), name: t.name, createdBy: t.createdBy, ...(t.expiresAt === null ? {} : { expiresAt: t.expiresAt }) };
}

function entry(r: Row & { origin?: string }): AuditEntry {
  return {
    id: r.id,
    ...(r.origin === undefined ? {} : { origin: r.origin }),
    ts: r.ts,
    actor: { tokenId: r.actor_token_id, role: r.actor_role as AuditActor['role'], name: r.actor_name },
    action: r.action as AuditAction,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
    source: r.source as AuditEntry['source'],
    address: r.address,
  };
}

export class AuditLog {
  private readonly db: Database.Database;
  private readonly insert;
  private readonly pruneOlder: (before: number) => number;
  private readonly mirrorMany: (entries: readonly AuditEntry[]) => number;
  private fleet = false;
  /** This file's identity in the fleet's shared log. */
  readonly origin: string;

  constructor(
    path: string,
    private readonly log?: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    // An acknowledged action's record survives a power cut.
    this.db = openLocalDb(path, MIGRATIONS, { synchronous: 'FULL', busyTimeoutMs: 5000 });
    this.insert = this.db.prepare('INSERT INTO audit_log (ts, actor_token_id, actor_role, actor_name, action, target, details, source, address) VALUES (@ts, @tokenId, @role, @name, @action, @target, @details, @source, @address)');
    // One transaction: no other connection ever sees the log without its DELETE guard.
    this.pruneOlder = this.db.transaction((before: number) => {
      this.db.exec('DROP TRIGGER IF EXISTS audit_log_no_delete');
      const deleted = this.db.prepare<[number]>('DELETE FROM audit_log WHERE ts < ?').run(before).changes;
      this.db.exec(NO_DELETE_TRIGGER);
      this.db.prepare<[number]>('DELETE FROM fleet_audit_log WHERE ts < ?').run(before);
      return deleted;
    });
    const mirror = this.db.prepare(
      `INSERT OR IGNORE INTO fleet_audit_log (origin, origin_id, ts, actor_token_id, actor_role, actor_name, action, target, details, source, address)
       VALUES (@origin, @id, @ts, @tokenId, @role, @name, @action, @target, @details, @source, @address)`,
    );
    this.mirrorMany = this.db.transaction((entries: readonly AuditEntry[]) => {
      let added = 0;
      for (const e of entries) {
        if (!e.origin) continue;
        added += mirror.run({ origin: e.origin, id: e.id, ts: e.ts, tokenId: e.actor.tokenId, role: e.actor.role, name: e.actor.name, action: e.action, target: e.target, details: JSON.stringify(e.details), source: e.source, address: e.address }).changes;
      }
      return added;
    });
    this.origin = this.identity();
  }

  /** Made once per file (the CLI opening it first makes it too); a new data dir is a new log. */
  private identity(): string {
    const row = this.db.prepare<[], { id: string }>('SELECT id FROM audit_origin LIMIT 1').get();
    if (row) return row.id;
    const id = randomBytes(8).toString('hex');
    this.db.prepare('INSERT INTO audit_origin (id) VALUES (?)').run(id);
    return id;
  }

  /** From now on the audit query answers with the fleet's entries too (the copy `mirror` keeps). */
  includeFleet(): void {
    this.fleet = true;
  }

  /** This log's own entries after `id`, oldest first, with `origin` set (what is shared). */
  after(id: number, limit: number): AuditEntry[] {
    return this.db
      .prepare<[number, number], Row>('SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?')
      .all(id, limit)
      .map((r) => entry({ ...r, origin: this.origin }));
  }

  /** Keep other processes' entries (this log's own are ignored: it has them). Returns how many were new. */
  mirror(entries: readonly AuditEntry[]): number {
    return this.mirrorMany(entries.filter((e) => e.origin !== this.origin));
  }

  /** Whether no other process's entry has been kept yet (a new data dir reads the shared log from its start). */
  fleetCopyEmpty(): boolean {
    return this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM fleet_audit_log').get()!.n === 0;
  }

  /**
   * Delete the entries older than `before` (epoch ms): the retention period's end. When any
   * were deleted, an `audit.prune` entry records how many and up to when. Returns the count.
   */
  prune(before: number): number {
    const deleted = this.pruneOlder(before);
    if (deleted > 0) this.record({ actor: RETENTION_ACTOR, action: 'audit.prune', target: 'audit_log', details: { before, deleted }, source: 'retention' });
    return deleted;
  }

  /** Append one entry (fsynced before returning) and log it. */
  record(e: NewAuditEntry): AuditEntry {
    const details = sanitizeDetails(e.details ?? {}) as Record<string, unknown>;
    const ts = this.clock();
    const row = { ts, tokenId: e.actor.tokenId, role: e.actor.role, name: e.actor.name, action: e.action, target: scrubText(e.target), details: JSON.stringify(details), source: e.source, address: e.address ?? null };
    const id = Number(this.insert.run(row).lastInsertRowid);
    const written: AuditEntry = { id, ts, actor: { ...e.actor }, action: e.action, target: row.target, details, source: e.source, address: row.address };
    this.log?.info({ audit: written }, `audit: ${e.action} ${row.target} by ${e.actor.name}`);
    return written;
  }

  /** Newest first. */
  query(q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: q.limit };
    if (q.from !== undefined) {
      where.push('ts >= @from');
      params.from = q.from;
    }
    if (q.to !== undefined) {
      where.push('ts < @to');
      params.to = q.to;
    }
    if (q.action !== undefined) {
      where.push('action = @action');
      params.action = q.action;
    }
    if (q.actor !== undefined) {
      where.push('(actor_token_id = @actor OR actor_name = @actor)');
      params.actor = q.actor;
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    if (!this.fleet) return this.db.prepare<Record<string, string | number>, Row>(`SELECT * FROM audit_log ${filter} ORDER BY id DESC LIMIT @limit`).all(params).map(entry);
    // Every process's entries: this log's own as written, the others' as copied from the shared log.
    const columns = 'ts, actor_token_id, actor_role, actor_name, action, target, details, source, address';
    const sql = `SELECT * FROM (SELECT id, @origin AS origin, ${columns} FROM audit_log UNION ALL SELECT origin_id AS id, origin, ${columns} FROM fleet_audit_log) ${filter} ORDER BY ts DESC, id DESC LIMIT @limit`;
    return this.db.prepare<Record<string, string | number>, Row & { origin: string }>(sql).all({ ...params, origin: this.origin }).map(entry);
  }

  close(): void {
    this.db.close();
  }
}

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
  id: number;
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

function entry(r: Row): AuditEntry {
  return {
    id: r.id,
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
      return deleted;
    });
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
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return this.db.prepare<Record<string, string | number>, Row>(sql).all(params).map(entry);
  }

  close(): void {
    this.db.close();
  }
}

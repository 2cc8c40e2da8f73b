import type Database from 'better-sqlite3';
import { addColumnIfMissing, openLocalDb, type Migrations } from '../storage/local-db.js';
import { ALL_SITES, formatScope, parseScope, type SiteScope } from './site-scope.js';
import { generateToken, hashToken, parseToken, tokenMatches } from './token-format.js';
import { coversEverySite, isRole, type Role } from './roles.js';

/**
 * API tokens in SQLite (`PP_DATA_DIR/auth.sqlite`), stored as SHA-256 hashes: the plaintext is
 * shown once, when created, and never stored or logged. The platform reads this file on every
 * request and the CLI (`plantpulse token ...`) writes it from another process, so a token
 * created or revoked with the CLI takes effect at the next request, without a restart (WAL mode
 * lets the two work side by side; busy_timeout rides over the moments one holds the write lock).
 */
const MIGRATIONS: Migrations = [
  // 1: API tokens (the schema of every install before versioning).
  `
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  scope TEXT NOT NULL,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);
`,
  // 2: tokens may expire. Stores made after expiry came but before schema versions have it already.
  (db) => addColumnIfMissing(db, 'tokens', 'expires_at', 'INTEGER'),
];

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  scope: SiteScope;
  createdAt: number;
  /** How it came to be: `cli`, `start-up` (the first admin token), `PP_BOOTSTRAP_ADMIN_TOKEN`. */
  createdBy: string;
  revokedAt: number | null;
  /** Refused from this time on (epoch ms), like a revoked token; null: never expires. */
  expiresAt: number | null;
  /** Updated at most once a minute (a write per request would cost ingest). */
  lastUsedAt: number | null;
}

interface Row {
  id: string;
  name: string;
  role: string;
  scope: string;
  hash: Buffer;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  last_used_at: number | null;
  expires_at: number | null;
}

export interface NewToken {
  role: Role;
  /** Ignored for admin (every site) and monitor (no site data). */
  scope: SiteScope;
  name: string;
  createdBy: string;
  /** Epoch ms after which the token is refused; unset: it never expires. */
  expiresAt?: number;
}

/**
 * A token as the processes of a fleet share it (src/view/token-sync.ts): everything but the
 * plaintext, which no process has; the hash is what verifies it.
 */
export interface SharedToken {
  id: string;
  name: string;
  role: string;
  scope: string[];
  /** SHA-256 of the token, base64. */
  hash: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  expiresAt: number | null;
}

const TOUCH_EVERY_MS = 60_000;

function info(r: Row): TokenInfo {
  if (!isRole(r.role)) throw new Error(`token ${r.id} has an unknown role ${JSON.stringify(r.role)}`);
  return { id: r.id, name: r.name, role: r.role, scope: parseScope(JSON.parse(r.scope) as string[]), createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at, expiresAt: r.expires_at ?? null, lastUsedAt: r.last_used_at };
}

export class TokenStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly touched = new Map<string, number>();

  constructor(
    path: string,
    private readonly clock: () => number = Date.now,
  ) {
    // A revocation must not be undone by a power cut.
    this.db = openLocalDb(path, MIGRATIONS, { synchronous: 'FULL', busyTimeoutMs: 5000 });
    this.stmts = {
      byId: this.db.prepare<[string], Row>('SELECT * FROM tokens WHERE id = ?'),
      all: this.db.prepare<[], Row>('SELECT * FROM tokens ORDER BY created_at, id'),
      insert: this.db.prepare('INSERT INTO tokens (id, name, role, scope, hash, created_at, created_by, expires_at) VALUES (@id, @name, @role, @scope, @hash, @created_at, @created_by, @expires_at)'),
      revoke: this.db.prepare<[number, string]>('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: this.db.prepare<[number, string]>('UPDATE tokens SET last_used_at = ? WHERE id = ?'),
      activeAdmins: this.db.prepare<[number], { n: number }>(`SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`),
    };
  }

  /** Create a token; the returned plaintext is the only copy there will ever be. */
  create(t: NewToken): { token: string; info: TokenInfo } {
    const { id, token } = generateToken();
    return { token, info: this.insert(id, token, t) };
  }

  /** Store a token whose plaintext the operator chose (PP_BOOTSTRAP_ADMIN_TOKEN). Idempotent. */
  ensure(token: string, t: NewToken): TokenInfo {
    const parsed = parseToken(token);
    if (!parsed) throw new Error('not a PlantPulse token (ppt_<12 hex>_<43 base64url>)');
    const existing = this.stmts.byId.get(parsed.id);
    if (existing) {
      if (!tokenMatches(token, existing.hash)) throw new Error(`token id ${parsed.id} is already taken by another token`);
      return info(existing);
    }
    return this.insert(parsed.id, token, t);
  }

  /** The active token `text` stands for, or null (malformed, unknown, revoked, expired). */
  verify(text: string): TokenInfo | null {
    const parsed = parseToken(text);
    if (!parsed) return null;
    const row = this.stmts.byId.get(parsed.id);
    if (!row || !tokenMatches(parsed.token, row.hash) || !this.active(row)) return null;
    this.touch(row.id);
    return info(row);
  }

  get(id: string): TokenInfo | null {
    const r = this.stmts.byId.get(id);
    return r ? info(r) : null;
  }

  /** Neither revoked nor expired (what TokenWatch asks about open connections). */
  isActive(id: string): boolean {
    const r = this.stmts.byId.get(id);
    return r !== undefined && this.active(r);
  }

  list(): TokenInfo[] {
    return this.stmts.all.all().map(info);
  }

  /** true when the token was active and is now revoked. */
  revoke(id: string): boolean {
    return this.stmts.revoke.run(this.clock(), id).changes > 0;
  }

  /** Every token as shared with the rest of a fleet. */
  shared(): SharedToken[] {
    return this.stmts.all.all().map((r) => ({ id: r.id, name: r.name, role: r.role, scope: JSON.parse(r.scope) as string[], hash: r.hash.toString('base64'), createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at, expiresAt: r.expires_at ?? null }));
  }

  /**
   * Take a token another process of the fleet knows: added when unknown here, revoked when it was
   * revoked there (a revocation is never undone). Returns whether anything changed. A different
   * token under a known id is refused (ids are random; it would be a forgery or a bug).
   */
  adopt(t: SharedToken): boolean {
    if (!isRole(t.role)) throw new Error(`shared token ${t.id} has an unknown role ${JSON.stringify(t.role)}`);
    const hash = Buffer.from(t.hash, 'base64');
    return this.db.transaction(() => {
      const existing = this.stmts.byId.get(t.id);
      if (existing && !existing.hash.equals(hash)) throw new Error(`shared token ${t.id} does not match the token of that id here`);
      let changed = false;
      if (!existing) {
        this.stmts.insert.run({ id: t.id, name: t.name, role: t.role, scope: JSON.stringify(formatScope(parseScope(t.scope))), hash, created_at: t.createdAt, created_by: t.createdBy, expires_at: t.expiresAt });
        changed = true;
      }
      if (t.revokedAt !== null) changed = this.stmts.revoke.run(t.revokedAt, t.id).changes > 0 || changed;
      return changed;
    })();
  }

  activeAdminCount(): number {
    return this.stmts.activeAdmins.get(this.clock())?.n ?? 0;
  }

  close(): void {
    this.db.close();
  }

  private insert(id: string, token: string, t: NewToken): TokenInfo {
    const scope = coversEverySite(t.role) ? ALL_SITES : t.scope;
    this.stmts.insert.run({ id, name: t.name, role: t.role, scope: JSON.stringify(formatScope(scope)), hash: hashToken(token), created_at: this.clock(), created_by: t.createdBy, expires_at: t.expiresAt ?? null });
    return info(this.stmts.byId.get(id)!);
  }

  private active(r: Row): boolean {
    return r.revoked_at === null && (r.expires_at === null || r.expires_at > this.clock());
  }

  private touch(id: string): void {
    const now = this.clock();
    if (now - (this.touched.get(id) ?? 0) < TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    try {
      this.stmts.touch.run(now, id);
    } catch {
      // Best effort: "last used" must never fail a request (e.g. the CLI holds the write lock).
    }
  }
}

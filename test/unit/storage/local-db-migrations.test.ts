import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertStore } from '../../../src/alerts/alert-store.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { TokenStore } from '../../../src/auth/token-store.js';
import { QualityStore } from '../../../src/quality/quality-store.js';
import { openLocalDb, schemaVersion } from '../../../src/storage/local-db.js';
import { WebhookStore } from '../../../src/webhooks/webhook-store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-local-db-'));
  dirs.push(dir);
  return join(dir, name);
}

/**
 * The five stores' schemas exactly as installs created them before schema versions existed
 * (user_version 0), frozen here so a later edit of a store's first migration cannot pass
 * unnoticed: those files are on disk at sites and must keep opening.
 */
function unversionedSchema(store: string): string {
  const text = readFileSync(new URL('./fixtures/unversioned-schemas.sql', import.meta.url), 'utf8');
  const section = text.split(/^-- /m).find((s) => s.startsWith(store));
  if (!section) throw new Error(`no unversioned schema for ${store} in the fixture`);
  return section.slice(section.indexOf('\n') + 1);
}

/** Every table, index and trigger of a file, as SQLite holds them. */
function schemaOf(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { sql: string }>(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name`).all().map((r) => r.sql);
  } finally {
    db.close();
  }
}

function createUnversioned(path: string, store: string, seed: string): void {
  const db = new Database(path);
  db.exec(unversionedSchema(store));
  db.exec(seed);
  expect(schemaVersion(db)).toBe(0);
  db.close();
}

function versionOf(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return schemaVersion(db);
  } finally {
    db.close();
  }
}

interface StoreCase {
  store: string;
  open: (path: string) => { close(): void };
  seed: string;
  /** What the store reads back from the seeded row, through its own API. */
  read: (s: never) => unknown;
  expected: unknown;
  /** The version the store's migrations bring a file to. */
  version: number;
}

const cases: StoreCase[] = [
  {
    store: 'src/alerts/alert-store.ts',
    open: (p) => new AlertStore(p),
    seed: `INSERT INTO alerts (id, key, site, line, device, rule, metric, category, severity, state, opened_at, last_seen, count, value, peak, message_en, message_zh, flapping, updated_at)
           VALUES ('a1', 'k1', 's1', 'l1', 'd1', 'threshold', 'power', 'energy', 'warning', 'open', 1000, 2000, 3, 5.5, 6.5, 'hot', '热', 0, 2000)`,
    read: (s: AlertStore) => s.openFor('k1')?.id,
    expected: 'a1',
    version: 1,
  },
  {
    store: 'src/auth/token-store.ts',
    open: (p) => new TokenStore(p),
    seed: `INSERT INTO tokens (id, name, role, scope, hash, created_at, created_by) VALUES ('0123456789ab', 'ops', 'manager', '["*"]', x'00', 1000, 'cli')`,
    read: (s: TokenStore) => s.list().map((t) => [t.id, t.name, t.expiresAt]),
    expected: [['0123456789ab', 'ops', null]],
    version: 2, // 2: expires_at
  },
  {
    store: 'src/audit/audit-log.ts',
    open: (p) => new AuditLog(p),
    seed: `INSERT INTO audit_log (ts, actor_token_id, actor_role, actor_name, action, target, details, source) VALUES (1000, NULL, 'admin', 'root', 'token.create', 'token 1', '{}', 'cli')`,
    read: (s: AuditLog) => s.query({ limit: 10 }).map((e) => [e.action, e.target]),
    expected: [['token.create', 'token 1']],
    version: 2, // 2: origin and the fleet's copy (audit-share.ts)
  },
  {
    store: 'src/webhooks/webhook-store.ts',
    open: (p) => new WebhookStore(p),
    seed: `INSERT INTO subscriptions (id, name, url, jurisdiction, categories, min_severity, events, secret, owner_token_id, owner_role, created_at)
           VALUES ('sub1', 'n', 'https://hooks.example/x', '*', '[]', 'info', '["opened"]', 'whsec_x', NULL, 'admin', 1000)`,
    read: (s: WebhookStore) => s.target('sub1'),
    expected: { url: 'https://hooks.example/x', secret: 'whsec_x' },
    version: 2, // 2: from_seq, shared outcomes, identity (src/view/webhook-sharing.ts)
  },
  {
    store: 'src/quality/quality-store.ts',
    open: (p) => new QualityStore(p),
    seed: `INSERT INTO quality_device (key, site, line, device, state) VALUES ('s1/l1/d1', 's1', 'l1', 'd1', '{"n":1}')`,
    read: (s: QualityStore) => s.devices(),
    expected: [{ ref: { site: 's1', line: 'l1', device: 'd1' }, state: { n: 1 } }],
    version: 2, // 2: a device's state in columns (device-state-row.ts)
  },
];

describe('local stores created before schema versions', () => {
  it.each(cases)('$store: opens with its rows, is brought to its version, and ends with the schema of a new install', (c) => {
    const upgraded = tempFile('upgraded.sqlite');
    createUnversioned(upgraded, c.store, c.seed);

    const store = c.open(upgraded);
    expect(c.read(store as never)).toEqual(c.expected);
    store.close();
    expect(versionOf(upgraded)).toBe(c.version);

    // Reopening an up-to-date file changes nothing.
    const again = c.open(upgraded);
    expect(c.read(again as never)).toEqual(c.expected);
    again.close();

    const fresh = tempFile('fresh.sqlite');
    c.open(fresh).close();
    expect(versionOf(fresh)).toBe(c.version);
    expect(schemaOf(upgraded)).toEqual(schemaOf(fresh));
  });
});

describe('a token store made after tokens could expire but before schema versions', () => {
  it('already has expires_at: migration 2 leaves it, and its expiry is kept', () => {
    const path = tempFile('auth.sqlite');
    const db = new Database(path);
    db.exec(unversionedSchema('src/auth/token-store.ts'));
    db.exec('ALTER TABLE tokens ADD COLUMN expires_at INTEGER');
    db.exec(`INSERT INTO tokens (id, name, role, scope, hash, created_at, created_by, expires_at) VALUES ('0123456789ab', 'ops', 'manager', '["*"]', x'00', 1000, 'cli', 5000)`);
    db.close();
    const store = new TokenStore(path);
    expect(store.list().map((t) => t.expiresAt)).toEqual([5000]);
    store.close();
    expect(versionOf(path)).toBe(2);
  });
});

describe('openLocalDb migrations (src/storage/local-db.ts)', () => {
  const v1 = 'CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);';
  const v2 = `ALTER TABLE t ADD COLUMN site TEXT NOT NULL DEFAULT 'unknown';`;

  it('runs only the migrations a file has not run, in order, and keeps its rows', () => {
    const path = tempFile('m.sqlite');
    const first = openLocalDb(path, [v1], { synchronous: 'FULL' });
    first.prepare(`INSERT INTO t (name) VALUES ('pump')`).run();
    first.close();

    // ADD COLUMN fails when run twice, so the third open below proves v2 is not rerun.
    const second = openLocalDb(path, [v1, v2], { synchronous: 'FULL' });
    expect(schemaVersion(second)).toBe(2);
    expect(second.prepare('SELECT name, site FROM t').all()).toEqual([{ name: 'pump', site: 'unknown' }]);
    second.close();

    const third = openLocalDb(path, [v1, v2], { synchronous: 'FULL' });
    expect(schemaVersion(third)).toBe(2);
    third.close();
  });

  it('leaves a file at its old version when a migration fails, and says which file', () => {
    const path = tempFile('m.sqlite');
    openLocalDb(path, [v1], { synchronous: 'FULL' }).close();
    const broken = `ALTER TABLE t ADD COLUMN ok TEXT; ALTER TABLE no_such_table ADD COLUMN x TEXT;`;
    expect(() => openLocalDb(path, [v1, broken], { synchronous: 'FULL' })).toThrow(/no_such_table/);
    const db = new Database(path);
    expect(schemaVersion(db)).toBe(1);
    // The step's first statement was rolled back with the failed second one.
    expect(db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('t')`).all().map((r) => r.name)).toEqual(['id', 'name']);
    db.close();
  });

  it('several processes opening an old file at once (the CLI beside the platform) run each migration once', async () => {
    const path = tempFile('shared.sqlite');
    openLocalDb(path, [v1], { synchronous: 'FULL' }).close();
    const child = new URL('./fixtures/migrate-child.ts', import.meta.url).pathname;
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', child, path, v1, v2]);
    // ADD COLUMN run twice would fail ("duplicate column"): every process must see the version
    // another one stamped while it waited for the write lock.
    const results = await Promise.all(Array.from({ length: 4 }, run));
    expect(results.map((r) => r.stdout.trim())).toEqual(['2', '2', '2', '2']);
    const db = new Database(path, { readonly: true });
    expect(db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('t')`).all().map((r) => r.name)).toEqual(['id', 'name', 'site']);
    db.close();
  });

  it('refuses a file written by a newer version instead of running against an unknown schema', () => {
    const path = tempFile('m.sqlite');
    openLocalDb(path, [v1, v2], { synchronous: 'FULL' }).close();
    expect(() => openLocalDb(path, [v1], { synchronous: 'FULL' })).toThrow(`${path}: schema version 2 is newer than this build knows (1)`);
  });
});

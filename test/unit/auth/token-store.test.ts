import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapAdmin, parseScope, TokenStore } from '../../../src/auth/index.js';
import { tokenCommand } from '../../../src/cli/token-command.js';
import { createLogger } from '../../../src/observability/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pp-tokens-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every byte SQLite wrote (database, WAL), to look for a plaintext token. */
const onDisk = (dir: string) => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f)))).toString('latin1');

describe('token store', () => {
  it('stores only a hash, verifies the exact token, and refuses revoked, unknown and altered ones', () => {
    const dir = tempDir();
    const store = new TokenStore(join(dir, 'auth.sqlite'));
    const { token, info } = store.create({ role: 'manager', scope: parseScope('site-01'), name: 'm', createdBy: 'test' });
    expect(token).toMatch(/^ppt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(store.verify(token)).toMatchObject({ id: info.id, role: 'manager', scope: { all: false, sites: ['site-01'], prefixes: [] } });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(store.verify(token.slice(0, -1) + last)).toBeNull();
    expect(store.verify(`ppt_ffffffffffff_${token.slice(17)}`)).toBeNull();
    expect(store.verify(token + 'x')).toBeNull();
    expect(onDisk(dir)).not.toContain(token.slice(17));
    expect(store.revoke(info.id)).toBe(true);
    expect(store.revoke(info.id)).toBe(false);
    expect(store.verify(token)).toBeNull();
    store.close();
  });

  it('an expiring token is valid until its time, then refused like a revoked one', () => {
    const dir = tempDir();
    let now = 1_000_000;
    const store = new TokenStore(join(dir, 'auth.sqlite'), () => now);
    const { token, info } = store.create({ role: 'manager', scope: parseScope('site-01'), name: 'm', createdBy: 'test', expiresAt: now + 60_000 });
    const forever = store.create({ role: 'admin', scope: parseScope('*'), name: 'a', createdBy: 'test' });
    expect(info.expiresAt).toBe(now + 60_000);
    expect(forever.info.expiresAt).toBeNull();
    expect(store.verify(token)).not.toBeNull();
    expect(store.isActive(info.id)).toBe(true);
    now += 60_000;
    expect(store.verify(token)).toBeNull();
    expect(store.isActive(info.id)).toBe(false);
    expect(store.verify(forever.token)).not.toBeNull();
    store.close();
  });

  it('opens a store made before tokens could expire (no expires_at column): its tokens never expire', () => {
    const dir = tempDir();
    const path = join(dir, 'auth.sqlite');
    const before = new TokenStore(path);
    const { token } = before.create({ role: 'manager', scope: parseScope('site-01'), name: 'm', createdBy: 'test' });
    before.close();
    const raw = new Database(path);
    raw.exec('ALTER TABLE tokens DROP COLUMN expires_at');
    raw.pragma('user_version = 0'); // such stores also predate schema versions
    raw.close();
    const after = new TokenStore(path);
    expect(after.verify(token)).toMatchObject({ expiresAt: null });
    expect(after.create({ role: 'gateway', scope: parseScope('site-01'), name: 'g', createdBy: 'test', expiresAt: Date.now() - 1 }).info.expiresAt).not.toBeNull();
    after.close();
  });

  it('an admin token covers every site whatever scope it was given', () => {
    const store = new TokenStore(':memory:');
    const { info } = store.create({ role: 'admin', scope: parseScope('site-01'), name: 'a', createdBy: 'test' });
    expect(info.scope).toEqual({ all: true });
    store.close();
  });

  it('bootstrap: creates a first admin once, accepts PP_BOOTSTRAP_ADMIN_TOKEN idempotently, never over a revocation', () => {
    const store = new TokenStore(':memory:');
    const log = createLogger('silent');
    const first = bootstrapAdmin(store, undefined, log);
    expect(first).toMatch(/^ppt_/);
    expect(store.verify(first!)?.role).toBe('admin');
    expect(bootstrapAdmin(store, undefined, log)).toBeNull();
    const chosen = `ppt_00000000abcd_${'k'.repeat(43)}`;
    expect(bootstrapAdmin(store, chosen, log)).toBeNull();
    expect(bootstrapAdmin(store, chosen, log)).toBeNull();
    expect(store.list().filter((t) => t.createdBy === 'PP_BOOTSTRAP_ADMIN_TOKEN')).toHaveLength(1);
    store.revoke('00000000abcd');
    bootstrapAdmin(store, chosen, log);
    expect(store.verify(chosen)).toBeNull();
    // Same id, different secret: refused rather than silently replaced.
    expect(() => bootstrapAdmin(store, `ppt_00000000abcd_${'q'.repeat(43)}`, log)).toThrow(/already taken/);
    store.close();
  });
});

describe('plantpulse token (CLI)', () => {
  it('creates, lists and revokes; the token is printed once and never listed', () => {
    const dir = tempDir();
    const out: string[] = [];
    const run = (...args: string[]) => tokenCommand([...args, '--data-dir', dir], {}, (l) => out.push(l));
    expect(run('create', '--role', 'regulator', '--scope', 'zj-hz-*,site-9', '--name', 'Hangzhou office')).toBe(0);
    const token = out.join('\n').match(/ppt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/)![0];
    out.length = 0;
    expect(run('list')).toBe(0);
    expect(out.join('\n')).toMatch(/regulator\s+site-9,zj-hz-\*\s+Hangzhou office/);
    expect(out.join('\n')).not.toContain(token.slice(17));
    expect(run('revoke', token.slice(4, 16))).toBe(0);
    out.length = 0;
    run('list', '--json');
    expect(JSON.parse(out[0]!)[0]).toMatchObject({ role: 'regulator', scope: ['site-9', 'zj-hz-*'] });
    expect(JSON.parse(out[0]!)[0].revokedAt).toBeGreaterThan(0);
    expect(run('revoke', 'ffffffffffff')).toBe(1);
  });

  it('refuses a missing or bad scope, an unknown role, and a scoped admin', () => {
    const dir = tempDir();
    const run = (...args: string[]) => () => tokenCommand([...args, '--data-dir', dir], {}, () => undefined);
    expect(run('create', '--role', 'manager')).toThrow(/needs --scope/);
    expect(run('create', '--role', 'manager', '--scope', 'a/b')).toThrow(/--scope/);
    expect(run('create', '--role', 'root', '--scope', 'a')).toThrow(/--role/);
    expect(run('create', '--role', 'admin', '--scope', 'site-01')).toThrow(/every site/);
  });

  it('runs as the `plantpulse` entry point (src/cli.ts): exit codes and usage', async () => {
    const dir = tempDir();
    const exec = promisify(execFile);
    const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { PATH: process.env.PATH, PP_DATA_DIR: dir } });
    const created = await cli('token', 'create', '--role', 'gateway', '--scope', 'site-01', '--json');
    expect(JSON.parse(created.stdout)).toMatchObject({ role: 'gateway', scope: ['site-01'], token: expect.stringMatching(/^ppt_/) });
    expect((await cli('token', 'list')).stdout).toContain('gateway');
    await expect(cli('token', 'create', '--role', 'gateway')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
    await expect(cli('frobnicate')).rejects.toMatchObject({ code: 2 });
  });
});

import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { AuditLog, sanitizeDetails, startAuditRetention } from '../../../src/audit/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { maskUrlQuery, scrubText } from '../../../src/observability/redact.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('scrubText (src/observability/redact.ts)', () => {
  it.each([
    [`token ppt_0123456789ab_${'a'.repeat(43)} used`, 'token ppt_0123456789ab_[redacted] used'],
    ['mqtt://gw:s3cret@broker:1883', 'mqtt://gw:[redacted]@broker:1883'],
    ['https://hooks.example/x?access_token=abc&keep=1', 'https://hooks.example/x?access_token=[redacted]&keep=1'],
    ['/write?db=x&u=telegraf&p=hunter2&precision=ms', '/write?db=x&u=telegraf&p=[redacted]&precision=ms'],
    ['Authorization: Bearer abcdefgh12345678', 'Authorization: Bearer [redacted]'],
    ['http://influx.example:8086/query?db=plantpulse', 'http://influx.example:8086/query?db=plantpulse'],
    ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1:1883'],
    ['a plain message', 'a plain message'],
  ])('%s', (input, output) => {
    expect(scrubText(input)).toBe(output);
  });
});

describe('maskUrlQuery (src/observability/redact.ts): host and path shown, every query value hidden', () => {
  it.each([
    ['https://hooks.example/in?token=s3cret', 'https://hooks.example/in?token=[redacted]'],
    ['https://hooks.example:8443/a/b?sig=abc&site=zj-hz-01', 'https://hooks.example:8443/a/b?sig=[redacted]&site=[redacted]'],
    ['http://127.0.0.1:9/hook', 'http://127.0.0.1:9/hook'],
    ['https://hooks.example/in?k=v#frag-secret', 'https://hooks.example/in?k=[redacted]#[redacted]'],
    ['https://hooks.example/in?flag', 'https://hooks.example/in?flag=[redacted]'],
    [`not a url ppt_0123456789ab_${'a'.repeat(43)}`, 'not a url ppt_0123456789ab_[redacted]'],
  ])('%s', (input, output) => {
    expect(maskUrlQuery(input)).toBe(output);
  });
});

describe('audit log store', () => {
  it('drops secret-named details, scrubs strings, keeps the rest', () => {
    expect(sanitizeDetails({ secret: 'x', password: 'y', token: 'z', authorization: 'w', tokenId: 'abc', secretGenerated: true, url: 'http://u:p@h/', nested: { apiToken: 'q', name: 'n' } })).toEqual({
      tokenId: 'abc',
      secretGenerated: true,
      url: 'http://u:[redacted]@h/',
      nested: { name: 'n' },
    });
  });

  it('appends, queries newest first with filters, and refuses changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-audit-unit-'));
    dirs.push(dir);
    let now = 1_000;
    const log = new AuditLog(join(dir, 'audit.sqlite'), undefined, () => now);
    const actor = { tokenId: 'aaaaaaaaaaaa', role: 'admin' as const, name: 'ops' };
    log.record({ actor, action: 'token.create', target: 't1', source: 'cli' });
    now = 2_000;
    log.record({ actor: { ...actor, tokenId: null, name: 'other' }, action: 'token.revoke', target: 't1', source: 'cli' });
    now = 3_000;
    log.record({ actor, action: 'subscription.delete', target: 's1', source: 'http', address: '10.0.0.1' });
    expect(log.query({ limit: 10 }).map((e) => e.target + e.action)).toEqual(['s1subscription.delete', 't1token.revoke', 't1token.create']);
    expect(log.query({ limit: 10, actor: 'aaaaaaaaaaaa' }).map((e) => e.ts)).toEqual([3_000, 1_000]);
    expect(log.query({ limit: 10, actor: 'other' }).map((e) => e.ts)).toEqual([2_000]);
    expect(log.query({ limit: 10, from: 2_000, to: 3_000 }).map((e) => e.ts)).toEqual([2_000]);
    expect(log.query({ limit: 1 }).map((e) => e.ts)).toEqual([3_000]);
    expect(log.query({ limit: 10, action: 'token.create' })[0]).toMatchObject({ actor, details: {}, source: 'cli', address: null });
    log.close();
    // Reopened (another process, the CLI): still there.
    const again = new AuditLog(join(dir, 'audit.sqlite'));
    expect(again.query({ limit: 10 })).toHaveLength(3);
    again.close();
  });

  it('prune deletes only entries older than the cut, records it, and the log stays append-only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-audit-unit-'));
    dirs.push(dir);
    let now = 0;
    const path = join(dir, 'audit.sqlite');
    const log = new AuditLog(path, undefined, () => now);
    const actor = { tokenId: null, role: 'operator' as const, name: 'ops' };
    for (const ts of [1_000, 2_000, 3_000]) {
      now = ts;
      log.record({ actor, action: 'token.create', target: `t${ts}`, source: 'cli' });
    }
    now = 10_000;
    expect(log.prune(2_500)).toBe(2);
    expect(log.query({ limit: 10 }).map((e) => `${e.action} ${e.target}`)).toEqual(['audit.prune audit_log', 'token.create t3000']);
    expect(log.query({ limit: 1 })[0]).toMatchObject({ actor: { role: 'platform' }, details: { before: 2_500, deleted: 2 }, source: 'retention' });
    // Nothing to prune: no entry about it.
    expect(log.prune(2_500)).toBe(0);
    expect(log.query({ limit: 10 })).toHaveLength(2);
    log.close();
    // Outside prune, DELETE and UPDATE are still refused.
    const raw = new Database(path);
    expect(() => raw.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => raw.prepare("UPDATE audit_log SET target = 'x'").run()).toThrow(/append-only/);
    raw.close();
  });

  it('retention prunes at start, then every hour; 0 keeps everything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-audit-unit-'));
    dirs.push(dir);
    vi.useFakeTimers();
    try {
      const HOUR = 3_600_000;
      let now = 0;
      const log = new AuditLog(join(dir, 'audit.sqlite'), undefined, () => now);
      const actor = { tokenId: null, role: 'operator' as const, name: 'ops' };
      log.record({ actor, action: 'token.create', target: 'old', source: 'cli' });
      now = 10 * HOUR;
      log.record({ actor, action: 'token.create', target: 'newer', source: 'cli' });
      const targets = () => log.query({ limit: 10 }).filter((e) => e.action === 'token.create').map((e) => e.target);
      startAuditRetention(log, 0, createLogger('silent'), () => now).stop();
      expect(targets()).toEqual(['newer', 'old']);
      const retention = startAuditRetention(log, 5 * HOUR, createLogger('silent'), () => now);
      expect(targets()).toEqual(['newer']);
      now = 15.5 * HOUR;
      vi.advanceTimersByTime(HOUR);
      expect(targets()).toEqual([]);
      // The first pruning's own entry was older than the cut too.
      expect(log.query({ limit: 10, action: 'audit.prune' })).toMatchObject([{ ts: 15.5 * HOUR, details: { before: 10.5 * HOUR, deleted: 2 } }]);
      retention.stop();
      log.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the audit log of a NATS fleet (copies of the other processes\' entries)', () => {
  it('answers with its own and the others\' entries, newest first, each once; pruning cuts both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-audit-fleet-'));
    dirs.push(dir);
    let now = 1000;
    const log = new AuditLog(join(dir, 'audit.sqlite'), undefined, () => now);
    const other = new AuditLog(join(dir, 'other.sqlite'), undefined, () => now);
    const actor = { tokenId: 'tok1', role: 'admin' as const, name: 'ops' };
    log.record({ actor, action: 'token.create', target: 'mine-1', source: 'http' });
    now = 2000;
    other.record({ actor, action: 'alert.acknowledge', target: 'theirs-1', source: 'http' });
    now = 3000;
    log.record({ actor, action: 'token.revoke', target: 'mine-2', source: 'http' });
    // What the other process shares, as the stream carries it; repeats (redelivery) are stored once.
    const shared = other.after(0, 10);
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatchObject({ origin: other.origin, id: 1, target: 'theirs-1' });
    expect(log.fleetCopyEmpty()).toBe(true);
    expect(log.mirror([...shared, ...shared])).toBe(1);
    // Its own entries coming back from the stream are not copied.
    expect(log.mirror(log.after(0, 10))).toBe(0);
    expect(log.fleetCopyEmpty()).toBe(false);
    // Not yet answering for the fleet: its own only, as on one process.
    expect(log.query({ limit: 10 }).map((e) => e.target)).toEqual(['mine-2', 'mine-1']);
    log.includeFleet();
    const all = log.query({ limit: 10 });
    expect(all.map((e) => [e.target, e.origin])).toEqual([['mine-2', log.origin], ['theirs-1', other.origin], ['mine-1', log.origin]]);
    expect(log.query({ limit: 10, action: 'alert.acknowledge' }).map((e) => e.target)).toEqual(['theirs-1']);
    expect(log.query({ limit: 10, from: 1500, to: 2500 }).map((e) => e.target)).toEqual(['theirs-1']);
    // Retention removes old entries of every origin (and records its own pruning).
    now = 4000;
    expect(log.prune(2500)).toBe(1);
    expect(log.query({ limit: 10 }).map((e) => e.action)).toEqual(['audit.prune', 'token.revoke']);
    // The origin is the file's: opened again, the same.
    const again = new AuditLog(join(dir, 'audit.sqlite'));
    expect(again.origin).toBe(log.origin);
    expect(other.origin).not.toBe(log.origin);
    for (const l of [log, other, again]) l.close();
  });
});

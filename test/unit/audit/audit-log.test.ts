import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, sanitizeDetails } from '../../../src/audit/index.js';
import { scrubText } from '../../../src/observability/redact.js';

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
});

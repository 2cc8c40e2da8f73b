import { describe, expect, it } from 'vitest';
import { parseScope } from '../../../src/auth/index.js';
import { mayPublish, mayReceive, maySubscribe, type BrokerIdentity } from '../../../src/broker/topic-acl.js';

const token = (role: 'gateway' | 'manager' | 'regulator' | 'admin', scope: string): BrokerIdentity => ({ kind: 'token', tokenId: '0123456789ab', name: `${role} ${scope}`, role, scope: parseScope(scope) });
const platform: BrokerIdentity = { kind: 'platform' };
const gwA = token('gateway', 'site-a');
const gwHz = token('gateway', 'zj-hz-*');
const managerA = token('manager', 'site-a');
const regHz = token('regulator', 'zj-hz-*');
const admin = token('admin', '*');

describe('embedded broker topic ACL (src/broker/topic-acl.ts)', () => {
  it.each([
    [gwA, 'pp/v1/site-a/line-1/dev-1/metrics', true],
    [gwA, 'pp/v1/site-a/line-1/dev-1/status', true],
    [gwA, 'pp/v1/site-a/_gateway/gw-1/status', true],
    [gwA, 'pp/v1/site-b/line-1/dev-1/metrics', false],
    [gwA, 'pp/v1/site-a-2/line-1/dev-1/metrics', false],
    [gwA, 'pp/v1/site-a/line-1/dev-1/alerts', false],
    [gwA, 'pp/v1/site-a/line-1/metrics', false],
    [gwA, 'pp/v1/site-a/line-1/dev-1/metrics/extra', false],
    [gwA, 'pp/dead-letter/v1/pp/v1/site-a/line-1/dev-1/metrics', false],
    [gwA, '$SYS/broker/uptime', false],
    [gwA, 'other/topic', false],
    [gwA, 'spBv1.0/site-a/NDATA/node-1', true],
    [gwA, 'spBv1.0/site-a/DDATA/node-1/dev-1', true],
    [gwA, 'spBv1.0/site-b/NDATA/node-1', false],
    [gwA, 'spBv1.0/site-a/NCMD/node-1', false],
    [gwA, 'spBv1.0/STATE/host-1', false],
    [gwHz, 'pp/v1/zj-hz-07/l/d/metrics', true],
    [gwHz, 'pp/v1/zj-nb-01/l/d/metrics', false],
    [managerA, 'pp/v1/site-a/line-1/dev-1/metrics', false],
    [regHz, 'pp/v1/zj-hz-01/line-1/dev-1/metrics', false],
    [admin, 'pp/v1/any-site/l/d/metrics', true],
    [admin, 'pp/v1/any-site/l/d/alerts', false],
    [platform, 'pp/v1/any-site/l/d/alerts', true],
    [platform, 'pp/dead-letter/v1/x', true],
  ] as const)('publish %#: %o → %s: %s', (who, topic, allowed) => {
    expect(mayPublish(who, topic).ok).toBe(allowed);
  });

  it('says why a publish is refused', () => {
    expect(mayPublish(gwA, 'pp/v1/site-b/l/d/metrics')).toEqual({ ok: false, reason: "site site-b is outside this token's scope" });
    expect(mayPublish(gwA, 'pp/v1/site-a/l/d/alerts')).toEqual({ ok: false, reason: 'alerts topics are written by the platform only' });
    expect(mayPublish(managerA, 'pp/v1/site-a/l/d/metrics')).toEqual({ ok: false, reason: 'a manager token may not publish' });
  });

  it.each([
    [gwA, 'pp/v1/#', false],
    [gwA, 'pp/v1/site-a/#', false],
    [gwA, 'pp/v1/site-a/line-1/dev-1/alerts', false],
    [gwA, '#', false],
    [gwA, '$share/pp/pp/v1/#', false],
    [gwA, 'spBv1.0/site-a/NCMD/node-1', true],
    [gwA, 'spBv1.0/site-a/DCMD/node-1/+', true],
    [gwA, 'spBv1.0/site-b/NCMD/node-1', false],
    [gwA, 'spBv1.0/+/NCMD/node-1', false],
    [gwA, 'spBv1.0/STATE/host-1', true],
    [managerA, 'pp/v1/site-a/#', true],
    [managerA, 'pp/v1/site-b/#', false],
    [managerA, 'pp/v1/+/+/+/alerts', true],
    [managerA, '#', false],
    [managerA, 'pp/#', false],
    [managerA, '$SYS/#', false],
    [regHz, 'pp/v1/zj-hz-02/+/+/alerts', true],
    [regHz, 'pp/v1/zj-nb-01/+/+/alerts', false],
    [admin, 'pp/v1/#', true],
    [platform, '$share/pp/pp/v1/#', true],
    [platform, '#', true],
  ] as const)('subscribe %#: %o → %s: %s', (who, filter, allowed) => {
    expect(maySubscribe(who, filter).ok).toBe(allowed);
  });

  it('delivers a wildcard subscriber only the messages of its own sites', () => {
    expect(mayReceive(managerA, 'pp/v1/site-a/l/d/alerts')).toBe(true);
    expect(mayReceive(managerA, 'pp/v1/site-b/l/d/alerts')).toBe(false);
    expect(mayReceive(regHz, 'pp/v1/zj-hz-09/l/d/metrics')).toBe(true);
    expect(mayReceive(regHz, 'pp/v1/zj-nb-01/l/d/metrics')).toBe(false);
    expect(mayReceive(regHz, 'pp/dead-letter/v1/pp/v1/zj-hz-09/l/d/metrics')).toBe(false);
    expect(mayReceive(gwA, 'pp/v1/site-a/l/d/metrics')).toBe(false);
    expect(mayReceive(gwA, 'spBv1.0/site-a/NCMD/node-1')).toBe(true);
    expect(mayReceive(gwA, 'spBv1.0/site-b/NCMD/node-1')).toBe(false);
    expect(mayReceive(platform, 'anything/at/all')).toBe(true);
  });
});

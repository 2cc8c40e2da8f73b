import { describe, expect, it } from 'vitest';
import { AlertManager, AlertStore, DEFAULT_ALERT_OPTIONS } from '../../../src/alerts/index.js';
import type { AnomalyEvent } from '../../../src/alerts/types.js';
import { ALL_SITES, formatScope, parseScope, scopeInfluxQL, scopeWithin, siteAllowed } from '../../../src/auth/index.js';

describe('site scopes', () => {
  it('parses sites, prefixes and *, and refuses anything else with the entry named', () => {
    expect(parseScope('site-01, zj-hz-*,site-01')).toEqual({ all: false, sites: ['site-01'], prefixes: ['zj-hz-'] });
    expect(parseScope(['*'])).toEqual(ALL_SITES);
    expect(formatScope(parseScope('b,a,zj-*'))).toEqual(['a', 'b', 'zj-*']);
    for (const bad of ['', ' , ', 'zj/hz', "x'; DROP", 'zj-*-01', '*,site-01', 'a'.repeat(65)]) expect(() => parseScope(bad), bad).toThrow();
    expect(() => parseScope('zj/hz')).toThrow(/"zj\/hz"/);
  });

  it('matches exact sites and prefixes only', () => {
    const s = parseScope('site-01,zj-hz-*');
    expect(['site-01', 'zj-hz-01', 'zj-hz-'].map((x) => siteAllowed(s, x))).toEqual([true, true, true]);
    expect(['site-011', 'site-0', 'zj-nb-01', 'zj-h', 'ZJ-HZ-01'].map((x) => siteAllowed(s, x))).toEqual([false, false, false, false, false]);
  });

  it('knows when one scope lies inside another (a subscription inside its owner)', () => {
    const city = parseScope('zj-hz-*');
    expect(scopeWithin(parseScope('zj-hz-01,zj-hz-x*'), city)).toBe(true);
    expect(scopeWithin(parseScope('zj-*'), city)).toBe(false);
    expect(scopeWithin(parseScope('zj-nb-01'), city)).toBe(false);
    expect(scopeWithin(ALL_SITES, city)).toBe(false);
    expect(scopeWithin(city, ALL_SITES)).toBe(true);
    expect(scopeWithin(parseScope('zj-hz-*'), parseScope('zj-hz-01'))).toBe(false);
  });

  it('builds InfluxQL conditions from checked ids only', () => {
    expect(scopeInfluxQL(ALL_SITES)).toBe('');
    expect(scopeInfluxQL(parseScope('a,zj-hz-*'))).toBe(`(site = 'a' OR site =~ /^zj-hz-/)`);
  });

  it('filters alerts in SQL, with prefixes that treat _ and % as the characters they are', () => {
    const store = new AlertStore(':memory:');
    const m = new AlertManager(store, DEFAULT_ALERT_OPTIONS);
    const ev = (site: string, i: number): AnomalyEvent => ({ kind: 'raise', ts: 1_800_000_000_000 + i, value: 1, site, line: 'l', device: 'd', rule: 'r', metric: 'x', category: 'safety', severity: 'warning', message: { en: '', zh: '' } });
    const sites = ['zj_hz-01', 'zjXhz-01', 'zj_hz01', 'zj-hz-01', 'other'];
    m.handle(sites.map(ev));
    const seen = (scope: string) => store.query({ scope: parseScope(scope) }).map((a) => a.site).sort();
    // With LIKE 'zj_hz-%', `_` would match any character and let zjXhz-01 through.
    expect(seen('zj_hz-*')).toEqual(['zj_hz-01']);
    expect(seen('zj-hz-01,other')).toEqual(['other', 'zj-hz-01']);
    expect(store.query({ scope: ALL_SITES })).toHaveLength(5);
    const other = store.query({ scope: parseScope('other') })[0]!;
    expect(store.get(other.id, parseScope('zj-*'))).toBeNull();
    expect(m.get(other.id, parseScope('zj-*'))).toBeNull();
    expect(m.acknowledge(other.id, 'someone', null, parseScope('zj-*'))).toBeNull();
    expect(m.acknowledge(other.id, 'someone', null, parseScope('oth*'))?.alert.ackedBy).toBe('someone');
    store.close();
  });
});

import { ID_PATTERN } from '../contract/index.js';

/**
 * Which sites a token may touch: every site, or a list of exact site ids and site-id prefixes
 * (`zj-hz-*`: every site whose id starts with `zj-hz-`, e.g. a city's plants). Written as text
 * in one form everywhere (CLI `--scope`, token list, subscription jurisdictions):
 * `site-01,site-02,zj-hz-*`, or `*` for every site.
 *
 * Filters built from a scope go INTO queries (SQL, InfluxQL), never after them: data outside a
 * scope is never read, so it cannot leak through a bug in post-filtering.
 */
export type SiteScope = { all: true } | { all: false; sites: readonly string[]; prefixes: readonly string[] };

export const ALL_SITES: SiteScope = { all: true };

const PREFIX_ENTRY = /^[A-Za-z0-9_-]{1,63}\*$/;

/** Parse `a,b,zj-hz-*` (or `*`); throws with the entry at fault. */
export function parseScope(text: string | readonly string[]): SiteScope {
  const entries = (typeof text === 'string' ? text.split(',') : [...text]).map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new Error('scope is empty: give site ids and/or prefixes (site-01,zj-hz-*), or * for every site');
  if (entries.includes('*')) {
    if (entries.length > 1) throw new Error('scope * (every site) cannot be combined with other entries');
    return ALL_SITES;
  }
  const sites = new Set<string>();
  const prefixes = new Set<string>();
  for (const e of entries) {
    if (PREFIX_ENTRY.test(e)) prefixes.add(e.slice(0, -1));
    else if (ID_PATTERN.test(e)) sites.add(e);
    else throw new Error(`scope entry ${JSON.stringify(e)} is neither a site id ([A-Za-z0-9_-]{1,64}) nor a prefix ending in * (zj-hz-*)`);
  }
  return { all: false, sites: [...sites].sort(), prefixes: [...prefixes].sort() };
}

export function formatScope(scope: SiteScope): string[] {
  return scope.all ? ['*'] : [...scope.sites, ...scope.prefixes.map((p) => `${p}*`)];
}

export function siteAllowed(scope: SiteScope, site: string): boolean {
  return scope.all || scope.sites.includes(site) || scope.prefixes.some((p) => site.startsWith(p));
}

/** Whether every site `inner` can name lies inside `outer` (a subscription inside its owner's jurisdiction). */
export function scopeWithin(inner: SiteScope, outer: SiteScope): boolean {
  if (outer.all) return true;
  if (inner.all) return false;
  return inner.sites.every((s) => siteAllowed(outer, s)) && inner.prefixes.every((p) => outer.prefixes.some((o) => p.startsWith(o)));
}

/**
 * An SQL condition on column `column` and its named parameters (better-sqlite3 `@name`).
 * Prefixes compare with substr(), not LIKE: `_` is a LIKE wildcard and a legal id character.
 */
export function scopeSql(scope: SiteScope, column = 'site'): { clause: string; params: Record<string, string> } {
  if (scope.all) return { clause: '1', params: {} };
  const params: Record<string, string> = {};
  const parts: string[] = [];
  scope.sites.forEach((s, i) => {
    params[`scope_site_${i}`] = s;
  });
  if (scope.sites.length > 0) parts.push(`${column} IN (${scope.sites.map((_, i) => `@scope_site_${i}`).join(', ')})`);
  scope.prefixes.forEach((p, i) => {
    params[`scope_prefix_${i}`] = p;
    parts.push(`substr(${column}, 1, ${p.length}) = @scope_prefix_${i}`);
  });
  return { clause: parts.length > 0 ? `(${parts.join(' OR ')})` : '0', params };
}

/**
 * An InfluxQL condition on the `site` tag, or '' for every site. Entries passed parseScope's
 * patterns ([A-Za-z0-9_-]), so they need no escaping inside quotes or a regex.
 */
export function scopeInfluxQL(scope: SiteScope): string {
  if (scope.all) return '';
  const parts = [...scope.sites.map((s) => `site = '${s}'`), ...scope.prefixes.map((p) => `site =~ /^${p}/`)];
  // An empty scope matches nothing: a condition no tag value meets.
  return parts.length > 0 ? `(${parts.join(' OR ')})` : `site = ''`;
}

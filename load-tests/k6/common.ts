/**
 * Settings shared by the k6 scenarios, from environment variables (`k6 run -e NAME=value` or the
 * shell environment): where the platform is, which token to present, which plant to talk about.
 */

/** Base URL of the platform's HTTP API. */
export const BASE_URL = (__ENV.PP_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

/** API token (`Authorization: Bearer`): a gateway token for ingest, a manager or regulator token for reads. Empty: none sent. */
export const TOKEN = __ENV.PP_TOKEN || '';

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return TOKEN ? { Authorization: `Bearer ${TOKEN}`, ...extra } : extra;
}

/** Sites the scenarios address: PP_SITES=site-01,site-02 (default site-01). */
export const SITES = (__ENV.PP_SITES || 'site-01').split(',').filter((s) => s.length > 0);

export function envInt(name: string, fallback: number): number {
  const v = Number(__ENV[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

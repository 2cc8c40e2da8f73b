import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorCode } from '../../contract/index.js';

/**
 * The seam for write authentication. InfluxDB clients send credentials as
 * `Authorization: Token <token>` (2.x, Telegraf's influxdb_v2 output, influxdb-client),
 * `Authorization: Basic ...` or `?u=&p=` (1.x). The platform plugs in src/auth's implementation
 * (API tokens; a gateway token writes only its own sites, docs/access.md); without one every writer
 * is accepted. Credentials are never logged.
 */
export interface WriteCredentials {
  token?: string;
  username?: string;
  password?: string;
}

export interface WriteTarget {
  api: 'v1' | 'v2';
  /** 1.x `db` / 2.x `bucket`: required by the APIs, not used for routing (docs/line-protocol.md). */
  database: string;
  org?: string;
}

export interface WriteDenial {
  /** 429: too many failed authentications from this address or for this token id (with `retryAfterS`). */
  status: 401 | 403 | 429;
  code?: ErrorCode;
  message: string;
  retryAfterS?: number;
}

/** The writer may write, but only lines of the sites `siteAllowed` accepts (others are rejected per line). */
export interface WriteGrant {
  siteAllowed(site: string): boolean;
}

export interface WriteClient {
  /** The client's address, for rate limiting failed authentications. */
  address: string;
}

export interface WriteAuthorizer {
  /** Resolves null when the writer may write every site, a grant limiting its sites, or why not. */
  authorize(credentials: WriteCredentials, target: WriteTarget, client?: WriteClient): Promise<WriteDenial | WriteGrant | null>;
}

export function isWriteDenial(d: WriteDenial | WriteGrant | null): d is WriteDenial {
  return d !== null && 'status' in d;
}

/** Until write tokens exist: accept every writer (the credentials are parsed, then ignored). */
export const ACCEPT_ALL_WRITERS: WriteAuthorizer = { authorize: async () => null };

export function credentialsOf(headers: IncomingHttpHeaders, query: Record<string, unknown>): WriteCredentials {
  const auth = headers.authorization ?? '';
  const space = auth.indexOf(' ');
  const scheme = auth.slice(0, space).toLowerCase();
  const value = auth.slice(space + 1).trim();
  if (space > 0 && (scheme === 'token' || scheme === 'bearer')) return { token: value };
  if (space > 0 && scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { username: decoded } : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const u = query.u;
  const p = query.p;
  return typeof u === 'string' ? { username: u, password: typeof p === 'string' ? p : undefined } : {};
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../api/query-params.js';
import { coversEverySite, formatScope, isRole, parseScope, ROLES, TokenStore, type TokenInfo } from '../auth/index.js';
import { AuditLog, cliActor, tokenDetails, type AuditAction } from '../audit/index.js';

export const TOKEN_USAGE = `plantpulse token create --role <${ROLES.join('|')}> --scope <sites> [--name NAME] [--expires-in DURATION] [--json]
      --scope: site ids and prefixes, comma-separated: site-01,site-02 or zj-hz-* (a city) or * (every site);
               not for admin (every site) or monitor (reads only /metrics). Prints the token once: store it then.
      --expires-in: 12h, 90d, ...: refused from then on, like a revoked token (open connections are closed within 5 s).
plantpulse token list [--json]
plantpulse token revoke <ID>
Options: --data-dir DIR (default: PP_DATA_DIR, else ./data): the platform's data dir, running or not.`;

export class UsageError extends Error {}

type Out = (line: string) => void;

const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

function table(tokens: TokenInfo[]): string[] {
  const rows = [['ID', 'ROLE', 'SCOPE', 'NAME', 'CREATED', 'LAST USED', 'STATUS']];
  for (const t of tokens) rows.push([t.id, t.role, formatScope(t.scope).join(','), t.name, when(t.createdAt), when(t.lastUsedAt), status(t)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function status(t: TokenInfo, now = Date.now()): string {
  if (t.revokedAt !== null) return `revoked ${when(t.revokedAt)}`;
  if (t.expiresAt === null) return 'active';
  return t.expiresAt > now ? `active until ${when(t.expiresAt)}` : `expired ${when(t.expiresAt)}`;
}

function describe(t: TokenInfo) {
  return { id: t.id, name: t.name, role: t.role, scope: formatScope(t.scope), createdAt: t.createdAt, createdBy: t.createdBy, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt, expiresAt: t.expiresAt };
}

/**
 * `plantpulse token ...`: creates, lists and revokes API tokens in `<data dir>/auth.sqlite`.
 * Returns the exit code. Tokens are printed only by `create`, once; the store keeps hashes.
 * Creations and revocations are recorded in `<data dir>/audit.sqlite` (actor: the OS user).
 */
export function tokenCommand(argv: string[], env: NodeJS.ProcessEnv, out: Out): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: 'string' }, scope: { type: 'string' }, name: { type: 'string' }, 'expires-in': { type: 'string' }, json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  const [action, ...rest] = positionals;
  const dataDir = values['data-dir'] ?? env.PP_DATA_DIR ?? './data';
  mkdirSync(dataDir, { recursive: true });
  const store = new TokenStore(join(dataDir, 'auth.sqlite'));
  const audited = (action: AuditAction, t: TokenInfo) => {
    const audit = new AuditLog(join(dataDir, 'audit.sqlite'));
    try {
      audit.record({ actor: cliActor(), action, target: t.id, details: tokenDetails(t), source: 'cli' });
    } finally {
      audit.close();
    }
  };
  try {
    switch (action) {
      case 'create': {
        const role = values.role ?? '';
        if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        if (coversEverySite(role) && values.scope !== undefined && values.scope !== '*') throw new UsageError(`a${role === 'admin' ? 'n admin token covers every site' : ' monitor token reads only /metrics'}: leave out --scope`);
        if (!coversEverySite(role) && values.scope === undefined) throw new UsageError(`a ${role} token needs --scope (site ids and prefixes, e.g. site-01,zj-hz-*)`);
        let scope;
        try {
          scope = parseScope(values.scope ?? '*');
        } catch (err) {
          throw new UsageError(`--scope: ${(err as Error).message}`);
        }
        const lifetime = values['expires-in'] === undefined ? undefined : parseDuration(values['expires-in']);
        if (lifetime === null) throw new UsageError('--expires-in must be a duration such as 12h or 90d');
        const { token, info } = store.create({ role, scope, name: values.name ?? `${role} token`, createdBy: 'cli', ...(lifetime === undefined ? {} : { expiresAt: Date.now() + lifetime }) });
        audited('token.create', info);
        if (values.json) out(JSON.stringify({ ...describe(info), token }));
        else out(`Created ${info.role} token ${info.id} "${info.name}", scope ${formatScope(info.scope).join(',')}${info.expiresAt === null ? '' : `, expires ${when(info.expiresAt)}`}.\nIt is shown only this once (the platform keeps a hash): store it now.\n\n${token}`);
        return 0;
      }
      case 'list': {
        const list = store.list();
        if (values.json) out(JSON.stringify(list.map(describe)));
        else out(list.length === 0 ? 'no tokens' : table(list).join('\n'));
        return 0;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id) throw new UsageError('give the id of the token to revoke (see: plantpulse token list)');
        const t = store.get(id);
        if (!t) {
          out(`no token with id ${id}`);
          return 1;
        }
        if (!store.revoke(id)) out(`token ${id} was already revoked (${when(t.revokedAt)})`);
        else {
          audited('token.revoke', t);
          out(`revoked ${t.role} token ${id} "${t.name}": refused from its next request on`);
        }
        return 0;
      }
      default:
        throw new UsageError(action ? `unknown token command ${JSON.stringify(action)}` : 'missing token command');
    }
  } finally {
    store.close();
  }
}

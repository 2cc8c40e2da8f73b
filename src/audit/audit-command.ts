import { mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTime } from '../api/query-params.js';
import { AUDIT_ACTIONS, AuditLog, type AuditAction, type AuditActor, type AuditEntry } from './audit-log.js';

export const AUDIT_USAGE = `plantpulse audit list [--from TIME] [--to TIME] [--action ${AUDIT_ACTIONS.join('|')}] [--actor ID|NAME] [--limit N] [--json]
      TIME: epoch ms, ISO 8601, now or now-<duration> (now-24h). Newest first (default: the last 100).`;

type Out = (line: string) => void;

/** Thrown for a bad command line (the CLI prints usage and exits 2). */
export class AuditUsageError extends Error {}

/** Who runs the CLI: the operating-system user on this host (whoever can read the data dir administers the platform). */
export function cliActor(): AuditActor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers with an arbitrary uid)
  }
  return { tokenId: null, role: 'operator', name: `cli ${user}@${hostname()}` };
}

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function table(entries: AuditEntry[]): string[] {
  const rows = [['TIME', 'ACTION', 'TARGET', 'ACTOR', 'ROLE', 'SOURCE', 'DETAILS']];
  for (const e of entries) rows.push([when(e.ts), e.action, e.target, e.actor.tokenId ? `${e.actor.name} (${e.actor.tokenId})` : e.actor.name, e.actor.role, e.address ? `${e.source} ${e.address}` : e.source, JSON.stringify(e.details)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** `plantpulse audit list ...`: reads `<data dir>/audit.sqlite`. Returns the exit code. */
export function auditCommand(argv: string[], env: NodeJS.ProcessEnv, out: Out): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, action: { type: 'string' }, actor: { type: 'string' }, limit: { type: 'string', default: '100' }, json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  const [action] = positionals;
  if (action !== 'list') throw new AuditUsageError(action ? `unknown audit command ${JSON.stringify(action)}` : 'missing audit command');
  const now = Date.now();
  const time = (name: 'from' | 'to') => {
    const text = values[name];
    if (text === undefined) return undefined;
    const t = parseTime(text, now);
    if (t === null) throw new AuditUsageError(`--${name} must be epoch ms, ISO 8601, now or now-<duration>`);
    return t;
  };
  if (values.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(values.action)) throw new AuditUsageError(`--action must be one of ${AUDIT_ACTIONS.join(', ')}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new AuditUsageError('--limit must be an integer from 1 to 100000');
  const query = { from: time('from'), to: time('to'), action: values.action as AuditAction | undefined, actor: values.actor, limit };
  const dataDir = values['data-dir'] ?? env.PP_DATA_DIR ?? './data';
  mkdirSync(dataDir, { recursive: true });
  const audit = new AuditLog(join(dataDir, 'audit.sqlite'));
  try {
    const entries = audit.query(query);
    if (values.json) out(JSON.stringify(entries));
    else out(entries.length === 0 ? 'no audit entries' : table(entries).join('\n'));
    return 0;
  } finally {
    audit.close();
  }
}

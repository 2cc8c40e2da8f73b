import type { Logger } from '../observability/index.js';
import type { AuditLog } from './audit-log.js';

/** How often old entries are looked for: an entry outlives its retention by at most this. */
const PRUNE_EVERY_MS = 3_600_000;

export interface AuditRetention {
  stop(): void;
}

/**
 * PP_AUDIT_RETENTION_DAYS: prunes the audit log at start-up, then hourly. A failure (the CLI
 * holding the write lock past busy_timeout, a full disk) is logged and tried again next hour;
 * it never stops the platform. `retentionMs` 0 keeps everything.
 */
export function startAuditRetention(audit: AuditLog, retentionMs: number, log: Logger, clock: () => number = Date.now): AuditRetention {
  if (retentionMs <= 0) return { stop: () => undefined };
  const prune = () => {
    const before = clock() - retentionMs;
    try {
      const deleted = audit.prune(before);
      if (deleted > 0) log.info({ deleted, before: new Date(before).toISOString() }, 'audit log pruned (PP_AUDIT_RETENTION_DAYS)');
    } catch (err) {
      log.error({ err }, 'audit log pruning failed; trying again in an hour');
    }
  };
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export { actorOf, AUDIT_ACTIONS, AuditLog, RETENTION_ACTOR, sanitizeDetails, START_UP_ACTOR, tokenDetails, type AuditAction, type AuditActor, type AuditEntry, type AuditQuery, type NewAuditEntry } from './audit-log.js';
export { AUDITED_ROUTES, installAudit } from './audit-hooks.js';
export { startAuditRetention, type AuditRetention } from './audit-retention.js';
export { AUDIT_STREAM, AuditShare, type AuditShareOptions } from './audit-share.js';
export { auditQuery, registerAuditRoute } from './audit-route.js';
export { auditCommand, AUDIT_USAGE, AuditUsageError, cliActor } from './audit-command.js';

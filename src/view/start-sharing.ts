import { AuditShare, type AuditLog } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Webhooks, WebhookStore } from '../webhooks/index.js';
import { connectView } from './start-view.js';
import { WebhookSharing } from './webhook-sharing.js';

export interface FleetSharing {
  /** On an API node: webhook subscriptions and delivery shared with the other API nodes. */
  webhooks: WebhookSharing | null;
  stop(): Promise<void>;
}

/**
 * PP_ROLE=worker|api: what one process keeps for the whole fleet through NATS, on a connection of
 * its own. Every process shares its audit entries and reads everyone's (src/audit/audit-share.ts);
 * an API node also shares webhook subscriptions and their delivery (webhook-sharing.ts). Call
 * before the alert view starts, so every shared subscription is known when transitions come.
 */
export async function startFleetSharing(deps: { config: Config; audit: AuditLog; webhooks?: { webhooks: Webhooks; store: WebhookStore }; log: Logger }): Promise<FleetSharing> {
  const { config, log } = deps;
  const n = config.nats;
  const { nc, connected } = await connectView(config, log);
  const audit = await AuditShare.start(nc, deps.audit, { nodeId: n.workerId, retentionMs: config.audit.retentionMs, replicas: n.replicas }, log);
  const webhooks = deps.webhooks
    ? await WebhookSharing.start(nc, deps.webhooks.webhooks, deps.webhooks.store, { nodeId: n.workerId, alertRetentionMs: config.view.alertRetentionMs, leaseTtlMs: n.leaseTtlMs, leaseRenewMs: n.leaseRenewMs, replicas: n.replicas, secretKey: config.webhooks.sharedSecretKey }, log)
    : null;
  return {
    webhooks,
    stop: async () => {
      // With NATS away nothing can be handed over or shared: close at once rather than wait out
      // each request's timeout (the delivery lease then expires by itself; the audit entries not
      // yet shared are shared at the next start).
      if (!connected()) await nc.close().catch(() => undefined);
      await webhooks?.stop();
      await audit.stop();
      if (!nc.isClosed()) await nc.drain().catch(() => undefined);
    },
  };
}

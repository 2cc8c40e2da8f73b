export { Webhooks, type SubscriptionFleet } from './webhooks.js';
export { WebhookStore, type DeliveryOutcome, type DeliveryStatus, type OutboxEntry } from './webhook-store.js';
export { DeliveryWorker, type DeliveryGate, type DeliveryOptions } from './delivery-worker.js';
export { createWebhookMetrics, type WebhookMetrics } from './webhook-metrics.js';
export { describeSubscription, idempotencyKey, matches, newSubscriptionSchema, transitionId, WEBHOOK_EVENTS, type NewSubscription, type Subscription, type WebhookEvent } from './subscription.js';
export { ATTEMPT_HEADER, EVENT_HEADER, IDEMPOTENCY_HEADER, signatureOf, SIGNATURE_HEADER, STANDARD_ID_HEADER, STANDARD_SIGNATURE_HEADER, STANDARD_TIMESTAMP_HEADER, standardHeaders, standardSecret, SUBSCRIPTION_HEADER, TIMESTAMP_HEADER, verifySignature } from './signature.js';
export { openSecret, sealSecret } from './secret-box.js';

import { describe, expect, it } from 'vitest';
import { parseScope } from '../../../src/auth/index.js';
import { WebhookStore, type Subscription } from '../../../src/webhooks/index.js';

function store(): WebhookStore {
  const s = new WebhookStore(':memory:');
  for (const id of ['a', 'b']) {
    const sub: Subscription = { id, name: null, url: `http://x/${id}`, jurisdiction: parseScope('*'), categories: ['safety'], minSeverity: 'info', events: ['opened'], ownerTokenId: null, ownerRole: 'admin', createdAt: 0 };
    s.createSubscription(sub, `secret-${id}`);
  }
  return s;
}
const entry = (sub: string, key: string) => ({ subscriptionId: sub, idempotencyKey: key, event: 'alert.opened', alertId: key, body: `{"k":"${key}"}` });

describe('webhook outbox', () => {
  it('offers only the head of each subscription, skipping subscriptions in flight', () => {
    const s = store();
    expect(s.enqueue([entry('a', 'a1'), entry('a', 'a2'), entry('b', 'b1')], 0, 1000)).toBe(3);
    // A replayed transition (same key) is not queued twice.
    expect(s.enqueue([entry('a', 'a1')], 0, 1000)).toBe(0);
    expect(s.dueHeads(0, [], 10).map((e) => e.idempotencyKey).sort()).toEqual(['a1', 'b1']);
    expect(s.dueHeads(0, ['a'], 10).map((e) => e.idempotencyKey)).toEqual(['b1']);
    const [a1] = s.dueHeads(0, ['b'], 10);
    s.markRetry(a1!.seq, 0, 500, 503, 'HTTP 503');
    // a1 waits for its retry; a2 must not overtake it.
    expect(s.dueHeads(100, ['b'], 10)).toEqual([]);
    expect(s.nextAttemptAt(['b'])).toBe(500);
    expect(s.dueHeads(500, ['b'], 10).map((e) => [e.idempotencyKey, e.attempts])).toEqual([['a1', 1]]);
    s.markDelivered(a1!.seq, 600, 200);
    expect(s.dueHeads(600, ['b'], 10).map((e) => e.idempotencyKey)).toEqual(['a2']);
    expect(s.status('a')).toMatchObject({ state: 'ok', pending: 1, delivered: 1, dead: 0, lastDeliveredAt: 600 });
    s.close();
  });

  it('a dead head takes the expired rows behind it; redeliver revives them in order', () => {
    const s = store();
    s.enqueue([entry('a', 'a1'), entry('a', 'a2')], 0, 1000);
    s.enqueue([entry('a', 'a3')], 900, 1000);
    const [head] = s.dueHeads(0, [], 10);
    s.markRetry(head!.seq, 10, 20, null, 'ECONNREFUSED');
    expect(s.status('a')).toMatchObject({ state: 'retrying', head: { idempotencyKey: 'a1', attempts: 1, lastError: 'ECONNREFUSED' } });
    expect(s.markDead(head!, 1000, null, 'gave up')).toHaveLength(2);
    expect(s.status('a')).toMatchObject({ state: 'dead', pending: 1, dead: 2, lastDead: { idempotencyKey: 'a1', error: 'gave up' } });
    expect(s.dueHeads(1000, [], 10).map((e) => e.idempotencyKey)).toEqual(['a3']);
    expect(s.redeliver('a', 2000, 1000)).toHaveLength(2);
    expect(s.dueHeads(2000, [], 10).map((e) => e.idempotencyKey)).toEqual(['a1']);
    expect(s.depth()).toEqual({ pending: 3, oldestAt: 0 });
    s.close();
  });

  it('deleting a subscription drops what it had left; the secret is only handed to delivery', () => {
    const s = store();
    s.enqueue([entry('a', 'a1'), entry('b', 'b1')], 0, 1000);
    expect(s.target('a')).toEqual({ url: 'http://x/a', secret: 'secret-a' });
    expect(JSON.stringify(s.subscriptions())).not.toContain('secret-a');
    expect(s.deleteSubscription('a')).toBe(true);
    expect(s.depth().pending).toBe(1);
    expect(s.target('a')).toBeNull();
    s.close();
  });

  it('applies the delivering node\'s reports: to a queued row at once, to one queued later when it is', () => {
    const s = store();
    s.enqueue([entry('a', 'a1')], 0, 1000);
    // Another node delivered a1 and a2; this node has queued a1 only (it is catching up).
    const report = (key: string, state: 'delivered' | 'dead') => ({ subscriptionId: 'a', idempotencyKey: key, state, attempts: 2, expiresAt: 1000, nextAttemptAt: 40, lastAttemptAt: 50, lastStatus: state === 'dead' ? 502 : 200, lastError: state === 'dead' ? 'HTTP 502' : null, finishedAt: 50 });
    s.applyOutcomes([report('a1', 'delivered'), report('a2', 'dead')], 60);
    expect(s.outcome('a1')).toEqual(report('a1', 'delivered'));
    expect(s.outcome('a2')).toBeNull();
    expect(s.enqueue([entry('a', 'a2'), entry('a', 'a3')], 70, 1000)).toBe(2);
    expect(s.outcome('a2')).toEqual(report('a2', 'dead'));
    // Neither is sent again here; a3, reported by nobody, is the head.
    expect(s.dueHeads(100, [], 10).map((e) => e.idempotencyKey)).toEqual(['a3']);
    expect(s.status('a')).toMatchObject({ pending: 1, delivered: 1, dead: 1 });
    // A redelivery asked for elsewhere makes a2 pending again, before a3.
    s.applyOutcomes([{ ...report('a2', 'dead'), state: 'pending', attempts: 0, nextAttemptAt: 100, finishedAt: null, lastError: null, lastStatus: null, expiresAt: 2000 }], 100);
    expect(s.dueHeads(100, [], 10).map((e) => e.idempotencyKey)).toEqual(['a2']);
    // The outbox's identity stays with the file.
    expect(s.identity()).toBe(s.identity());
    expect(s.identity()).not.toBe(new WebhookStore(':memory:').identity());
    s.close();
  });
});

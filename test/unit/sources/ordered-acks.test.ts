import { describe, expect, it } from 'vitest';
import { OrderedAcks } from '../../../src/sources/index.js';

describe('OrderedAcks', () => {
  it('acks in receive order even when messages become durable out of order', () => {
    const sent: number[] = [];
    const acks = new OrderedAcks((id) => sent.push(id));
    const a = acks.add(1);
    const b = acks.add(2);
    const c = acks.add(3);
    acks.markReady(c);
    acks.markReady(b);
    expect(sent).toEqual([]);
    expect(acks.size).toBe(3);
    acks.markReady(a);
    expect(sent).toEqual([1, 2, 3]);
    expect(acks.size).toBe(0);
  });
  it('drops entries of a lost connection', () => {
    const sent: number[] = [];
    const acks = new OrderedAcks((id) => sent.push(id));
    const old = acks.add(1);
    acks.reset();
    const fresh = acks.add(1);
    acks.markReady(old);
    expect(sent).toEqual([]);
    acks.markReady(fresh);
    expect(sent).toEqual([1]);
  });
  it('stays bounded over many messages', () => {
    let count = 0;
    const acks = new OrderedAcks(() => count++);
    for (let i = 0; i < 100_000; i++) acks.markReady(acks.add(i % 65535));
    expect(count).toBe(100_000);
    expect(acks.size).toBe(0);
    expect((acks as unknown as { queue: { items: unknown[] } }).queue.items.length).toBeLessThan(5000);
  });
});

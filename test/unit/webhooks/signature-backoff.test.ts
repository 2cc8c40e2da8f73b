import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryAfterMs, retryDelayMs, signatureOf, verifySignature } from '../../../src/webhooks/index.js';

describe('webhook signatures', () => {
  const body = '{"v":1,"type":"opened"}';
  const now = 1_800_000_000_000;
  const ts = String(now / 1000);

  it('are HMAC-SHA256 over timestamp "." body, hex, prefixed v1= (as docs/webhooks.md tells receivers)', () => {
    expect(signatureOf('s3cret', ts, body)).toBe(`v1=${createHmac('sha256', 's3cret').update(`${ts}.${body}`).digest('hex')}`);
  });

  it('verify: the right secret, body and timestamp only, and not stale', () => {
    const sig = signatureOf('s3cret', ts, body);
    expect(verifySignature('s3cret', ts, body, sig, 300, now)).toBe(true);
    expect(verifySignature('other', ts, body, sig, 300, now)).toBe(false);
    expect(verifySignature('s3cret', ts, body + ' ', sig, 300, now)).toBe(false);
    expect(verifySignature('s3cret', String(Number(ts) + 1), body, sig, 300, now)).toBe(false);
    expect(verifySignature('s3cret', ts, body, sig, 300, now + 301_000)).toBe(false);
    expect(verifySignature('s3cret', ts, body, sig.slice(0, -1), 300, now)).toBe(false);
  });
});

describe('retry backoff', () => {
  it('doubles from the base, is capped, and jitters within the upper half', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(10_000, 1000, 60_000, () => 0.5)).toBe(45_000);
  });

  it("reads a receiver's Retry-After in seconds or as a date", () => {
    expect(retryAfterMs('120', 0)).toBe(120_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon', 0)).toBeNull();
    expect(retryAfterMs(null, 0)).toBeNull();
  });
});

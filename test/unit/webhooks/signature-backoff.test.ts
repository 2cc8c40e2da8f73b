import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureOf, verifySignature } from '../../../src/webhooks/index.js';

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

import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signatureOf } from '../../../src/webhooks/index.js';

type Verify = (secret: string, headers: Record<string, string>, rawBody: string) => boolean;

/** docs/webhooks.md's verification snippet, run as a receiver would run it, against what the platform sends. */
function readmeVerifier(): Verify {
  const page = readFileSync(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');
  const block = [...page.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes('function verifyPlantPulse'));
  if (!block) throw new Error('docs/webhooks.md has no verifyPlantPulse snippet');
  const body = block.replace(/^import .*$/m, '');
  return new Function('createHmac', 'timingSafeEqual', `${body}\nreturn verifyPlantPulse;`)(createHmac, timingSafeEqual) as Verify;
}

describe("docs/webhooks.md's webhook verification snippet", () => {
  it('accepts what the platform signs and refuses tampering, another secret and stale timestamps', () => {
    const verify = readmeVerifier();
    const body = '{"v":1,"type":"opened","ts":1}';
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { 'x-plantpulse-timestamp': ts, 'x-plantpulse-signature': signatureOf('the-secret', ts, body) };
    expect(verify('the-secret', headers, body)).toBe(true);
    expect(verify('another-secret', headers, body)).toBe(false);
    expect(verify('the-secret', headers, body.replace('opened', 'resolved'))).toBe(false);
    const old = String(Number(ts) - 3600);
    expect(verify('the-secret', { 'x-plantpulse-timestamp': old, 'x-plantpulse-signature': signatureOf('the-secret', old, body) }, body)).toBe(false);
  });
});

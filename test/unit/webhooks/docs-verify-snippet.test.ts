import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signatureOf, standardHeaders, standardSecret } from '../../../src/webhooks/index.js';

type Verify = (secret: string, headers: Record<string, string>, rawBody: string) => boolean;
type VerifyStandard = (headers: Record<string, string>, rawBody: string) => unknown;

/** The docs/webhooks.md code block that defines `name`, without its import lines. */
function readmeBlock(name: string): string {
  const page = readFileSync(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');
  const block = [...page.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes(`function ${name}(`));
  if (!block) throw new Error(`docs/webhooks.md has no ${name} snippet`);
  return block.replace(/^import .*$/gm, '');
}

/** docs/webhooks.md's verification snippets, run as a receiver would run them, against what the platform sends. */
function readmeVerifierV1(): Verify {
  return new Function('createHmac', 'timingSafeEqual', `${readmeBlock('verifyPlantPulseV1')}\nreturn verifyPlantPulseV1;`)(createHmac, timingSafeEqual) as Verify;
}

function readmeStandardVerifier(signingSecret: string): VerifyStandard {
  const process = { env: { PLANTPULSE_SIGNING_SECRET: signingSecret } };
  return new Function('Webhook', 'process', `${readmeBlock('verifyPlantPulse')}\nreturn verifyPlantPulse;`)(Webhook, process) as VerifyStandard;
}

const body = '{"v":1,"type":"opened","ts":1}';

describe("docs/webhooks.md's webhook verification snippets", () => {
  it('Standard Webhooks: accepts what the platform signs with the whsec_ secret, refuses tampering, another secret and stale timestamps', () => {
    const verify = readmeStandardVerifier(standardSecret('the-secret'));
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = standardHeaders('the-secret', 'key-1', ts, body);
    expect(verify(headers, body)).toEqual(JSON.parse(body));
    expect(() => readmeStandardVerifier(standardSecret('another-secret'))(headers, body)).toThrow();
    expect(() => verify(headers, body.replace('opened', 'resolved'))).toThrow();
    expect(() => verify({ ...headers, 'webhook-id': 'key-2' }, body)).toThrow();
    const old = String(Number(ts) - 3600);
    expect(() => verify(standardHeaders('the-secret', 'key-1', old, body), body)).toThrow();
  });

  it('the first scheme (X-PlantPulse-Signature): accepts what the platform signs and refuses tampering, another secret and stale timestamps', () => {
    const verify = readmeVerifierV1();
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { 'x-plantpulse-timestamp': ts, 'x-plantpulse-signature': signatureOf('the-secret', ts, body) };
    expect(verify('the-secret', headers, body)).toBe(true);
    expect(verify('another-secret', headers, body)).toBe(false);
    expect(verify('the-secret', headers, body.replace('opened', 'resolved'))).toBe(false);
    const old = String(Number(ts) - 3600);
    expect(verify('the-secret', { 'x-plantpulse-timestamp': old, 'x-plantpulse-signature': signatureOf('the-secret', old, body) }, body)).toBe(false);
  });
});

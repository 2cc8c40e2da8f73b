import { describe, expect, it } from 'vitest';
import { openSecret, sealSecret } from '../../../src/webhooks/index.js';

const KEY = 'unit-test-key-for-sealed-webhook-secrets-0123';

describe('sealed webhook secrets (PP_WEBHOOK_SHARED_SECRET_KEY)', () => {
  it('open to the secret with the same key, differ on every sealing, and hide the secret', () => {
    const secret = 'a regulator\'s secret: ünïcode 安全 0123456789';
    const [one, two] = [sealSecret(secret, KEY), sealSecret(secret, KEY)];
    expect(one).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain('regulator');
    expect(openSecret(one, KEY)).toBe(secret);
    expect(openSecret(two, KEY)).toBe(secret);
  });

  it('refuse another key, a changed byte and what is not sealed, with the reason', () => {
    const sealed = sealSecret('the secret of one subscription', KEY);
    expect(() => openSecret(sealed, `${KEY}-other`)).toThrow(/another PP_WEBHOOK_SHARED_SECRET_KEY/);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => openSecret(`v1.${raw.toString('base64url')}`, KEY)).toThrow(/another PP_WEBHOOK_SHARED_SECRET_KEY/);
    expect(() => openSecret('the secret in clear', KEY)).toThrow(/not a sealed webhook secret/);
  });
});

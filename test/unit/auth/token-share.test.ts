import { describe, expect, it } from 'vitest';
import { parseScope, TokenStore } from '../../../src/auth/index.js';

describe('tokens shared between the processes of a fleet', () => {
  it('a token made on one process verifies on another that adopted it; a revocation travels and is never undone', () => {
    const a = new TokenStore(':memory:');
    const b = new TokenStore(':memory:');
    const { token, info } = a.create({ role: 'regulator', scope: parseScope(['zj-hz-*']), name: 'Hangzhou', createdBy: 'cli' });
    const shared = a.shared();
    expect(shared).toHaveLength(1);
    // No plaintext travels. The secret is everything after `ppt_<id>_`: base64url may itself hold
    // '_', so splitting on '_' could leave a one-character fragment that appears by chance.
    const secret = token.slice(`ppt_${info.id}_`.length);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(shared)).not.toContain(secret);
    expect(b.verify(token)).toBeNull();
    expect(b.adopt(shared[0]!)).toBe(true);
    expect(b.adopt(shared[0]!)).toBe(false); // idempotent
    expect(b.verify(token)).toMatchObject({ id: info.id, role: 'regulator', name: 'Hangzhou', createdAt: info.createdAt });
    expect(b.get(info.id)!.scope).toEqual(a.get(info.id)!.scope);

    expect(b.revoke(info.id)).toBe(true);
    expect(a.adopt(b.shared()[0]!)).toBe(true);
    expect(a.verify(token)).toBeNull();
    // The old, unrevoked copy arriving late changes nothing.
    expect(a.adopt(shared[0]!)).toBe(false);
    expect(a.get(info.id)!.revokedAt).toBe(b.get(info.id)!.revokedAt);
  });

  it('refuses another token under a known id', () => {
    const a = new TokenStore(':memory:');
    const { info } = a.create({ role: 'manager', scope: parseScope(['s1']), name: 'x', createdBy: 'cli' });
    const forged = { ...a.shared()[0]!, hash: Buffer.alloc(32, 7).toString('base64') };
    expect(() => a.adopt(forged)).toThrow(`shared token ${info.id} does not match`);
    expect(() => a.adopt({ ...forged, id: 'abcdefabcdef', role: 'root' })).toThrow(/unknown role "root"/);
  });
});

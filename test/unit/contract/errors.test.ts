import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../../src/contract/index.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('every code is documented with its HTTP status and retryability, and nothing else is', () => {
    const rows = [...doc.matchAll(/^\| <a id="(PP_ERR_[A-Z_]+)"><\/a>`\1` \| (\d{3}) \| (yes|no) \|/gm)];
    const documented = new Map(rows.map((m) => [m[1]!, { status: Number(m[2]), retryable: m[3] === 'yes' }]));
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, e] of Object.entries(ERRORS)) expect(documented.get(code), code).toEqual({ status: e.status, retryable: e.retryable });
  });
});

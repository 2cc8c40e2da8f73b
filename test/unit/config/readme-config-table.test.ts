import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replaceTable } from '../../../scripts/config-table.js';

describe('README configuration table', () => {
  it('matches src/config/env-schema.ts (run `npm run docs:config` to regenerate)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(replaceTable(readme)).toBe(readme);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replaceTable } from '../../../scripts/config-table.js';

describe('docs/configuration.md table', () => {
  it('matches src/config/env-schema.ts (run `npm run docs:config` to regenerate)', () => {
    const page = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(replaceTable(page)).toBe(page);
  });
});

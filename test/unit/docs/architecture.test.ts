import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url);
const page = readFileSync(new URL('docs/architecture.md', ROOT), 'utf8');

const folders = (dir: string) =>
  readdirSync(new URL(`${dir}/`, ROOT), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}/`);

describe('docs/architecture.md', () => {
  it('names every stage folder of src/ and edge-agent/ (a new folder needs its place in the data flow)', () => {
    const expected = [...folders('src'), ...folders('edge-agent')];
    expect(expected.length).toBeGreaterThan(15);
    const missing = expected.filter((f) => !page.includes(f));
    expect(missing, `not in docs/architecture.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('says where every SQLite file the platform opens lives', () => {
    const sources = folders('src').flatMap((dir) => readdirSync(new URL(dir, ROOT), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(new URL(`${dir}${f}`, ROOT), 'utf8')));
    const files = new Set(sources.flatMap((text) => [...text.matchAll(/'([a-z-]+\.sqlite)'/g)].map((m) => m[1]!)));
    expect(files.size).toBeGreaterThan(3);
    for (const f of files) expect(page, f).toContain(`PP_DATA_DIR/${f}`);
  });
});

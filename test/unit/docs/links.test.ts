import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenLinks, headingSlug, markdownFiles } from '../../../scripts/doc-links.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('links in the documentation', () => {
  it('every relative link and anchor in the repository’s Markdown resolves', () => {
    const files = markdownFiles(ROOT);
    // The pages the README map promises must be among those checked.
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/contract.md', 'edge-agent/README.md']));
    const broken = brokenLinks(ROOT, files).map((b) => `${b.file}:${b.line}: ${b.target}: ${b.why}`);
    expect(broken, `broken links:\n${broken.join('\n')}`).toEqual([]);
  });
});

describe('the link checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-doc-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const page = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('makes GitHub’s anchors from headings', () => {
    expect(headingSlug('Access: tokens, roles and scopes')).toBe('access-tokens-roles-and-scopes');
    expect(headingSlug('The live WebSocket (/api/v1/live)')).toBe('the-live-websocket-apiv1live');
    expect(headingSlug('Writing line protocol (Telegraf, Node-RED)')).toBe('writing-line-protocol-telegraf-node-red');
  });

  it('reports missing files, missing anchors and links out of the repository, and nothing else', () => {
    page('docs/b.md', '# Bee\n\n## Same\n\n## Same\n\n<a id="custom"></a>\n');
    page('src/x.ts', 'export {};\n');
    page(
      'README.md',
      [
        '# Top',
        '[ok](docs/b.md) [ok](docs/b.md#bee) [ok](docs/b.md#same-1) [ok](docs/b.md#custom) [ok](#top) [ok](src/x.ts) [ok](src/)',
        '[web](https://example.com/nowhere) `[in code](nowhere.md)`',
        '```',
        '[in a fence](nowhere.md)',
        '```',
        '[gone](docs/missing.md)',
        'text [no anchor](docs/b.md#same-2) and ![img](docs/pic.png)',
        '[self](#nothing) [out](../outside.md)',
      ].join('\n'),
    );
    const broken = brokenLinks(dir, ['README.md', 'docs/b.md']);
    expect(broken.map((b) => [b.line, b.target])).toEqual([
      [7, 'docs/missing.md'],
      [8, 'docs/b.md#same-2'],
      [8, 'docs/pic.png'],
      [9, '#nothing'],
      [9, '../outside.md'],
    ]);
    expect(broken[0]!.why).toMatch(/no such file/);
    expect(broken[1]!.why).toMatch(/no heading/);
    expect(broken[4]!.why).toMatch(/outside the repository/);
  });
});

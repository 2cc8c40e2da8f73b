/**
 * Finds links in the project's Markdown that point nowhere: a relative link to a file or folder
 * that does not exist, or an anchor (`page.md#heading`, `#heading`) that no heading or
 * `<a id>` of that page produces. Offline by design: links with a scheme (https:, mailto:) are
 * not followed. `npx tsx scripts/doc-links.ts` prints what is broken and exits 1; the unit test
 * test/unit/docs/links.test.ts runs the same check on every tracked page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface BrokenLink {
  /** The page holding the link, relative to the root. */
  file: string;
  line: number;
  target: string;
  why: string;
}

/** The text outside fenced code blocks, with inline code spans blanked (links there are examples). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (open) {
      if (fence === undefined) fence = open[1]![0]!;
      else if (open[1]![0] === fence) fence = undefined;
      return '';
    }
    return fence === undefined ? line.replace(/`+[^`]*`+/g, (code) => ' '.repeat(code.length)) : '';
  });
}

/**
 * GitHub's anchor for a heading: lower case, Markdown emphasis and punctuation dropped (letters,
 * digits, `_` and `-` kept), spaces to hyphens; the second heading of a name gets `-1`, and so on.
 */
export function headingSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor a page offers: its headings' slugs and its explicit `<a id>`/`<a name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (open) {
      if (fence === undefined) fence = open[1]![0]!;
      else if (open[1]![0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = headingSlug(heading[1]!.replace(/`/g, ''));
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

/** The link targets of a page with their line numbers: inline links, images, references, hrefs. */
export function linksOf(markdown: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  proseLines(markdown).forEach((text, i) => {
    const add = (target: string) => links.push({ line: i + 1, target: target.trim().replace(/^<|>$/g, '') });
    for (const m of text.matchAll(/!?\[(?:[^\]]|\][^(])*?\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) add(m[1]!);
    const reference = /^\s*\[[^\]]+\]:\s*(\S+)/.exec(text);
    if (reference) add(reference[1]!);
    for (const m of text.matchAll(/<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"/g)) add(m[1]!);
  });
  return links;
}

/** Checks `files` (paths relative to `root`) and returns every link that points nowhere. */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    let set = anchorCache.get(path);
    if (!set) anchorCache.set(path, (set = anchorsOf(readFileSync(path, 'utf8'))));
    return set;
  };
  for (const file of files) {
    const source = join(root, file);
    for (const { line, target } of linksOf(readFileSync(source, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const hash = target.indexOf('#');
      const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const fail = (why: string) => broken.push({ file, line, target, why });
      if (pathPart.startsWith('/')) {
        fail('absolute path: links must be relative to the page');
        continue;
      }
      const resolved = pathPart === '' ? source : resolve(dirname(source), pathPart);
      if (relative(root, resolved).startsWith('..')) {
        fail('points outside the repository');
        continue;
      }
      if (!existsSync(resolved)) {
        fail(`no such file: ${relative(root, resolved)}`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) continue;
      if (!anchors(resolved).has(anchor)) fail(`no heading or <a id> "${anchor}" in ${relative(root, resolved)}`);
    }
  }
  return broken;
}

/** The repository's Markdown pages: tracked, or new and not ignored (so a page is checked before it is committed). */
export function markdownFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.md'], { cwd: root, encoding: 'utf8' });
  return [...new Set(out.split('\n').filter(Boolean))].filter((f) => existsSync(join(root, f))).sort();
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
  const files = markdownFiles(root);
  const broken = brokenLinks(root, files);
  for (const b of broken) process.stdout.write(`${b.file}:${b.line}: ${b.target}: ${b.why}\n`);
  process.stdout.write(`${files.length} pages, ${broken.length} broken links\n`);
  process.exitCode = broken.length === 0 ? 0 : 1;
}

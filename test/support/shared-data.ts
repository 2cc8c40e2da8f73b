import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The shared data folder that sits beside the repository (`../shared/data`), never copied into it.
 * A git worktree lives elsewhere, so the main checkout's neighbour is tried too;
 * PP_SHARED_DATA overrides both.
 */
export function sharedDataDir(): string {
  if (process.env.PP_SHARED_DATA) return process.env.PP_SHARED_DATA;
  const candidates = [join(REPO_ROOT, '..', 'shared', 'data')];
  try {
    const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    candidates.push(join(dirname(common), '..', 'shared', 'data'));
  } catch {
    // Not a git checkout (an unpacked release): only the folder beside it.
  }
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`shared data folder not found (tried ${candidates.join(', ')}); set PP_SHARED_DATA`);
  return found;
}

export const REPO_ROOT_DIR = REPO_ROOT;

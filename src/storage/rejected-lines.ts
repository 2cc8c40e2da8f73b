import { appendFile } from 'node:fs/promises';

/**
 * Lines storage refused for good after they had been acknowledged upstream (they were in the
 * spool): appended to one file where an operator can find them, each group under a comment line
 * with the time and the server's reason, instead of being dropped or blocking the spool.
 */
export async function keepRejectedLines(file: string, reason: string, lines: readonly string[]): Promise<void> {
  await appendFile(file, `# ${new Date().toISOString()} ${reason.replace(/\n/g, ' ')}\n${lines.join('\n')}\n`);
}

import { createHash } from 'node:crypto';

/** The dedup key: one open alert per device and rule. */
export function alertKey(site: string, line: string, device: string, rule: string): string {
  return `${site}/${line}/${device}/${rule}`;
}

/**
 * An alert id that any instance replaying the same events computes alike (key + opening time),
 * so a replay can never mint a second alert for the same episode.
 */
export function alertId(key: string, openedAt: number): string {
  return createHash('sha256').update(`${key}@${openedAt}`).digest('base64url').slice(0, 20);
}

import { TOPIC_PREFIX } from '../../contract/index.js';

/**
 * Subjects, stream and consumer names of the JetStream source (docs/scale-out.md).
 *
 * Gateways publish MQTT to NATS's MQTT listener: `pp/v1/{site}/{line}/{device}/metrics` arrives
 * as `pp.v1.{site}.{line}.{device}.metrics`, and the server's mapping (deploy/nats/nats.conf)
 * rewrites it to `pp.part.{p}.{site}.{line}.{device}.metrics`, p a hash of site, line and device.
 * Ids cannot hold `.` or `/` (src/contract/ids.ts), so the way back to the MQTT topic is exact.
 */
export const TELEMETRY_STREAM = 'PP_TELEMETRY';
export const DEAD_LETTER_STREAM = 'PP_DEAD_LETTER';
export const LEASE_BUCKET = 'pp_leases';
export const PARTITION_PREFIX = 'pp.part';
/** What gateways publish that the mapping did not match (bad topics): consumed to be dead-lettered. */
export const UNMAPPED_SUBJECTS = `${TOPIC_PREFIX.replace('/', '.')}.>`;
/** The unit of ownership that carries UNMAPPED_SUBJECTS, beside the partitions `0` … `N-1`. */
export const UNMAPPED_UNIT = 'unmapped';

/** Partitions `0` … `n-1`, then the unmapped unit: everything a worker can own. */
export function ownershipUnits(partitions: number): string[] {
  return [...Array.from({ length: partitions }, (_, i) => String(i)), UNMAPPED_UNIT];
}

export function consumerName(unit: string): string {
  return unit === UNMAPPED_UNIT ? 'pp-unmapped' : `pp-part-${unit}`;
}

export function filterSubject(unit: string): string {
  return unit === UNMAPPED_UNIT ? UNMAPPED_SUBJECTS : `${PARTITION_PREFIX}.${unit}.>`;
}

/** The MQTT topic a gateway published, from the subject JetStream stored it under. */
export function subjectToTopic(subject: string): string {
  const tokens = subject.split('.');
  if (tokens[0] === 'pp' && tokens[1] === 'part' && tokens.length > 3) return [TOPIC_PREFIX, ...tokens.slice(3)].join('/');
  return tokens.join('/');
}

/**
 * The dead-letter subject of a message: `{prefix}.{subject as the gateway published it}`, e.g.
 * `pp.dead-letter.v1.pp.v1.site-1.line-1.dev7.metrics`, which MQTT clients of the same server
 * read as `pp/dead-letter/v1/pp/v1/site-1/line-1/dev7/metrics`, like the MQTT source's.
 */
export function deadLetterSubject(prefix: string, subject: string): string {
  const tokens = subject.split('.');
  const published = tokens[0] === 'pp' && tokens[1] === 'part' && tokens.length > 3 ? ['pp', 'v1', ...tokens.slice(3)] : tokens;
  return `${prefix}.${published.join('.')}`;
}

export const DEFAULT_DEAD_LETTER_PREFIX = 'pp.dead-letter.v1';

/** Devices' saved states for hand-over (docs/scale-out.md, "Hand-over"): key `{partition}.{site}.{line}.{device}`. */
export const DEVICE_STATE_BUCKET = 'pp_device_state';

/** The partition and device a partition subject (`pp.part.{p}.{site}.{line}.{device}.{kind}`) is about; null for others. */
export function subjectDevice(subject: string): { unit: string; site: string; line: string; device: string } | null {
  const t = subject.split('.');
  if (t.length !== 7 || t[0] !== 'pp' || t[1] !== 'part') return null;
  return { unit: t[2]!, site: t[3]!, line: t[4]!, device: t[5]! };
}

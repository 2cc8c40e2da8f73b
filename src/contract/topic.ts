import { deviceKey, ID_PATTERN, type DeviceRef } from './ids.js';

export const TOPIC_PREFIX = 'pp/v1';
export const TOPIC_KINDS = ['metrics', 'status', 'alerts'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** `key`: the device's deviceKey, found once with the topic (not on `ref`, which is spread into other objects). */
export type ParsedTopic = { ok: true; ref: DeviceRef; kind: TopicKind; key: string } | { ok: false; reason: string };

/**
 * Topics already parsed and valid, with their answer (frozen: every message on the topic gets the
 * same object). Each device publishes on the same few topics, so a message's topic is parsed
 * once per device, not once per message: with one-sample messages the split, the three id
 * checks and the objects were a cost per sample. Bounded, so that a publisher inventing topics
 * cannot grow it: past the bound, topics are parsed every time.
 */
const VALID_TOPICS = new Map<string, Extract<ParsedTopic, { ok: true }>>();
const MAX_VALID_TOPICS = 50_000;

/** `pp/v1/{site}/{line}/{device}/{kind}`; ids are validated, never escaped. */
export function parseTopic(topic: string): ParsedTopic {
  const known = VALID_TOPICS.get(topic);
  if (known !== undefined) return known;
  const parsed = parseTopicOnce(topic);
  if (parsed.ok && VALID_TOPICS.size < MAX_VALID_TOPICS) {
    Object.freeze(parsed.ref);
    VALID_TOPICS.set(topic, Object.freeze(parsed));
  }
  return parsed;
}

function parseTopicOnce(topic: string): ParsedTopic {
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== 'pp' || parts[1] !== 'v1') {
    return { ok: false, reason: `topic must be ${TOPIC_PREFIX}/{site}/{line}/{device}/{kind}` };
  }
  const [, , site, line, device, kind] = parts as [string, string, string, string, string, string];
  for (const [name, value] of [['site', site], ['line', line], ['device', device]] as const) {
    if (!ID_PATTERN.test(value)) return { ok: false, reason: `${name} id in topic must match [A-Za-z0-9_-]{1,64}` };
  }
  if (!(TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { ok: false, reason: `topic kind must be one of ${TOPIC_KINDS.join(', ')}` };
  }
  const ref = { site, line, device };
  return { ok: true, ref, kind: kind as TopicKind, key: deviceKey(ref) };
}

export function deviceTopic(ref: DeviceRef, kind: TopicKind): string {
  return `${TOPIC_PREFIX}/${ref.site}/${ref.line}/${ref.device}/${kind}`;
}

/** Where the platform republishes rejected messages, with the reason (never under pp/v1/). */
export const DEAD_LETTER_PREFIX = 'pp/dead-letter/v1';

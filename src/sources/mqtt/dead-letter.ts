import type { Rejection } from '../../contract/index.js';

/** Largest copy of the original payload kept in a dead-letter message. */
const MAX_PAYLOAD_COPY = 64 * 1024;

/**
 * The dead-letter message for a rejected (or partly rejected) MQTT message: the reasons plus a
 * copy of the original, published under `{prefix}/{original topic}` so operators can subscribe
 * per site. Never under `pp/v1/`, so the platform never consumes its own dead letters.
 */
export function deadLetterMessage(prefix: string, topic: string, payload: Buffer, rejections: Rejection[], receivedAt: number) {
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(0, MAX_PAYLOAD_COPY));
  } catch {
    text = undefined;
  }
  const body = {
    topic,
    receivedAt: new Date(receivedAt).toISOString(),
    rejections: rejections.slice(0, 1000),
    rejectionsTotal: rejections.length,
    payloadBytes: payload.length,
    truncated: payload.length > MAX_PAYLOAD_COPY,
    ...(text !== undefined ? { payload: text } : { payloadBase64: payload.subarray(0, MAX_PAYLOAD_COPY).toString('base64') }),
  };
  return { topic: `${prefix}/${topic}`, payload: JSON.stringify(body) };
}

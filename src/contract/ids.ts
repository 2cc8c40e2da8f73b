import { z } from 'zod';

/**
 * Site, line and device ids. They become InfluxDB tag values and MQTT topic levels, so the
 * alphabet is closed: anything else is rejected, never escaped (docs/contract.md).
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

export interface DeviceRef {
  site: string;
  line: string;
  device: string;
}

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Keys made so far, by site, line and device. Every stage that keeps per-device state (analytics,
 * data completeness, the live hub) asks for the key of every stored batch: looked up here the
 * ids' hashes are already known (the strings come from the remembered topic, topic.ts), while a
 * key made afresh is a new string to allocate and hash, three times per one-sample message.
 * Bounded like the topics: past the bound, keys are made each time.
 */
const KEYS = new Map<string, Map<string, Map<string, string>>>();
const MAX_KEYS = 50_000;
let keyCount = 0;

/**
 * Stable key for per-device state maps. `/` cannot occur in an id. A decoded batch carries its
 * device's key (`TelemetryBatch.deviceKey`, resolved once per message with its topic): every
 * stage that asks for it then gets it without a look-up.
 */
export function deviceKey(ref: DeviceRef): string {
  const carried = (ref as { deviceKey?: string }).deviceKey;
  if (carried !== undefined) return carried;
  const bySite = KEYS.get(ref.site);
  const byLine = bySite?.get(ref.line);
  const known = byLine?.get(ref.device);
  if (known !== undefined) return known;
  const key = `${ref.site}/${ref.line}/${ref.device}`;
  if (keyCount < MAX_KEYS) {
    let lines = bySite;
    if (lines === undefined) KEYS.set(ref.site, (lines = new Map()));
    let devices = byLine;
    if (devices === undefined) lines.set(ref.line, (devices = new Map()));
    devices.set(ref.device, key);
    keyCount++;
  }
  return key;
}

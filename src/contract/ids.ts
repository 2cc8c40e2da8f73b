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

/** Stable key for per-device state maps. `/` cannot occur in an id. */
export function deviceKey(ref: DeviceRef): string {
  return `${ref.site}/${ref.line}/${ref.device}`;
}

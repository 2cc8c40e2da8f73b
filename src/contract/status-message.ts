import { z } from 'zod';
import { isValidId, type DeviceRef } from './ids.js';

/**
 * Status messages, as gateways publish them (edge-agent/publisher/status.ts; the Sparkplug source
 * republishes its births and deaths in the same shape), retained at QoS 1:
 * - device: `pp/v1/{site}/{line}/{device}/status` `{ state, ts?, gateway, reason? }`;
 * - gateway: `pp/v1/{site}/_gateway/{gatewayId}/status` `{ state, ts?, gateway, devices?: ["line/device"] }`,
 *   whose `offline` is also the connection's last will.
 * Unknown fields are ignored; anything that is not such a message is ignored too (status is
 * advisory here: silence tells the truth about a device whatever its status says).
 */
export const GATEWAY_LINE = '_gateway';

const statusSchema = z.object({
  state: z.enum(['online', 'offline']),
  ts: z.number().optional(),
  gateway: z.string().max(256).optional(),
  reason: z.string().max(256).optional(),
  devices: z.array(z.string().max(200)).max(100_000).optional(),
});

export type StatusState = 'online' | 'offline';

export type ParsedStatus =
  | { kind: 'device'; ref: DeviceRef; state: StatusState; gateway: string | null; reason: string | null }
  | { kind: 'gateway'; site: string; gateway: string; state: StatusState; reason: string | null; devices: DeviceRef[] };

/** `ref` comes from a topic that already parsed (ids valid). Null: not a status message (or an empty retained clear). */
export function parseStatus(ref: DeviceRef, payload: Buffer): ParsedStatus | null {
  if (payload.length === 0 || payload.length > 1024 * 1024) return null;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  const r = statusSchema.safeParse(json);
  if (!r.success) return null;
  const reason = r.data.reason ?? null;
  if (ref.line === GATEWAY_LINE) {
    const devices: DeviceRef[] = [];
    for (const d of r.data.devices ?? []) {
      const [line, device, extra] = d.split('/');
      if (extra === undefined && isValidId(line) && isValidId(device) && line !== GATEWAY_LINE) devices.push({ site: ref.site, line, device });
    }
    return { kind: 'gateway', site: ref.site, gateway: ref.device, state: r.data.state, reason, devices };
  }
  // A gateway name that is not an id (a Sparkplug `group/node`) cannot name alerts or topics: treat it as unknown.
  const gateway = r.data.gateway !== undefined && isValidId(r.data.gateway) ? r.data.gateway : null;
  return { kind: 'device', ref, state: r.data.state, gateway, reason };
}

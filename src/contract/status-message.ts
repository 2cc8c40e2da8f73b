import { z } from 'zod';
import { isValidId, type DeviceRef } from './ids.js';
import { deviceTopic } from './topic.js';

/**
 * Status messages, built (the edge agent, the Sparkplug host's births and deaths) and parsed
 * (data completeness, analytics) only here, retained at QoS 1:
 * - device: `pp/v1/{site}/{line}/{device}/status` `{ state, ts?, gateway, reason? }`;
 * - gateway: `pp/v1/{site}/_gateway/{gatewayId}/status` `{ state, ts?, gateway, devices?: ["line/device"] }`,
 *   whose `offline` is also the connection's last will.
 * A device is reachable when its own status and its gateway's are both `online` (MQTT allows one
 * will per connection, so the gateway's will speaks for all its devices). `_gateway` is a valid
 * id, so these topics parse like any other; it is reserved as a line id.
 * Unknown fields are ignored; anything that is not such a message is ignored too (status is
 * advisory here: silence tells the truth about a device whatever its status says).
 */
export const GATEWAY_LINE = '_gateway';

/** Why a publisher says `offline`: a clean stop, the connection's last will, or (Sparkplug) a device its edge node lost. */
export type OfflineReason = 'stopped' | 'connection lost' | 'device lost';

/**
 * A status message as published. Publishers add informational fields (agent version, queue
 * depth, read quality, Sparkplug ids); readers ignore them.
 */
export interface StatusMessage {
  state: StatusState;
  /** Epoch ms when the publisher wrote it (absent from a last will, which is written at connect time). */
  ts?: number;
  /** The gateway (MQTT client id, or Sparkplug `group/node`) that publishes the device. */
  gateway: string;
  reason?: OfflineReason;
  /** Gateway status only: the devices behind the gateway, as `line/device`. */
  devices?: string[];
  [extra: string]: unknown;
}

export function gatewayRef(site: string, gatewayId: string): DeviceRef {
  return { site, line: GATEWAY_LINE, device: gatewayId };
}

/** `pp/v1/{site}/_gateway/{gatewayId}/status`: a gateway's own retained status (and last will). */
export function gatewayStatusTopic(site: string, gatewayId: string): string {
  return deviceTopic(gatewayRef(site, gatewayId), 'status');
}

/** `online`; with `devices` it is a gateway's birth, listing what is behind it. */
export function onlineStatus(gateway: string, ts: number, devices?: readonly DeviceRef[], extra: Record<string, unknown> = {}): StatusMessage {
  const msg: StatusMessage = { ...extra, state: 'online', ts, gateway };
  if (devices) msg.devices = devices.map((d) => `${d.line}/${d.device}`);
  return msg;
}

export function offlineStatus(gateway: string, reason: OfflineReason, ts?: number, extra: Record<string, unknown> = {}): StatusMessage {
  const msg: StatusMessage = { ...extra, state: 'offline', gateway, reason };
  if (ts !== undefined) msg.ts = ts;
  return msg;
}

/** The payload to publish. */
export function encodeStatus(msg: StatusMessage): string {
  return JSON.stringify(msg);
}

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

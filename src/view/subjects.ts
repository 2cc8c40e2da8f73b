import type { DeviceRef } from '../contract/index.js';

/**
 * Subjects and streams of the read side (docs/scale-out.md, One view): what workers publish for
 * API nodes. Everything lies under `pp.view.v1.>`, with the site as the first token after the
 * kind, so an API node (or a NATS permission) can take one site's share with a wildcard. Ids
 * cannot hold `.` (src/contract/ids.ts), so a device's ref is exactly three tokens.
 */
export const VIEW_PREFIX = 'pp.view.v1';
/** Alert transitions (opened, updated, resolved, acknowledged): every one kept for the retention. */
export const VIEW_ALERTS_STREAM = 'PP_VIEW_ALERTS';
/** Device status (completeness now): only the newest message per device is kept. */
export const VIEW_STATE_STREAM = 'PP_VIEW_STATE';

export type ViewKind = 'alerts' | 'quality' | 'live';

export function viewSubject(kind: ViewKind, ref: DeviceRef): string {
  return `${VIEW_PREFIX}.${kind}.${ref.site}.${ref.line}.${ref.device}`;
}

/** Every subject of one kind (`site`: of one site only). */
export function viewFilter(kind: ViewKind, site?: string): string {
  return `${VIEW_PREFIX}.${kind}.${site ?? '*'}.>`;
}

/** The device a view subject is about, or null when it is not one of ours. */
export function refOfViewSubject(subject: string): DeviceRef | null {
  const t = subject.split('.');
  if (t.length !== 7 || `${t[0]}.${t[1]}.${t[2]}` !== VIEW_PREFIX) return null;
  return { site: t[4]!, line: t[5]!, device: t[6]! };
}

/** The durable consumer an API node reads alert transitions with (one per node id). */
export function alertConsumerName(nodeId: string): string {
  return `pp-view-${nodeId}`;
}

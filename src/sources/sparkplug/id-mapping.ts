import { GATEWAY_LINE, ID_PATTERN, type DeviceRef } from '../../contract/index.js';

/**
 * Sparkplug identity → PlantPulse ids. Default: group_id → site, edge_node_id → line,
 * device_id → device; an edge node's own metrics (NBIRTH/NDATA) belong to the pseudo-device
 * `_node` on its line. Overrides come from the mapping file. Ids are validated by the contract's
 * rule and never escaped: `Plant 1` is rejected until the mapping file says what it is.
 */
export const NODE_DEVICE_ID = '_node';

/** The line id of gateway status topics (src/contract/status-message.ts): no Sparkplug node may map onto it. */
const RESERVED_LINE = GATEWAY_LINE;

export interface IdOverrides {
  /** group_id → site */
  groups?: Record<string, string>;
  /** `group/node` or `node` → `line`, or `line/device` (the device for the node's own metrics) */
  nodes?: Record<string, string>;
  /** `group/node/device` or `device` → `device`, or `line/device` */
  devices?: Record<string, string>;
}

export type ResolvedIds = { ok: true; ref: DeviceRef } | { ok: false; reason: string };

interface Target {
  line?: string;
  device?: string;
}

/** `line` or `line/device` (nodes); `device` or `line/device` (devices). */
function parseTarget(value: string, single: 'line' | 'device'): Target {
  const slash = value.indexOf('/');
  if (slash < 0) return { [single]: value };
  return { line: value.slice(0, slash), device: value.slice(slash + 1) };
}

export class IdMapping {
  private readonly groups: Map<string, string>;
  private readonly nodes: Map<string, Target>;
  private readonly devices: Map<string, Target>;

  constructor(overrides: IdOverrides = {}) {
    const problems: string[] = [];
    const check = (section: string, key: string, id: string | undefined, what: string) => {
      if (id !== undefined && !ID_PATTERN.test(id)) problems.push(`${section}.${key}: ${what} ${JSON.stringify(id)} must match [A-Za-z0-9_-]{1,64}`);
      if (what === 'line' && id === RESERVED_LINE) problems.push(`${section}.${key}: line ${RESERVED_LINE} is reserved for gateway status`);
    };
    this.groups = new Map(Object.entries(overrides.groups ?? {}));
    for (const [k, v] of this.groups) check('groups', k, v, 'site');
    this.nodes = new Map(Object.entries(overrides.nodes ?? {}).map(([k, v]) => [k, parseTarget(v, 'line')]));
    for (const [k, t] of this.nodes) {
      check('nodes', k, t.line, 'line');
      check('nodes', k, t.device, 'device');
    }
    this.devices = new Map(Object.entries(overrides.devices ?? {}).map(([k, v]) => [k, parseTarget(v, 'device')]));
    for (const [k, t] of this.devices) {
      check('devices', k, t.line, 'line');
      check('devices', k, t.device, 'device');
    }
    if (problems.length > 0) throw new Error(`invalid Sparkplug id mapping:\n  ${problems.join('\n  ')}`);
  }

  /** The PlantPulse device for a node's own metrics (device undefined) or for one of its devices. */
  resolve(group: string, node: string, device?: string): ResolvedIds {
    const site = this.groups.get(group) ?? group;
    const nodeTarget = this.nodes.get(`${group}/${node}`) ?? this.nodes.get(node);
    let line = nodeTarget?.line ?? node;
    let id: string;
    if (device === undefined) {
      id = nodeTarget?.device ?? NODE_DEVICE_ID;
    } else {
      const deviceTarget = this.devices.get(`${group}/${node}/${device}`) ?? this.devices.get(device);
      line = deviceTarget?.line ?? line;
      id = deviceTarget?.device ?? device;
    }
    const bad = (what: string, from: string, value: string, section: string) => ({
      ok: false as const,
      reason: `Sparkplug ${from} gives ${what} ${JSON.stringify(value.slice(0, 80))}, which is not a valid id ([A-Za-z0-9_-]{1,64}); map it in the Sparkplug mapping file (${section}:)`,
    });
    if (!ID_PATTERN.test(site)) return bad('site', `group_id ${JSON.stringify(group.slice(0, 80))}`, site, 'groups');
    if (!ID_PATTERN.test(line)) return bad('line', `edge_node_id ${JSON.stringify(node.slice(0, 80))}`, line, 'nodes');
    if (line === RESERVED_LINE) return { ok: false, reason: `Sparkplug edge_node_id ${JSON.stringify(node)} gives line ${RESERVED_LINE}, which is reserved for gateway status; map it in the Sparkplug mapping file (nodes:)` };
    if (!ID_PATTERN.test(id)) return bad('device', `device_id ${JSON.stringify((device ?? node).slice(0, 80))}`, id, 'devices');
    return { ok: true, ref: { site, line, device: id } };
  }
}

import { describe, expect, it } from 'vitest';
import { encodeStatus, gatewayRef, gatewayStatusTopic, offlineStatus, onlineStatus, parseStatus, type DeviceRef } from '../../../src/contract/index.js';

const m1: DeviceRef = { site: 's1', line: 'l1', device: 'm1' };
const m2: DeviceRef = { site: 's1', line: 'l2', device: 'm2' };
const payload = (msg: Parameters<typeof encodeStatus>[0]) => Buffer.from(encodeStatus(msg));

describe('status messages: what the builders publish is what the parser reads (src/contract/status-message.ts)', () => {
  it('a gateway birth lists its devices; extra fields are carried and ignored by readers', () => {
    const birth = onlineStatus('gw-1', 1000, [m1, m2], { agent: { version: '1.2.3' }, queue: { pending: 4 } });
    expect(JSON.parse(encodeStatus(birth))).toEqual({ state: 'online', ts: 1000, gateway: 'gw-1', devices: ['l1/m1', 'l2/m2'], agent: { version: '1.2.3' }, queue: { pending: 4 } });
    expect(gatewayStatusTopic('s1', 'gw-1')).toBe('pp/v1/s1/_gateway/gw-1/status');
    expect(parseStatus(gatewayRef('s1', 'gw-1'), payload(birth))).toEqual({ kind: 'gateway', site: 's1', gateway: 'gw-1', state: 'online', reason: null, devices: [m1, m2] });
  });

  it("a last will (no ts) and a device's clean stop", () => {
    expect(parseStatus(gatewayRef('s1', 'gw-1'), payload(offlineStatus('gw-1', 'connection lost')))).toEqual({ kind: 'gateway', site: 's1', gateway: 'gw-1', state: 'offline', reason: 'connection lost', devices: [] });
    expect(parseStatus(m1, payload(offlineStatus('gw-1', 'stopped', 2000)))).toEqual({ kind: 'device', ref: m1, state: 'offline', gateway: 'gw-1', reason: 'stopped' });
  });

  it('extra fields cannot overwrite the fields readers rely on', () => {
    const msg = onlineStatus('gw-1', 1000, undefined, { state: 'offline', gateway: 'other' });
    expect(msg).toMatchObject({ state: 'online', gateway: 'gw-1' });
  });
});

import { describe, expect, it } from 'vitest';
import { encodeStatus, offlineStatus, type DeviceRef, type ParsedStatus } from '../../../src/contract/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { Pipeline, type StatusListener } from '../../../src/pipeline/index.js';

const m1: DeviceRef = { site: 's1', line: 'l1', device: 'm1' };
const m2: DeviceRef = { site: 's1', line: 'l2', device: 'm2' };
const payload = (msg: Parameters<typeof encodeStatus>[0]) => Buffer.from(encodeStatus(msg));

describe('Pipeline.status: status messages parsed once and routed', () => {
  function pipeline() {
    const offline: ParsedStatus[] = [];
    const heard: [ParsedStatus | null, boolean][] = [];
    const p = new Pipeline({ write: async () => {}, saturated: false }, createMetrics(), createLogger('silent'), { process: () => [], status: (s) => void offline.push(s) });
    const listener: StatusListener = (s, retained) => void heard.push([s, retained]);
    p.onStatus(listener);
    return { p, offline, heard };
  }

  it('listeners hear every status, retained or not, and garbage as null; analytics only hears fresh news', () => {
    const { p, offline, heard } = pipeline();
    p.status(m1, payload(offlineStatus('gw-1', 'stopped', 1)), true); // retained: history
    p.status(m1, payload(offlineStatus('gw-1', 'stopped', 2)), false);
    p.status(m1, Buffer.from('not json'), false);
    expect(heard.map(([s, retained]) => [s?.state ?? null, retained])).toEqual([
      ['offline', true],
      ['offline', false],
      [null, false],
    ]);
    expect(offline).toEqual([{ kind: 'device', ref: m1, state: 'offline', gateway: 'gw-1', reason: 'stopped' }]);
  });

  it('a listener that throws does not keep the others or analytics from hearing', () => {
    const { p, offline, heard } = pipeline();
    p.onStatus(() => {
      throw new Error('boom');
    });
    const after: unknown[] = [];
    p.onStatus((s) => void after.push(s));
    p.status(m2, payload(offlineStatus('gw-1', 'stopped', 3)), false);
    expect(heard).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(offline).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import type { StatusMessage } from '../../../../edge-agent/index.js';
import { sparkplugStatus } from '../../../../src/sources/sparkplug/index.js';

describe('Sparkplug status messages', () => {
  it('have the edge agent status shape (state, ts, gateway, reason), so status consumers need no second parser', () => {
    const offline = sparkplugStatus({ group: 'plant-1', node: 'gw-a', device: 'press-1' }, 1_795_910_400_000, 'connection lost');
    // Compile-time: the fields the agent's consumers read are the agent's, with the agent's types.
    const asAgent: Pick<StatusMessage, 'state' | 'ts' | 'gateway' | 'reason'> = { state: offline.state, ts: offline.ts, gateway: offline.gateway, reason: offline.reason === 'connection lost' ? offline.reason : undefined };
    expect(asAgent).toEqual({ state: 'offline', ts: 1_795_910_400_000, gateway: 'plant-1/gw-a', reason: 'connection lost' });
    expect(offline).toMatchObject({ source: 'sparkplug', sparkplug: { group: 'plant-1', node: 'gw-a', device: 'press-1' } });
    const online = sparkplugStatus({ group: 'plant-1', node: 'gw-a' }, 1);
    expect(online).toEqual({ state: 'online', ts: 1, gateway: 'plant-1/gw-a', source: 'sparkplug', sparkplug: { group: 'plant-1', node: 'gw-a' } });
    expect('reason' in online).toBe(false);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert, AlertTransition } from '../../../src/alerts/index.js';
import { CLOSE, LiveHub, type ServerMessage } from '../../../src/live/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';

/** The hub's per-client rules with a stand-in socket: alert throttling, the slow-client guard, snapshots. */
class FakeSocket {
  sent: ServerMessage[] = [];
  bufferedAmount = 0;
  closedWith: { code: number; reason: string } | null = null;
  terminated = false;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ServerMessage);
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
  terminate(): void {
    this.terminated = true;
  }
  ping(): void {}
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
}

const OPTIONS = { telemetryIntervalMs: 500, maxBufferedBytes: 10_000, maxMessageBytes: 4096, maxSubscriptions: 10, maxClients: 10, pingIntervalMs: 60_000, plantUtcOffsetMinutes: 480 };
const alert = (over: Partial<Alert> = {}) => ({ id: 'a1', site: 's1', line: 'l1', device: 'd1', state: 'open', updatedAt: Date.now(), ...over }) as Alert;
const transition = (type: AlertTransition['type'], over: Partial<Alert> = {}): AlertTransition => ({ type, ts: Date.now(), alert: alert(over) });
const frame = (msg: unknown) => Buffer.from(JSON.stringify(msg));

let hub: LiveHub;
beforeEach(() => {
  vi.useFakeTimers({ now: 5_000_000 });
  hub = new LiveHub(OPTIONS, createMetrics(), createLogger('silent'));
});
afterEach(() => {
  hub.close();
  vi.useRealTimers();
});

function subscribed(filters: Record<string, string[]> = {}) {
  const socket = new FakeSocket();
  const client = hub.attach(socket, { sites: 'all' });
  client.receive(frame({ type: 'subscribe', ...filters }), false);
  return { socket, client };
}

describe('live client', () => {
  it('sends opened/resolved/acknowledged at once; throttles `updated`; a held `updated` never follows its `resolved`', () => {
    const { socket } = subscribed();
    hub.notify([transition('opened', { count: 1 })]);
    hub.notify([transition('updated', { count: 2 })]);
    hub.notify([transition('updated', { count: 3 })]);
    hub.notify([transition('updated', { count: 4 })]);
    expect(socket.of('alert').map((a) => `${a.transition}:${a.alert.count}`)).toEqual(['opened:1', 'updated:2']);
    vi.advanceTimersByTime(500);
    expect(socket.of('alert').map((a) => `${a.transition}:${a.alert.count}`)).toEqual(['opened:1', 'updated:2', 'updated:4']);
    hub.notify([transition('updated', { count: 5 })]);
    hub.notify([transition('resolved', { count: 5, state: 'resolved' })]);
    vi.advanceTimersByTime(2000);
    expect(socket.of('alert').map((a) => a.transition)).toEqual(['opened', 'updated', 'updated', 'resolved']);
  });

  it('a socket holding more than maxBufferedBytes unsent is closed 4008 and sent nothing more', () => {
    const { socket } = subscribed();
    const batch = (v: number) => ({ site: 's1', line: 'l1', device: `d${v}`, seq: null, samples: [{ ts: Date.now(), m: { power_kw: v } }] });
    hub.publish(batch(1));
    socket.bufferedAmount = 10_001;
    hub.publish(batch(2));
    hub.publish(batch(3));
    expect(socket.closedWith).toEqual({ code: CLOSE.tooSlow, reason: 'too slow: 10001 bytes unsent' });
    expect(socket.of('telemetry').map((t) => t.device)).toEqual(['d1']);
    expect(hub.clientCount).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(socket.terminated).toBe(true); // a client that never reads up to the close frame is cut off
  });

  it('a subscribe is answered with the latest values of the devices it names, not of others; old batches do not go back in time', () => {
    hub.publish({ site: 's1', line: 'l1', device: 'd1', seq: null, samples: [{ ts: 2000, m: { power_kw: 1, state: 2 } }, { ts: 3000, m: { power_kw: 2 } }] });
    hub.publish({ site: 's1', line: 'l2', device: 'd2', seq: null, samples: [{ ts: 3000, m: { power_kw: 7 } }] });
    hub.publish({ site: 's1', line: 'l1', device: 'd1', seq: null, samples: [{ ts: 1000, m: { power_kw: 99 } }] }); // a late replay
    const { socket } = subscribed({ lines: ['s1/l1'] });
    expect(socket.of('telemetry')).toEqual([{ type: 'telemetry', site: 's1', line: 'l1', device: 'd1', ts: 3000, m: { power_kw: 2, state: 2 } }]);
  });

  it('keeps the latest values while clients listen as while none do: a later subscriber gets the merge, an earlier one each batch\'s news', () => {
    const first = subscribed({ lines: ['s1/l1'] });
    hub.publish({ site: 's1', line: 'l1', device: 'd1', seq: null, samples: [{ ts: 2000, m: { power_kw: 1, state: 2 } }] });
    vi.advanceTimersByTime(OPTIONS.telemetryIntervalMs);
    hub.publish({ site: 's1', line: 'l1', device: 'd1', seq: null, samples: [{ ts: 3000, m: { power_kw: 2 } }] });
    expect(first.socket.of('telemetry').map((t) => t.m)).toEqual([{ power_kw: 1, state: 2 }, { power_kw: 2 }]);
    const later = subscribed({ lines: ['s1/l1'] });
    expect(later.socket.of('telemetry')).toEqual([{ type: 'telemetry', site: 's1', line: 'l1', device: 'd1', ts: 3000, m: { power_kw: 2, state: 2 } }]);
  });

  it('refuses a subscription above maxSubscriptions without applying any of it', () => {
    const { socket, client } = subscribed({ devices: ['s/l/a'] });
    client.receive(frame({ type: 'subscribe', devices: Array.from({ length: 10 }, (_, i) => `s/l/x${i}`) }), false);
    expect(socket.of('error').at(-1)).toMatchObject({ code: 'too_many_subscriptions' });
    client.receive(frame({ type: 'subscribe', devices: ['s/l/a', 's/l/b'] }), false); // a repeat costs nothing
    expect(socket.of('subscribed').at(-1)).toMatchObject({ devices: ['s/l/a', 's/l/b'] });
  });

  it('answers binary frames and unknown message types with invalid_message', () => {
    const { socket, client } = subscribed();
    client.receive(Buffer.from([1, 2, 3]), true);
    client.receive(frame({ type: 'publish' }), false);
    expect(socket.of('error').map((e) => e.code)).toEqual(['invalid_message', 'invalid_message']);
  });

  it('turns away clients above maxClients with 1013', () => {
    for (let i = 0; i < OPTIONS.maxClients; i++) subscribed();
    const extra = new FakeSocket();
    expect(hub.connect(extra as unknown as Parameters<LiveHub['connect']>[0], { sites: 'all' })).toBeNull();
    expect(extra.closedWith?.code).toBe(CLOSE.tryAgainLater);
  });
});

import { connect, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionLeases, ownershipUnits } from '../../src/sources/nats/index.js';
import { createLogger } from '../../src/observability/index.js';
import { NATS_PLATFORM_PASSWORD, startNats, type NatsProcess } from '../support/nats.js';
import { waitFor } from '../support/ports.js';

/**
 * Partition leases in a real JetStream key-value bucket: workers split the units evenly, a new
 * worker gets its share within seconds, and a unit is never owned by two workers at once, also
 * when a worker is cut off from NATS without handing anything over.
 */
const TTL = 2000;
const RENEW = 400;
const UNITS = ownershipUnits(12); // 13 units
let nats: NatsProcess;
const log = createLogger('silent');

/** Every ownership interval of every unit, to check that none overlap. */
interface Interval {
  worker: string;
  from: number;
  to: number | null;
}
const history = new Map<string, Interval[]>();

interface Worker {
  id: string;
  nc: NatsConnection;
  leases: PartitionLeases;
}
const workers: Worker[] = [];

/** Units a worker lost without handing them over (its lease lapsed), by worker. */
const lapsed = new Map<string, number>();

async function startWorker(id: string, bucket: string, handOverMs = 0): Promise<Worker> {
  const handingOver = new Set<string>();
  const nc = await connect({ servers: nats.url, user: 'platform', pass: NATS_PLATFORM_PASSWORD, maxReconnectAttempts: 0 });
  const kv: KV = await nc.jetstream().views.kv(bucket, { ttl: TTL, history: 1 });
  const leases = new PartitionLeases(kv, { workerId: id, units: UNITS, ttlMs: TTL, renewMs: RENEW, safetyMs: 400 }, {
    acquired: async (unit) => {
      const list = history.get(unit) ?? [];
      history.set(unit, list);
      list.push({ worker: id, from: Date.now(), to: null });
    },
    releasing: async (unit) => {
      handingOver.add(unit);
      await new Promise((r) => setTimeout(r, handOverMs));
    },
    lost: (unit) => {
      if (!handingOver.delete(unit)) lapsed.set(id, (lapsed.get(id) ?? 0) + 1);
      const open = history.get(unit)?.findLast((i) => i.worker === id && i.to === null);
      if (open) open.to = Date.now();
    },
  }, log);
  await leases.start();
  const w = { id, nc, leases };
  workers.push(w);
  return w;
}

function owners(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const w of workers) for (const u of w.leases.owned) m.set(u, [...(m.get(u) ?? []), w.id]);
  return m;
}

function balanced(live: Worker[]): boolean {
  const counts = live.map((w) => w.leases.owned.length);
  const o = owners();
  return UNITS.every((u) => o.get(u)?.length === 1) && Math.max(...counts) - Math.min(...counts) <= 1;
}

beforeAll(async () => {
  nats = await startNats();
}, 30_000);
afterAll(async () => {
  for (const w of workers) await w.leases.stop().catch(() => undefined);
  for (const w of workers) await w.nc.close().catch(() => undefined);
  await nats?.stop();
});

describe('partition leases in a JetStream key-value bucket', () => {
  it('two workers split 13 units 7/6, a third joins and each ends with 4 or 5 within seconds', async () => {
    const a = await startWorker('worker-a', 'leases_t1');
    await waitFor(() => a.leases.owned.length === UNITS.length, 5000, 'a alone owns all');
    const b = await startWorker('worker-b', 'leases_t1');
    await waitFor(() => balanced([a, b]), 8000, 'two balanced');
    expect([a.leases.owned.length, b.leases.owned.length].sort()).toEqual([6, 7]);
    const joinedAt = Date.now();
    const c = await startWorker('worker-c', 'leases_t1');
    await waitFor(() => balanced([a, b, c]), 8000, 'three balanced');
    console.log(`third worker: balanced ${Date.now() - joinedAt} ms after it started`);
    expect([a, b, c].map((w) => w.leases.owned.length).sort()).toEqual([4, 4, 5]);
  });

  it('a worker cut off from NATS stops owning before anyone else takes its units over', async () => {
    const [a, b, c] = workers as [Worker, Worker, Worker];
    const cutUnits = [...c.leases.owned];
    expect(cutUnits.length).toBeGreaterThan(0);
    const cutAt = Date.now();
    await c.nc.close(); // no release, no deletes: like a crash or a partition, seen from the others
    await waitFor(() => c.leases.owned.length === 0, TTL + 1000, 'c gives up its units');
    await waitFor(() => balanced([a, b]), TTL + 8000, 'a and b take over');
    console.log(`units of a cut-off worker owned again ${Date.now() - cutAt} ms after the cut`);
    for (const unit of cutUnits) {
      const intervals = history.get(unit)!;
      const cs = intervals.findLast((i) => i.worker === 'worker-c')!;
      const next = intervals[intervals.indexOf(cs) + 1]!;
      expect(cs.to, unit).not.toBeNull();
      expect(next.from, `${unit}: taken over only after c stopped`).toBeGreaterThan(cs.to!);
    }
  });

  it('a clean stop hands units over at once, and no unit ever had two owners at the same time', async () => {
    const [a, b] = workers as [Worker, Worker];
    const stoppedAt = Date.now();
    await b.leases.stop();
    await waitFor(() => a.leases.owned.length === UNITS.length, 3000, 'a owns everything');
    expect(Date.now() - stoppedAt).toBeLessThan(TTL + RENEW * 2); // not waiting for the TTL: released
    for (const [unit, intervals] of history) {
      const sorted = [...intervals].sort((x, y) => x.from - y.from);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.from, `${unit} ${JSON.stringify(sorted)}`).toBeGreaterThanOrEqual(sorted[i - 1]!.to ?? Infinity);
    }
    await a.leases.stop();
  });

  it('a hand-over slower than the lease time keeps every lease renewed, and the next owner starts after it', async () => {
    const slow = await startWorker('worker-slow', 'leases_t2', TTL * 1.5);
    await waitFor(() => slow.leases.owned.length === UNITS.length, 5000, 'slow alone owns all');
    const joinedAt = Date.now();
    const other = await startWorker('worker-other', 'leases_t2');
    await waitFor(() => balanced([slow, other]), TTL * 4, 'balanced after the slow hand-over');
    expect(Date.now() - joinedAt).toBeGreaterThanOrEqual(TTL * 1.5);
    expect(lapsed.get('worker-slow') ?? 0).toBe(0);
    for (const unit of other.leases.owned) {
      const intervals = history.get(unit)!;
      const handedOver = intervals.findLast((i) => i.worker === 'worker-slow')!;
      expect(intervals.findLast((i) => i.worker === 'worker-other')!.from).toBeGreaterThanOrEqual(handedOver.to!);
    }
    await Promise.all([slow.leases.stop(), other.leases.stop()]);
  });

  it('refuses settings under which a lease could lapse between two renewals', () => {
    expect(() => new PartitionLeases({} as KV, { workerId: 'w', units: UNITS, ttlMs: 1000, renewMs: 500, safetyMs: 200 }, { acquired: async () => undefined, releasing: async () => undefined, lost: () => undefined }, log)).toThrow(/must exceed twice the renew interval/);
  });
});

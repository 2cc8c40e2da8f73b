import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StoredCounter } from '../../../load-tests/bench/platform-phases.js';

// The benches' count of stored samples: one /metrics scrape gives the count and the window's
// peak, and a closed loop's counter polls as often as its lead needs, no more.

let server: Server | null = null;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = null;
});

/** A /metrics that stores `perS` samples a second from its start and reports the in-flight values given, one per scrape. */
async function metrics(perS: number, inflight: number[] = [0]): Promise<{ url: string; scrapes: () => number }> {
  const t0 = performance.now();
  let n = 0;
  server = createServer((req, res) => {
    const stored = Math.floor(((performance.now() - t0) / 1000) * perS);
    const held = inflight[Math.min(n++, inflight.length - 1)]!;
    res.end(`# HELP pp_samples_stored_total x\npp_samples_stored_total{source="mqtt"} ${stored}\npp_samples_stored_total{source="http"} 0\npp_mqtt_inflight_messages ${held}\n`);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, scrapes: () => n };
}

describe('bench: the stored-samples counter', () => {
  it('reads the count and the peak in flight in one scrape', async () => {
    const m = await metrics(1000, [5, 90, 40]);
    const c = new StoredCounter(m.url, { everyMs: 60_000 });
    try {
      for (let k = 0; k < 3; k++) await c.poll();
      expect(m.scrapes()).toBe(3);
      expect(c.peakInflight).toBe(90);
      expect(c.value).toBeGreaterThan(0);
      expect(c.last.value).toBe(c.value);
    } finally {
      c.stop();
    }
  });

  it('polls a closed loop every quarter of its lead at the rate seen, between 200 and 500 ms', async () => {
    const m = await metrics(20_000);
    const long = new StoredCounter(m.url, { leadSamples: 300_000 }); // 15 s of lead: 500 ms at most
    const short = new StoredCounter(m.url, { leadSamples: 4_000 }); // 0.2 s of lead: 200 ms
    const mid = new StoredCounter(m.url, { leadSamples: 24_000 }); // 1.2 s of lead: 300 ms
    try {
      expect(long.nextDelayMs()).toBe(200); // no rate seen yet
      await new Promise((r) => setTimeout(r, 1500));
      expect(long.nextDelayMs()).toBe(500);
      expect(short.nextDelayMs()).toBe(200);
      expect(mid.nextDelayMs()).toBeGreaterThan(220);
      expect(mid.nextDelayMs()).toBeLessThan(450);
      // Polled about that often: the long lead 3-4 times in 1.5 s, the short one about 7 (fewer on a
      // loaded machine, where timers run late: so the short lead is judged against the long one).
      expect(long.polls).toBeLessThanOrEqual(4);
      expect(short.polls).toBeGreaterThanOrEqual(3);
      expect(short.polls).toBeGreaterThan(long.polls);
    } finally {
      for (const c of [long, short, mid]) c.stop();
    }
  });

  it('polls every 200 ms by default, and stops', async () => {
    const m = await metrics(100);
    const c = new StoredCounter(m.url);
    await new Promise((r) => setTimeout(r, 1100));
    c.stop();
    const polled = c.polls;
    expect(polled).toBeGreaterThanOrEqual(2); // about 5; timers run late on a loaded machine
    expect(polled).toBeLessThanOrEqual(6);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.polls).toBe(polled);
  });
});

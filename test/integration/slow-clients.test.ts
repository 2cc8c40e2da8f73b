import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

/**
 * Slowloris, slow bodies and connection floods against a real in-process platform: the server
 * keeps answering normal requests promptly, and its own timeouts (src/api/http-limits.ts) close
 * the slow connections with a coded 408. The timeouts are shortened here (2 s for headers, 3 s for
 * a whole request) so the test takes seconds; production defaults are 20 s and 120 s.
 */

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 3000;
const MAX_CONNECTIONS = 300;
let platform: Platform;
let port: number;

beforeAll(async () => {
  platform = await startTestPlatform({
    PP_MQTT_EMBEDDED_PORT: '0',
    PP_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    PP_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    PP_HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  });
  port = Number(new URL(platform.httpUrl).port);
});
afterAll(async () => {
  await platform?.stop();
});

interface Client {
  socket: Socket;
  openedAt: number;
  /** When the server closed the connection (ms after opening); null while open. */
  closedAfter: number | null;
  received: string;
}

/** Opens `n` connections; each sends `first` once connected. */
async function open(n: number, first: string): Promise<Client[]> {
  const clients = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Client>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          const c: Client = { socket, openedAt: Date.now(), closedAfter: null, received: '' };
          socket.on('data', (d: Buffer) => (c.received += d.toString()));
          socket.on('error', () => undefined); // a reset by the server is what some tests expect
          socket.on('close', () => (c.closedAfter = Date.now() - c.openedAt));
          socket.on('connect', () => {
            if (first) socket.write(first);
            resolve(c);
          });
          socket.on('close', () => resolve(c));
        }),
    ),
  );
  return clients;
}

/** Every `everyMs`, each still-open client sends one more byte of `text` (cycling). */
function drip(clients: Client[], text: string, everyMs = 1000): () => void {
  let i = 0;
  const timer = setInterval(() => {
    const ch = text[i++ % text.length]!;
    for (const c of clients) if (c.closedAfter === null && !c.socket.destroyed) c.socket.write(ch);
  }, everyMs);
  return () => clearInterval(timer);
}

async function timedFetch(path: string, init?: RequestInit): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${platform.httpUrl}${path}`, init);
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - t0 };
}

function expect408(c: Client): void {
  expect(c.received, c.received).toMatch(/^HTTP\/1\.1 408 /);
  expect(JSON.parse(c.received.slice(c.received.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'PP_ERR_REQUEST_TIMEOUT' });
}

describe('slow and idle clients are bounded', () => {
  it('200 slowloris connections (a header byte per second): normal requests are answered promptly, and the server closes the slow ones at its headers timeout', async () => {
    const slow = await open(200, 'POST /api/v1/ingest HTTP/1.1\r\nHost: plantpulse\r\n');
    const stop = drip(slow, 'X-Padding: slowloris\r\n');
    try {
      await new Promise((r) => setTimeout(r, 500));
      const health = await timedFetch('/healthz');
      const ingest = await timedFetch('/api/v1/ingest/site-s/line-s/dev-s', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ samples: [{ ts: Date.now(), m: { power_kw: 1 } }] }) });
      expect(health).toMatchObject({ status: 200 });
      expect(ingest).toMatchObject({ status: 200 });
      // Promptly: a normal request does not wait behind the slow ones (generous for a busy CI box).
      expect(Math.max(health.ms, ingest.ms)).toBeLessThan(1500);
      expect(slow.every((c) => c.closedAfter === null)).toBe(true); // still held: they are not refused outright
      // Node checks the timeout every headersTimeout/4 (http-limits.ts): closed within one period or two.
      await waitFor(() => slow.every((c) => c.closedAfter !== null), HEADERS_TIMEOUT_MS * 3, 'slowloris connections closed by the server');
    } finally {
      stop();
      for (const c of slow) c.socket.destroy();
    }
    for (const c of slow) {
      expect(c.closedAfter!).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(c.closedAfter!).toBeLessThan(HEADERS_TIMEOUT_MS * 2 + 1000);
      expect408(c);
    }
  });

  it('a body sent a byte per second is cut off at the request timeout, and nothing of it is stored', async () => {
    const head = 'POST /api/v1/ingest/site-b/line-b/dev-b HTTP/1.1\r\nHost: plantpulse\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const decodedBefore = await scrapeMetric(platform.httpUrl, 'pp_messages_received_total', { source: 'http' });
    const slow = await open(20, head);
    const stop = drip(slow, '{"samples":[');
    try {
      await waitFor(() => slow.every((c) => c.closedAfter !== null), REQUEST_TIMEOUT_MS * 3, 'slow bodies cut off');
    } finally {
      stop();
      for (const c of slow) c.socket.destroy();
    }
    for (const c of slow) {
      expect(c.closedAfter!).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect408(c);
    }
    expect(await scrapeMetric(platform.httpUrl, 'pp_messages_received_total', { source: 'http' })).toBe(decodedBefore);
    expect((await timedFetch('/healthz')).status).toBe(200);
  });

  it(`a flood of idle connections: at most PP_HTTP_MAX_CONNECTIONS (${MAX_CONNECTIONS}) are held, the rest closed at once; the timeouts free the slots`, async () => {
    const flood = await open(MAX_CONNECTIONS + 50, '');
    try {
      await new Promise((r) => setTimeout(r, 300));
      const refused = flood.filter((c) => c.closedAfter !== null);
      // Closed on arrival, without an answer; a kept-alive connection of this test's fetch may hold a slot.
      expect(refused.length).toBeGreaterThanOrEqual(50);
      expect(refused.length).toBeLessThanOrEqual(55);
      for (const c of refused) expect(c.received).toBe('');
      const held = flood.filter((c) => c.closedAfter === null);
      await waitFor(() => held.every((c) => c.closedAfter !== null), HEADERS_TIMEOUT_MS * 3, 'idle connections closed by the headers timeout');
      for (const c of held) expect408(c);
    } finally {
      for (const c of flood) c.socket.destroy();
    }
    const after = await timedFetch('/healthz');
    expect(after.status).toBe(200);
    expect(after.ms).toBeLessThan(1500);
  });
});

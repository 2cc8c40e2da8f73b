import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = { kind: 'pass' } | { kind: 'error'; status: number } | { kind: 'slow'; delayMs: number };

/**
 * An HTTP proxy in front of a real InfluxDB that injects faults into writes (`/write`,
 * `/api/v2/write`): 5xx answers without forwarding, or answers delayed after forwarding. Other
 * paths pass through. The database behind it is real; only its availability is simulated.
 */
export async function startFaultProxy(target: string) {
  let mode: FaultMode = { kind: 'pass' };
  const counts = { forwarded: 0, failed: 0, delayed: 0 };
  const t = new URL(target);
  const server: Server = createServer((req, res) => {
    const isWrite = (req.url ?? '').startsWith('/write') || (req.url ?? '').startsWith('/api/v2/write');
    const current = mode;
    if (isWrite && current.kind === 'error') {
      counts.failed++;
      req.resume();
      res.writeHead(current.status, { 'content-type': 'application/json' }).end('{"error":"injected fault"}');
      return;
    }
    const upstream = request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      const send = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (isWrite && current.kind === 'slow') {
        counts.delayed++;
        setTimeout(send, current.delayMs);
      } else send();
    });
    upstream.on('error', () => res.writeHead(502).end());
    counts.forwarded++;
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    set: (m: FaultMode) => (mode = m),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for InfluxDB 1.x that keeps everything the platform sends: the line protocol bodies
 * of `POST /write` and the InfluxQL of `/query` (answered with empty results). Tests that only need
 * to see exactly what would have been written use it instead of a real influxd: it starts at once
 * and lets a test check every byte, which a real server (that rejects or rewrites) would hide.
 */
export interface CapturingInflux {
  url: string;
  /** Bodies of `/write`, in arrival order. */
  writes: string[];
  /** InfluxQL statements of `/query` (CREATE DATABASE included). */
  queries: string[];
  stop(): Promise<void>;
}

export async function startCapturingInflux(): Promise<CapturingInflux> {
  const writes: string[] = [];
  const queries: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      if (url.pathname === '/write') {
        writes.push(body);
        res.writeHead(204).end();
      } else if (url.pathname === '/query') {
        queries.push(url.searchParams.get('q') ?? new URLSearchParams(body).get('q') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
      } else if (url.pathname === '/ping') {
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    writes,
    queries,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

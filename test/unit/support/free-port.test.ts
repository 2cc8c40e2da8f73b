import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/ports.js';

// The suite's servers (influxd, Mosquitto, NATS) get their ports from freePort. A port inside the
// kernel's ephemeral range can be taken by any outgoing connection between the check and the
// server's bind, which once failed a clean-clone CI run; so freePort stays below that range.
describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range that a server can bind', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) expect(port).toBeLessThan(low ?? 32768);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise((r) => srv.close(r));
  });
});

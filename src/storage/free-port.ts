import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The ports the kernel hands out for outgoing connections (and for `listen(0)`), from
 * `/proc/sys/net/ipv4/ip_local_port_range`; Linux's default when it cannot be read.
 */
function readEphemeralRange(): [number, number] {
  try {
    const [lo = NaN, hi = NaN] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    /* not Linux */
  }
  return [32768, 60999];
}

/** Read once: the range does not change while we run. */
let ephemeral: [number, number] | null = null;

/** Ports this process already handed out: a test may not have bound the last one yet. */
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, picked at random *below* the kernel's
 * ephemeral range, for a server we start (managed influxd, and the test suite's services). A port
 * from `listen(0)` lies inside that range, where every outgoing connection (HTTP to InfluxDB, MQTT
 * clients) also takes its local port: between our check and the server's own bind one of them
 * took it now and then, and influxd failed to start with "address already in use". Below the
 * range only another listener can take it, and a server restarted on the same port finds it free.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = (ephemeral ??= readEphemeralRange());
  const high = Math.min(ephemeralLow - 1, 65535);
  const low = high > 12_000 ? 10_000 : 1024;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found between ${low} and ${high} on 127.0.0.1`);
}

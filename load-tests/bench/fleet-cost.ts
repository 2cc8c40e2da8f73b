/**
 * `npx tsx load-tests/bench/fleet-cost.ts [messages/s] [seconds] [rounds]`: what the load
 * generator costs per message, in this process, against a real Mosquitto (shipped
 * configuration, no subscriber: the broker's part is not measured here). The same workload
 * (200 simulated machines, 20 gateways, 10-sample messages) at the same offered rate (default
 * 6,000 messages/s, twice a typical 10-sample closed loop here) through four paths, alternated
 * round by round:
 * - `simulate`: step the simulated machines and JSON-encode each message, send nothing;
 * - `publisher`: that, sent through the edge agent's GatewayPublisher (MQTT.js): the fleet as it was;
 * - `replay`: write each message from the recording (recorded-telemetry.ts) into one buffer, as
 *   the fleet writes it into a gateway's, send nothing;
 * - `fleet`: fleet.ts as it is (the recording, sent through wire-gateway.ts).
 * Prints, per path and round, messages the broker acknowledged per second and the process's
 * CPU (user + system) per message and as % of one core; the last line gives the medians.
 */
import { GatewayPublisher } from '../../edge-agent/index.js';
import { Fleet } from './fleet.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import type { DeviceRef } from '../../src/contract/index.js';
import { loadAverage } from './proc-stats.js';
import { median } from './stats.js';
import { RecordedTelemetry } from './recorded-telemetry.js';
import { Workload } from './workload.js';

const rate = Number(process.argv[2] ?? 6000);
const seconds = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 2);
if (!(rate > 0) || !(seconds > 0) || !(rounds >= 1)) throw new Error('usage: fleet-cost.ts [messages/s > 0] [seconds > 0] [rounds ≥ 1]');
const SHAPE = { sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 };
const say = (s: string) => process.stdout.write(`${s}\n`);

type Path = 'simulate' | 'publisher' | 'replay' | 'fleet';

interface Sender {
  connect(): Promise<void>;
  /** Send device i's message; returns when handed over. */
  send(i: number): void;
  acked(): number;
  /** Publishes waiting for a window slot. */
  queued(): number;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

function sender(path: Path, url: string, round: number): Sender {
  const workload = new Workload(SHAPE);
  if (path === 'simulate' || path === 'replay') {
    const seq = new Uint32Array(workload.size);
    const replay = new RecordedTelemetry(workload);
    let built = 0;
    let bytes = 0;
    const out = Buffer.allocUnsafe(64 * 1024);
    const build = path === 'simulate' ? (i: number) => JSON.stringify({ seq: seq[i]!++, samples: workload.nextSamples(i) }).length : (i: number) => replay.writeMessage(i, seq[i]!++, out, 0);
    return {
      connect: async () => void (path === 'replay' && replay.recordAll()),
      send: (i) => {
        bytes += build(i); // kept, so the message is not optimised away
        built++;
      },
      acked: () => built,
      queued: () => 0,
      settle: async () => undefined,
      stop: async () => void (bytes > 0),
    };
  }
  if (path === 'publisher') {
    const sites = new Map<string, DeviceRef[]>();
    for (const d of workload.devices) sites.set(d.site, [...(sites.get(d.site) ?? []), d]);
    const gws = new Map([...sites].map(([site, devices]) => [site, new GatewayPublisher({ brokerUrl: url, gatewayId: `cost-p${round}-${site}`, site, devices, maxInFlight: 200, stopTimeoutMs: 30_000 })]));
    const pending = new Set<Promise<unknown>>();
    return {
      connect: async () => void (await Promise.all([...gws.values()].map((g) => g.connect()))),
      send: (i) => {
        const d = workload.devices[i]!;
        const p = gws.get(d.site)!.publish(d, workload.nextSamples(i));
        pending.add(p);
        void p.finally(() => pending.delete(p));
      },
      acked: () => [...gws.values()].reduce((n, g) => n + g.messagesAcked, 0),
      queued: () => [...gws.values()].reduce((n, g) => n + g.queued, 0),
      settle: async () => void (await Promise.all(pending)),
      stop: async () => void (await Promise.all([...gws.values()].map((g) => g.stop()))),
    };
  }
  const fleet = new Fleet(workload, url, `cost-f${round}`);
  return {
    connect: () => fleet.connect(),
    send: (i) => void fleet.publishDevice(i),
    acked: () => fleet.acked.messages,
    queued: () => fleet.gateways.reduce((n, g) => n + g.queued, 0),
    settle: async () => {
      await Promise.all(fleet.gateways.map((g) => g.whenIdle()));
      for (const g of fleet.gateways) if (g.failure) throw g.failure;
    },
    stop: () => fleet.stop(),
  };
}

/** The fleet's open-loop pacing (fleet.ts): due messages every 5 ms, at most 500 waiting in the gateways. */
async function offer(s: Sender): Promise<{ perS: number; usPerMessage: number; corePct: number }> {
  const n = SHAPE.sites * SHAPE.linesPerSite * SHAPE.machinesPerLine;
  const a0 = s.acked();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  let next = 0;
  for (let t = 0; t < seconds * 1000; t = performance.now() - t0) {
    const due = Math.floor((t / 1000) * rate);
    const allowed = Math.min(due - sent, Math.max(0, 500 - s.queued()));
    for (let k = 0; k < allowed; k++) {
      s.send(next);
      next = (next + 1) % n;
    }
    sent += Math.max(0, allowed);
    if (due - sent > rate * 0.2) sent = due - Math.floor(rate * 0.2); // fell behind: forgo, as the fleet does
    await new Promise((r) => setTimeout(r, 5));
  }
  await s.settle();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const messages = s.acked() - a0;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { perS: Math.round(messages / wall), usPerMessage: Number(((cpuS / messages) * 1e6).toFixed(1)), corePct: Number(((cpuS / wall) * 100).toFixed(1)) };
}

const mosquitto = await startMosquitto();
const results: Record<Path, { usPerMessage: number; corePct: number }[]> = { simulate: [], publisher: [], replay: [], fleet: [] };
try {
  say(`${rate.toLocaleString('en')} messages/s (${(rate * SHAPE.samplesPerMessage).toLocaleString('en')} samples/s) for ${seconds} s per path, ${rounds} rounds, load ${loadAverage()}`);
  for (let r = 0; r < rounds; r++) {
    const order: Path[] = r % 2 === 0 ? ['simulate', 'publisher', 'replay', 'fleet'] : ['fleet', 'replay', 'publisher', 'simulate'];
    for (const path of order) {
      const s = sender(path, mosquitto.url, r);
      await s.connect();
      const got = await offer(s);
      await s.stop();
      results[path].push(got);
      say(`  round ${r + 1} ${path.padEnd(9)}: ${got.perS.toLocaleString('en')} messages/s acknowledged, ${got.usPerMessage} µs CPU per message, ${got.corePct} % of a core (load ${loadAverage()})`);
    }
  }
  const m = (p: Path) => `${median(results[p].map((x) => x.usPerMessage))} µs (${median(results[p].map((x) => x.corePct))} %)`;
  say(`medians, CPU per message (share of a core): simulate ${m('simulate')}, publisher ${m('publisher')}, replay ${m('replay')}, fleet ${m('fleet')}; fleet ÷ publisher ${(median(results.fleet.map((x) => x.usPerMessage)) / median(results.publisher.map((x) => x.usPerMessage))).toFixed(2)}`);
} finally {
  await mosquitto.stop();
}

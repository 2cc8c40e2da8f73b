/**
 * `npx tsx load-tests/bench/mqtt-receive.ts --baseline-rev <rev> [--messages 40000] [--rounds 3]
 * [--samples 1,10]`: CPU per message from the socket's bytes to a decoded message acknowledged,
 * this tree beside an earlier revision, each round a process per tree (order alternating) that
 * times two passes after a warm-up.
 *
 * What runs is each tree's own code for that path, built as the platform is (`tsc`): MQTT.js with
 * the tree's AckWindow attached (its window never full), a 'message' listener that tracks the
 * message, decodes it (decodeMqttMessage) and releases it, and the PUBACKs written back. The
 * socket is an in-memory stream handing MQTT.js 64 KiB chunks of QoS 1 MQTT 5 PUBLISH packets,
 * the fleet's messages (200 devices, 1 or 10 samples of 9 metrics each) as Mosquitto would send
 * them. Storage, analytics and the other stages are not in it: per-message.ts measures the whole
 * platform, whose figures on a shared machine move by more than this path costs.
 *
 * Per pass: a new client, a full garbage collection before (not timed), then the CPU time of the
 * process (user + system, garbage collection included) from the first chunk to the last message
 * acknowledged. Figures are the medians over all timed passes, and their ratio.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { buildPlatform, buildRevision, BENCH_DIST, startFlagsOf } from './platform-process.js';
import { median } from './stats.js';
import { Workload } from './workload.js';
import { argOf } from './cli-args.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const argv = process.argv.slice(2);
const arg = argOf(argv);
const baselineRev = arg('--baseline-rev');
if (!baselineRev) throw new Error('usage: mqtt-receive.ts --baseline-rev <rev> [--messages 40000] [--rounds 3] [--samples 1,10]');
const count = Number(arg('--messages', '40000'));
const rounds = Number(arg('--rounds', '3'));
const shapes = (arg('--samples', '1,10') ?? '').split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc;

interface AckWindowLike {
  track(packet: unknown): unknown;
  release(entry: unknown): void;
}
interface Variant {
  name: string;
  AckWindow: new (client: MqttClient, opts: { window: number }) => AckWindowLike;
  decodeMqttMessage: (topic: string, payload: Buffer) => { batch: { samples: unknown[] } | null };
}

async function loadVariant(name: string, dist: string): Promise<Variant> {
  const load = (p: string) => import(pathToFileURL(join(dist, p)).href);
  const { AckWindow } = (await load('src/sources/mqtt/ack-window.js')) as Pick<Variant, 'AckWindow'>;
  const { decodeMqttMessage } = (await load('src/contract/index.js')) as Pick<Variant, 'decodeMqttMessage'>;
  return { name, AckWindow, decodeMqttMessage };
}

/** The wire: `count` QoS 1 PUBLISHes of the fleet's messages, cut into 64 KiB chunks. */
function wire(samplesPerMessage: number): Buffer[] {
  const now = Date.now();
  const w = new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage }, now - 3_600_000);
  const packets: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const i = k % w.size;
    const d = w.devices[i]!;
    const payload = Buffer.from(JSON.stringify({ seq: Math.floor(k / w.size), samples: w.nextSamples(i, now - 3_600_000 + k) }));
    const packet = { cmd: 'publish', topic: `pp/v1/${d.site}/${d.line}/${d.device}/metrics`, payload, qos: 1, messageId: (k % 65_535) + 1, retain: false, dup: false } as const;
    packets.push(mqttPacket.generate(packet as unknown as mqttPacket.Packet, { protocolVersion: 5 }));
  }
  const all = Buffer.concat(packets);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += 65_536) chunks.push(all.subarray(at, at + 65_536));
  return chunks;
}

const CONNACK = mqttPacket.generate({ cmd: 'connack', sessionPresent: false, reasonCode: 0 } as mqttPacket.Packet, { protocolVersion: 5 });

/** One pass: CPU µs per message. */
async function pass(v: Variant, chunks: Buffer[]): Promise<number> {
  let next = -1; // -1: CONNACK first
  let started = false;
  const socket = new Duplex({
    read() {
      if (next < 0 || !started) return;
      this.push(next < chunks.length ? chunks[next++] : null);
    },
    write(_chunk, _enc, cb) {
      cb();
    },
  });
  const client = mqtt.connect('mqtt://bench.invalid', { manualConnect: true, protocolVersion: 5, clean: true, reconnectPeriod: 0, keepalive: 0, writeCache: false, log: () => undefined });
  (client as unknown as { streamBuilder: () => Duplex }).streamBuilder = () => socket;
  const acks = new v.AckWindow(client, { window: 10 * count });
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  client.on('message', (topic: string, payload: Buffer, packet: unknown) => {
    const entry = acks.track(packet);
    if (v.decodeMqttMessage(topic, payload).batch === null) throw new Error(`${v.name}: message rejected`);
    acks.release(entry);
    if (++received === count) done();
  });
  const connected = new Promise<void>((r) => client.once('connect', () => r()));
  client.connect();
  socket.push(CONNACK);
  await connected;
  gc?.();
  const t0 = process.cpuUsage();
  started = true;
  next = 0;
  socket.push(chunks[next++]);
  await finished;
  const used = process.cpuUsage(t0);
  client.end(true);
  return (used.user + used.system) / count;
}

/** Child mode: `--child <dist> --samples <n>`: a warm-up pass, then `--passes` timed ones, as JSON on stdout. */
const childDist = arg('--child');
if (childDist) {
  const v = await loadVariant(childDist, childDist);
  const chunks = wire(Number(arg('--samples')));
  await pass(v, chunks);
  const out: number[] = [];
  for (let i = 0; i < Number(arg('--passes', '2')); i++) out.push(await pass(v, chunks));
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

/**
 * Each pass of a variant in its own process (MQTT.js and mqtt-packet are patched per process by
 * the tree that loads them, so two trees cannot share one), with that tree's start flags.
 */
function child(dist: string, flags: string[], samples: number): number[] {
  const out = execFileSync(process.execPath, [...flags, '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--baseline-rev', baselineRev!, '--child', dist, '--samples', String(samples), '--messages', String(count)], { encoding: 'utf8' });
  return JSON.parse(out) as number[];
}

await buildPlatform(say);
const { dist: baseDist, sha } = await buildRevision(baselineRev, say);
const trees = [
  { name: 'current', dist: BENCH_DIST, flags: await startFlagsOf(BENCH_DIST) },
  { name: `baseline-${sha}`, dist: baseDist, flags: await startFlagsOf(baseDist) },
];
say(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const samples of shapes) {
  const results = new Map<string, number[]>(trees.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const t of r % 2 === 0 ? trees : [...trees].reverse()) results.get(t.name)!.push(...child(t.dist, t.flags, samples));
  }
  const [cur, base] = trees.map((t) => median(results.get(t.name)!));
  for (const t of trees) say(`${samples}-sample  ${t.name.padEnd(18)} ${median(results.get(t.name)!).toFixed(2)} µs CPU per message [${results.get(t.name)!.map((x) => x.toFixed(2)).join(' / ')}]`);
  say(`${samples}-sample  current / baseline ×${(cur! / base!).toFixed(3)} (${(cur! / samples).toFixed(2)} against ${(base! / samples).toFixed(2)} µs per sample)`);
}
say(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

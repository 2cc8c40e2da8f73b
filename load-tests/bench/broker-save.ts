/**
 * `npx tsx load-tests/bench/broker-save.ts [queue sizes in MiB, e.g. 256,512,1024,2048]`: how long
 * Mosquitto (the shipped configuration) stops serving while it saves its persistence file, by the
 * size of the queue it holds for a persistent session that is away (the platform stopped, or its
 * window full under overload).
 *
 * Mosquitto 2.0 saves by writing its whole in-memory store to a new file (`mosquitto.db.new`,
 * then renamed) on its one thread: nothing is read, delivered or acknowledged meanwhile. The
 * shipped `autosave_interval` decides how often that happens; this measures what each save costs.
 *
 * For each size, in order: the fleet (200 devices, 10-sample messages, as the benches) publishes
 * into the away session's queue until the broker reports that many bytes stored
 * (`$SYS/broker/store/messages/bytes`, every second here), then the broker is told to save
 * (SIGUSR1; autosave is off in this run so only these saves happen). A probe client publishes
 * QoS 1 messages one after another throughout: the longest wait for a PUBACK around the save is
 * the pause gateways see. Also reported: the broker's CPU seconds for the save, the file's size,
 * the broker's RSS.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { Fleet } from './fleet.js';
import { statSync } from 'node:fs';
import { cpuUserSystem, loadAverage, rssMiB } from './proc-stats.js';
import { Workload } from './workload.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const sizesMiB = (process.argv[2] ?? '256,512,1024,2048').split(',').map(Number);
if (sizesMiB.some((s) => !(s > 0)) || sizesMiB.some((s, i) => i > 0 && s <= sizesMiB[i - 1]!)) throw new Error('usage: broker-save.ts [increasing queue sizes in MiB, e.g. 256,512,1024,2048]');

// Only the saves this run asks for; $SYS every second so the queue's size is known.
const mosquitto = await startMosquitto('autosave_interval 0\nsys_interval 1');
const pid = () => mosquitto.pid()!;

/** The broker's store, as it reports it. */
let storedBytes = 0;
const sys = await mqtt.connectAsync(mosquitto.url, { clientId: 'save-sys', clean: true });
sys.on('message', (_t, payload) => (storedBytes = Number(payload.toString())));
await sys.subscribeAsync('$SYS/broker/store/messages/bytes', { qos: 0 });

// The away session: a persistent subscriber to all telemetry that then leaves, as the platform does when stopped.
const away = await mqtt.connectAsync(mosquitto.url, { clientId: 'save-away', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
await away.subscribeAsync('pp/v1/#', { qos: 1 });
await away.endAsync();

/** Publishes one QoS 1 message after another; `longest()` is the longest wait for a PUBACK since the last call. */
class Probe {
  private longestMs = 0;
  private running = true;
  private readonly client: mqtt.MqttClient;
  private readonly done: Promise<void>;
  constructor(url: string) {
    this.client = mqtt.connect(url, { clientId: 'save-probe', clean: true, keepalive: 120 });
    this.done = new Promise<void>((resolve) => this.client.once('connect', () => resolve())).then(() => this.loop());
  }
  private async loop(): Promise<void> {
    while (this.running) {
      const t = performance.now();
      await this.client.publishAsync('probe/save', 'x', { qos: 1 });
      this.longestMs = Math.max(this.longestMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  longest(): number {
    const l = this.longestMs;
    this.longestMs = 0;
    return l;
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.client.endAsync();
  }
}

const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 }), mosquitto.url, 'save');
await fleet.connect();
const probe = new Probe(mosquitto.url);
const dbFile = join(mosquitto.dataDir, 'mosquitto.db');
say(`Mosquitto (shipped configuration, autosave off, saves on SIGUSR1), load ${loadAverage()}`);
say('| queue (MiB, as the broker reports it) | messages queued | broker RSS (MiB) | save: longest PUBACK wait (ms) | broker CPU for the save: user + system (s) | file (MiB) |');
say('|---:|---:|---:|---:|---:|---:|');
try {
  for (const mib of sizesMiB) {
    while (storedBytes < mib * 2 ** 20) {
      await fleet.run({ kind: 'rate', samplesPerS: 400_000 }, 500);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Settle, and see what a quiet broker's PUBACK wait is, then save.
    await new Promise((r) => setTimeout(r, 1500));
    const quietMs = probe.longest();
    const cpu0 = cpuUserSystem(pid());
    const before = statSafe(dbFile);
    process.kill(pid(), 'SIGUSR1');
    // The save is done when the file has been replaced and the broker answers promptly again.
    const t0 = performance.now();
    while (statSafe(dbFile) === before && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const pauseMs = probe.longest();
    const cpu1 = cpuUserSystem(pid());
    const size = statSync(dbFile).size / 2 ** 20;
    say(`| ${Math.round(storedBytes / 2 ** 20)} | ${(fleet.acked.messages).toLocaleString('en')} | ${Math.round(rssMiB(pid()).rss)} | ${Math.round(pauseMs).toLocaleString('en')} (quiet ${Math.round(quietMs)}) | ${(cpu1.user - cpu0.user).toFixed(2)} + ${(cpu1.system - cpu0.system).toFixed(2)} | ${Math.round(size)} |`);
  }
} finally {
  await probe.stop().catch(() => undefined);
  await fleet.stop().catch(() => undefined);
  await sys.endAsync().catch(() => undefined);
  await mosquitto.stop();
}
say(`load ${loadAverage()}`);

/** The file's mtime and size as one value (changes when the save replaces it); '' while there is none. */
function statSafe(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return '';
  }
}

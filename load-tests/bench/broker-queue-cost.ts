/**
 * `npx tsx load-tests/bench/broker-queue-cost.ts [samples/s] [seconds] [rounds]`: Mosquitto's
 * CPU per message while it queues every message for a persistent session that is away (what it
 * does for the platform during an outage, or under overload once the platform's window is full),
 * with its allocator as installed and with glibc asked for transparent huge pages
 * (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, glibc 2.35 and later), alternated round by round.
 *
 * A queue that grows tens of MB/s touches as many new pages: each first touch is a minor page
 * fault, kernel time charged to the broker. With huge pages (the kernel's
 * `transparent_hugepage/enabled` set to `madvise`, as Debian ships it, or `always`) one fault
 * maps 2 MiB instead of 4 KiB. Printed per round: messages/s the broker acknowledged, its CPU
 * (user and system, % of a core), CPU µs per message, minor faults/s and RSS at the end; then
 * the median µs per message of each variant. Defaults: 120,000 samples/s (12,000 10-sample
 * messages/s, about the overload's offer), 20 s, 2 rounds; 200 devices on 20 gateways.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { SUBSCRIPTION } from '../../src/sources/mqtt/index.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { Fleet } from './fleet.js';
import { cpuUserSystem, loadAverage, minorFaults, rssMiB } from './proc-stats.js';
import { median } from './stats.js';
import { Workload } from './workload.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const rate = Number(process.argv[2] ?? 120_000);
const seconds = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 2);
if (!(rate > 0) || !(seconds > 0) || !(Number.isInteger(rounds) && rounds >= 1)) throw new Error('usage: broker-queue-cost.ts [samples/s > 0] [seconds > 0] [rounds ≥ 1]');

const VARIANTS: Record<string, Record<string, string>> = { 'as installed': {}, 'hugetlb=1': { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } };

say(`transparent huge pages: ${readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').trim()}; ${rate.toLocaleString('en')} samples/s for ${seconds} s, ${rounds} rounds, load ${loadAverage()}`);
const perMessage: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
for (let r = 1; r <= rounds; r++) {
  for (const [name, env] of Object.entries(VARIANTS)) {
    const broker = await startMosquitto('', { env });
    try {
      // The away session: subscribed as the platform subscribes, then gone.
      const away = await mqtt.connectAsync(broker.url, { clientId: 'away', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
      await away.subscribeAsync(SUBSCRIPTION, { qos: 1 });
      await away.endAsync();
      const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 }), broker.url, `queue-${r}`);
      await fleet.connect();
      const pid = broker.pid()!;
      const cpu0 = cpuUserSystem(pid);
      const faults0 = minorFaults(pid);
      const m0 = fleet.acked.messages;
      const t0 = performance.now();
      await fleet.run({ kind: 'rate', samplesPerS: rate }, seconds * 1000);
      const s = (performance.now() - t0) / 1000;
      const cpu1 = cpuUserSystem(pid);
      const faults1 = minorFaults(pid);
      const messages = fleet.acked.messages - m0;
      const us = ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / messages) * 1e6;
      perMessage[name]!.push(us);
      say(
        `round ${r}, ${name}: ${Math.round(messages / s).toLocaleString('en')} messages/s, Mosquitto user ${Math.round(((cpu1.user - cpu0.user) / s) * 100)} % system ${Math.round(((cpu1.system - cpu0.system) / s) * 100)} %, ` +
          `${us.toFixed(2)} µs per message, ${Math.round((faults1 - faults0) / s).toLocaleString('en')} minor faults/s, RSS ${Math.round(rssMiB(pid).rss)} MiB, load ${loadAverage()}`,
      );
      await fleet.stop();
    } finally {
      await broker.stop();
    }
  }
}
const [plain, huge] = Object.keys(VARIANTS).map((k) => median(perMessage[k]!));
say(`median µs per message: ${Object.keys(VARIANTS)[0]} ${plain!.toFixed(2)}, ${Object.keys(VARIANTS)[1]} ${huge!.toFixed(2)} (×${(huge! / plain!).toFixed(2)})`);
process.exit(0);

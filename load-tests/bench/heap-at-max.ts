/**
 * `npx tsx load-tests/bench/heap-at-max.ts [samples per message] [overload]`: what the platform's
 * heap holds at its closed-loop maximum, or (`overload`) while twice that maximum is offered
 * (the maximum measured first, 10 s closed loop). Starts Mosquitto and influxd, the built platform with
 * `--heapsnapshot-signal=SIGUSR2`, drives it closed loop for 20 s with 200 devices (10 samples
 * per message by default), prints RSS, heap and queues every second, takes a heap snapshot
 * after 14 s (V8 collects garbage first: what remains is live), and prints the 25 largest kinds
 * of object in it. The snapshot stays in .tmp/heapsnap/. PP_* variables in its environment are
 * passed on to the platform (PP_HEAP_GROWTH_PERCENT=0: V8's own heap growth).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { Fleet } from './fleet.js';
import { buildPlatform, scrape, spawnBuiltPlatform } from './platform-process.js';
import { StoredCounter } from './platform-phases.js';
import { rssMiB } from './proc-stats.js';
import { Workload } from './workload.js';
import type { Pace } from './fleet.js';
import { atPeak, describe, memorySplitArgs, readMemorySplit } from './memory-split.js';

const dir = fileURLToPath(new URL('../../.tmp/heapsnap/', import.meta.url));
mkdirSync(dir, { recursive: true });
const say = (s: string) => process.stdout.write(`${s}\n`);

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size by kind (objects and closures by constructor name), largest first. */
function summarise(file: string, top: number): string[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const byKind = new Map<string, { n: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + iType]!]!;
    const kind = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${snap.strings[snap.nodes[i + iName]!]}` : type;
    const k = byKind.get(kind) ?? { n: 0, bytes: 0 };
    k.n++;
    k.bytes += snap.nodes[i + iSize]!;
    byKind.set(kind, k);
  }
  return [...byKind.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([kind, k]) => `${(k.bytes / 2 ** 20).toFixed(1).padStart(7)} MiB ${String(k.n).padStart(9)}  ${kind}`);
}

const overload = process.argv[3] === 'overload';
const memoryFile = join(dir, `memory-${process.pid}.jsonl`);
const ppEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PP_') && e[1] !== undefined));
const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto(), buildPlatform(say)]);
const platform = await spawnBuiltPlatform({ env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'heap', PP_AUTH: 'off', PP_MQTT_CLIENT_ID: 'pp-heap', ...ppEnv }, nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`, ...memorySplitArgs(memoryFile)] });
const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: Number(process.argv[2] ?? 10) }), mosquitto.url, 'heap');
const stored = new StoredCounter(platform.url);
try {
  say(`RSS after start: ${rssMiB(platform.pid).rss.toFixed(0)} MiB`);
  await fleet.connect();
  const names = ['pp_process_nodejs_heap_size_used_bytes', 'pp_process_nodejs_heap_size_total_bytes', 'pp_process_nodejs_external_memory_bytes', 'pp_write_queue_lines', 'pp_mqtt_inflight_messages'];
  const ticker = setInterval(() => {
    void scrape(platform.url, names).then((m) => {
      const mib = (v: number) => Math.round(v / 2 ** 20);
      say(`RSS ${mib(rssMiB(platform.pid).rss * 2 ** 20)} MiB, heap used/total ${mib(m.pp_process_nodejs_heap_size_used_bytes!)}/${mib(m.pp_process_nodejs_heap_size_total_bytes!)} MiB, external ${mib(m.pp_process_nodejs_external_memory_bytes!)} MiB, lines queued ${m.pp_write_queue_lines}, messages held ${m.pp_mqtt_inflight_messages}, stored ${stored.value}`);
    }, () => undefined);
  }, 1000);
  let snapped = false;
  let pace: Pace = { kind: 'window', consumed: () => stored.value, aheadSamples: 60_000 };
  if (overload) {
    const s0 = await stored.poll();
    const t0 = performance.now();
    await fleet.run(pace, 10_000);
    const max = (stored.value - s0) / ((performance.now() - t0) / 1000);
    while ((await stored.poll()) < fleet.published) await new Promise((r) => setTimeout(r, 100));
    say(`closed-loop maximum ${Math.round(max).toLocaleString('en')} samples/s; offering twice that`);
    pace = { kind: 'rate', samplesPerS: 2 * max };
  }
  const memoryFrom = readMemorySplit(memoryFile).at(-1)?.t ?? 0;
  await fleet.run(pace, 20_000, (elapsed) => {
    if (!snapped && elapsed > 14_000) {
      snapped = true;
      const before = atPeak(readMemorySplit(memoryFile), memoryFrom);
      if (before) say(`peak before the snapshot: ${describe(before)}`);
      process.kill(platform.pid, 'SIGUSR2');
    }
  });
  clearInterval(ticker);
  await new Promise((r) => setTimeout(r, 3000)); // the snapshot is written by then
} finally {
  stored.stop();
  await fleet.stop().catch(() => undefined);
  await platform.stop();
  await Promise.all([mosquitto.stop(), influx.stop()]);
}
const file = readdirSync(dir)
  .filter((f) => f.endsWith('.heapsnapshot'))
  .map((f) => join(dir, f))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
if (!file) throw new Error('no heap snapshot written');
say(`heap snapshot ${file} (${(statSync(file).size / 2 ** 20).toFixed(0)} MiB); largest kinds, live after GC:`);
for (const line of summarise(file, 25)) say(line);
process.exit(0);

/**
 * `npx tsx load-tests/bench/fleet-cpu.ts --baseline DIR [--seconds 5] [--rounds 3] [--phases
 * 1:12000,10:4000] [--warmup 0]`: the load generator's CPU per message, this tree's fleet
 * (fleet.ts and what it uses) beside another checkout's (DIR, e.g. a worktree of an earlier
 * revision), in this process, alternated round by round, against one Mosquitto (shipped
 * configuration, no subscriber). Each round offers the
 * 200-device fleet open loop at the same rate to both, per phase `samples:messages/s` (by
 * default 12,000 1-sample messages/s, then 4,000 10-sample messages/s; `--phases 10:18000` is
 * about the overload's offer, twice the 10-sample closed loop). `--warmup S` first runs each tree
 * S seconds per phase, not counted (the first round otherwise includes compiling the code). What
 * is counted is this process's CPU (user + system, all threads: the socket writes and PUBACK reads
 * included) per message the broker acknowledged, and beside it Mosquitto's CPU per message (how
 * the generator writes its packets changes how the broker reads them: both are the offer's cost).
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMosquitto } from '../../test/support/mosquitto.js';
import type { Fleet } from './fleet.js';
import { cpuSeconds, loadAverage } from './proc-stats.js';
import { median } from './stats.js';
import type { Workload, WorkloadShape } from './workload.js';
import { argOf } from './cli-args.js';

const argv = process.argv.slice(2);
const arg = argOf(argv);
const baselineDir = arg('--baseline');
const usage = 'usage: fleet-cpu.ts --baseline DIR [--seconds 5] [--rounds 3] [--phases 1:12000,10:4000] [--warmup 0]';
if (!baselineDir) throw new Error(usage);
const seconds = Number(arg('--seconds', '5'));
const rounds = Number(arg('--rounds', '3'));
const warmup = Number(arg('--warmup', '0'));
const phases = arg('--phases', '1:12000,10:4000')!
  .split(',')
  .map((p) => p.split(':').map(Number) as [number, number]);
if (!(seconds > 0) || !(rounds >= 1) || !(warmup >= 0) || phases.some(([per, rate]) => !(Number.isInteger(per) && per >= 1 && rate > 0))) throw new Error(usage);
const say = (s: string) => process.stdout.write(`${s}\n`);

interface Tree {
  label: string;
  Fleet: new (workload: Workload, brokerUrl: string, clientPrefix: string) => Fleet;
  Workload: new (shape: WorkloadShape) => Workload;
}
async function tree(label: string, dir: string): Promise<Tree> {
  const load = async (f: string) => (await import(pathToFileURL(join(dir, 'load-tests', 'bench', f)).href)) as Record<string, unknown>;
  return { label, Fleet: (await load('fleet.ts')).Fleet as Tree['Fleet'], Workload: (await load('workload.ts')).Workload as Tree['Workload'] };
}
const trees = [await tree('current', resolve(import.meta.dirname, '..', '..')), await tree(baselineDir, resolve(baselineDir))];

const mosquitto = await startMosquitto();
const us = new Map<string, number[]>();
/** Mosquitto's CPU per acknowledged message, µs, by the same keys. */
const brokerUs = new Map<string, number[]>();
try {
  say(`the fleet's CPU per acknowledged message, this tree vs ${baselineDir}, ${seconds} s per run, ${rounds} rounds, load average ${loadAverage()}`);
  const offer = async (t: Tree, per: number, messagesPerS: number, prefix: string, ms: number) => {
    const fleet = new t.Fleet(new t.Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: per }), mosquitto.url, prefix);
    await fleet.connect();
    const brokerPid = mosquitto.pid()!;
    const cpu0 = process.cpuUsage();
    const broker0 = cpuSeconds(brokerPid);
    const got = await fleet.run({ kind: 'rate', samplesPerS: messagesPerS * per }, ms);
    const cpu = process.cpuUsage(cpu0);
    const broker = cpuSeconds(brokerPid) - broker0;
    await fleet.stop();
    return { fleet: (cpu.user + cpu.system) / got.messages, broker: (broker * 1e6) / got.messages };
  };
  if (warmup > 0) for (const [per, messagesPerS] of phases) for (const [k, t] of trees.entries()) await offer(t, per, messagesPerS, `fc-warm-${per}-${k}`, warmup * 1000);
  for (let r = 0; r < rounds; r++) {
    for (const [per, messagesPerS] of phases) {
      for (const [k, t] of (r % 2 === 0 ? trees : [...trees].reverse()).entries()) {
        const key = `${per}-sample ${t.label}`;
        const got = await offer(t, per, messagesPerS, `fc-${r}-${per}-${k}`, seconds * 1000);
        us.set(key, [...(us.get(key) ?? []), got.fleet]);
        brokerUs.set(key, [...(brokerUs.get(key) ?? []), got.broker]);
      }
    }
    say(`  round ${r + 1} done, load average ${loadAverage()}`);
  }
  for (const [per, messagesPerS] of phases) {
    const [cur, base] = trees.map((t) => us.get(`${per}-sample ${t.label}`)!);
    const [bCur, bBase] = trees.map((t) => brokerUs.get(`${per}-sample ${t.label}`)!);
    say(
      `${per}-sample messages at ${messagesPerS.toLocaleString('en')}/s: current ${median(cur!).toFixed(2)} µs per message [${cur!.map((x) => x.toFixed(2)).join(' ')}], ${baselineDir} ${median(base!).toFixed(2)} [${base!.map((x) => x.toFixed(2)).join(' ')}]; ×${(median(cur!) / median(base!)).toFixed(2)}; per sample ${(median(cur!) / per).toFixed(3)} against ${(median(base!) / per).toFixed(3)} µs; Mosquitto ${median(bCur!).toFixed(2)} [${bCur!.map((x) => x.toFixed(2)).join(' ')}] against ${median(bBase!).toFixed(2)} [${bBase!.map((x) => x.toFixed(2)).join(' ')}] µs per message (×${(median(bCur!) / median(bBase!)).toFixed(2)}); fleet + Mosquitto ×${((median(cur!) + median(bCur!)) / (median(base!) + median(bBase!))).toFixed(2)}`,
    );
  }
  say(`load average at the end ${loadAverage()}`);
} finally {
  await mosquitto.stop();
}
process.exit(0);

/** The backpressure phase (backpressure.ts) as markdown: this tree beside the baseline revision. */
import type { BackpressureResult, ClosedLoop, VariantResult } from './backpressure.js';
import { median } from './stats.js';
import { describe } from './memory-split.js';

/** A reference point measured once on this machine, not by this bench (no Node-RED here). */
const NODE_RED = { samplesPerS: 25_000, rssMiB: 264 };

const n = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : '–');

function closed(runs: ClosedLoop[]): string {
  if (runs.length === 0) return '–';
  const pick = (f: (c: ClosedLoop) => number) => median(runs.map(f));
  return `${n(pick((c) => c.samplesPerS))} samples/s, ${pick((c) => c.cpuUsPerSample).toFixed(1)} µs CPU/sample, peak RSS ${n(pick((c) => c.peakRssMiB))} MiB, in flight ≤ ${n(Math.max(...runs.map((c) => c.peakInflight)))}`;
}

const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} %` : '–');

/** One closed loop's CPU split, medians over its repetitions: which process, the machine or the platform's thread is the limit; null when it did not run (`--only-overload`). */
function splitRow(label: string, shape: string, runs: ClosedLoop[]): string | null {
  if (runs.length === 0) return null;
  const pick = (f: (c: ClosedLoop) => number) => median(runs.map(f).filter(Number.isFinite));
  const c = (k: string) => pct(pick((r) => r.split.cpuPct[k]!));
  // All four processes' CPU per stored sample, and the rate two fully busy cores would allow at it.
  const usPerSample = pick((r) => (r.split.oursPct / 100) * 1e6 / r.samplesPerS);
  return `| ${label} | ${shape} | ${c('platform')} | ${c('mosquitto')} | ${c('influxd')} | ${c('generator')} | ${pct(pick((r) => r.split.oursPct))} (${usPerSample.toFixed(1)} µs/sample: ≤ ${n(2e6 / usPerSample)} samples/s on 2 cores) | ${pct(pick((r) => r.split.machinePct))} | ${pct(pick((r) => r.split.loopBusyPct))} | ${pct(pick((r) => r.split.threadRunPct))} | ${pct(pick((r) => r.split.threadWaitPct))} |`;
}

/** How long the overload's backlog may take to drain before the run says it did not. */
export const OVERLOAD_DRAIN_TIMEOUT_MS = 180_000;

/** A drained overload says what was lost (counted in InfluxDB); one that did not drain in time cannot tell lost from still queued. */
export const drainedOrLost = (o: { drainMs: number; published: number; inInfluxDb: number }) => {
  const missing = Math.max(0, o.published - o.inInfluxDb).toLocaleString('en');
  return o.drainMs < 0 ? `not drained within ${OVERLOAD_DRAIN_TIMEOUT_MS / 1000} s (${missing} not yet in InfluxDB)` : `drained in ${o.drainMs.toLocaleString('en')} ms, lost ${missing} (counted in InfluxDB)`;
};

/** What the broker dropped past its queue limit, as the platform reported it (a tree without that report: unknown). */
export const brokerDrops = (dropped: number) => (Number.isFinite(dropped) ? `the broker dropped ${dropped.toLocaleString('en')}` : 'broker drops not reported by this tree');

/** The overload target: the stored rate stays at ≥ 90 % of the closed-loop maximum. */
export const overloadVerdict = (ofMaximum: number) => `${Math.round(ofMaximum * 100)} % of its max: ${ofMaximum >= 0.9 ? 'steady (≥ 90 %)' : 'below the 90 % target'}`;

function row(label: string, v: VariantResult): string[] {
  const o = v.overload;
  const b = v.backlog;
  return [
    `| ${label} (${v.rev}) | ${n(v.idleRssMiB)} MiB | ${closed(v.closed10)} | ${closed(v.closed1)} | ${o ? `${n(o.storedSamplesPerS)} samples/s of ${n(o.offeredSamplesPerS)} offered (${overloadVerdict(o.ofMaximum)}), peak RSS ${n(o.peakRssMiB)} MiB, in flight ≤ ${n(o.peakInflight)}, CPU platform ${n(o.cpuPct.platform!)} % / Mosquitto ${n(o.cpuPct.mosquitto!)} % / influxd ${n(o.cpuPct.influxd ?? Number.NaN)} % / fleet ${n(o.cpuPct.harness!)} %, fleet sent ${n(o.publishedSamplesPerS)} samples/s, Mosquitto's RSS ≤ ${n(o.brokerPeakRssMiB)} MiB, ${brokerDrops(o.brokerDropped)}, ${n(o.writes.count)} writes of ${n(o.writes.meanLines)} lines in ${n(o.writes.meanMs)} ms on average (${n(o.writes.retries)} retried), ${drainedOrLost(o)}${o.memoryAtPeak ? `; at the peak ${describe(o.memoryAtPeak)}` : ''}` : '–'} | ${b ? `${b.failure || `${n(b.samplesPerS)} samples/s (${b.catchUpS} s)`}, peak RSS ${n(b.peakRssMiB)} MiB, stored ${n(b.stored)} of ${n(b.samples)}` : '–'} |`,
  ];
}

export function backpressureMarkdown(r: BackpressureResult): string[] {
  const o = r.options;
  const cur10 = median(r.current.closed10.map((c) => c.samplesPerS));
  const best = r.influx.best.samplesPerS;
  return [
    '',
    `## Backpressure and memory, side by side with ${r.baseline.rev} (load average ${r.loadAvg.start} → ${r.loadAvg.end})`,
    '',
    `Each variant: its own Mosquitto (shipped configuration) and platform process (built, PP_AUTH=off, receive-maximum ${o.receiveMaximum ?? `its tree's default (this tree ${r.current.window}, baseline ${r.baseline.window})`}, batches of ${o.batchLines} lines), one influxd; 200 devices in 20 gateways. Closed loop ${o.closedLoopMs / 1000} s (first ${o.warmupMs / 1000} s left out), ${o.repetitions} interleaved repetition${o.repetitions > 1 ? 's' : ''}, medians; overload: twice the variant's best 10-sample closed-loop rate offered for ${o.overloadMs / 1000} s; backlog: ${n(o.backlogSamples)} samples (10 per message) queued while the platform was stopped, then caught up (counted in InfluxDB).`,
    '',
    '| variant | RSS idle | closed loop, 10 samples/message | closed loop, 1 sample/message | overload (10 samples/message) | backlog catch-up |',
    '|---|---:|---|---|---|---|',
    ...row('now', r.current),
    ...row('before', r.baseline),
    '',
    `Closed-loop speed-up (now ÷ before): ×${r.speedup.closed10.toFixed(2)} with 10-sample messages${o.onlyOverload ? ' (`--only-overload`: no 1-sample closed loop, no backlog, no InfluxDB alone)' : `, ×${r.speedup.closed1.toFixed(2)} with 1-sample messages`}.${Object.keys(o.currentEnv ?? {}).length > 0 ? ` This tree's platform ran with ${Object.entries(o.currentEnv).map(([k, v]) => `${k}=${v}`).join(', ')}.` : ''}`,
    '',
    'What limits each closed loop (medians over the window): CPU of each process in % of one core (/proc/<pid>/stat; the generator is this harness: the fleet and its polls), their sum, the whole machine in % of its cores (other work included; 200 % = two cores busy), and the platform\'s JavaScript thread: busy (event-loop utilisation, from `pp_process_event_loop_active_seconds_total`; – where the revision has no such metric), on a CPU and runnable but waiting for a CPU (/proc/<pid>/task/<pid>/schedstat).',
    '',
    '| variant | messages | platform | Mosquitto | influxd | generator | sum | machine | thread busy | thread on CPU | thread waiting for CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[r.current, r.baseline].flatMap((v) => [splitRow(`${v.label} (${v.rev})`, '10 samples', v.closed10), splitRow(`${v.label} (${v.rev})`, '1 sample', v.closed1)].filter((row) => row !== null)),
    ...[r.current, r.baseline].flatMap((v) => {
      const line = overloadShift(v);
      return line ? ['', line] : [];
    }),
    ...(o.onlyOverload ? [] : ['', influxLine(r, cur10, best)]),
  ];
}

/**
 * Where the overload's stored rate went, against the 10-sample closed loop (CPU medians): what the
 * offer's own processes (the fleet, Mosquitto) took in addition, and what was left to the
 * processes that store (the platform, influxd). On one machine the second falls by the first,
 * and the stored share follows it (docs/performance.md, Overload).
 */
export function overloadShift(v: VariantResult): string | null {
  const o = v.overload;
  if (!o || v.closed10.length === 0) return null;
  const closedPct = (k: string) => median(v.closed10.map((c) => c.split.cpuPct[k]!).filter(Number.isFinite));
  const offerClosed = closedPct('generator') + closedPct('mosquitto');
  const offerOver = o.cpuPct.harness! + o.cpuPct.mosquitto!;
  const storeClosed = closedPct('platform') + closedPct('influxd');
  const storeOver = o.cpuPct.platform! + (o.cpuPct.influxd ?? Number.NaN);
  return `Under the overload, ${v.label} (${v.rev}): the offer's own processes (fleet and Mosquitto) took ${pct(offerOver)} of a core against ${pct(offerClosed)} in the closed loop; the platform and influxd ${pct(storeOver)} against ${pct(storeClosed)} (×${(storeOver / storeClosed).toFixed(2)}), and stored ${pct(o.ofMaximum * 100)} of the maximum.`;
}

function influxLine(r: BackpressureResult, cur10: number, best: number): string {
  return [
    `InfluxDB alone: ${n(r.influx.platformConcurrency.samplesPerS)} samples/s at the platform's concurrency (${r.influx.platformConcurrency.writers} writer${r.influx.platformConcurrency.writers > 1 ? 's' : ''}, ${n(r.influx.platformConcurrency.batchLines)}-line batches); ${n(best)} samples/s at its best here (of 1, 2 and 4 writers: ${r.influx.best.writers} writer${r.influx.best.writers > 1 ? 's' : ''}, ${n(r.influx.best.batchLines)}-line batches). The platform's 10-sample maximum is ${Math.round((cur10 / best) * 100)} % of the best and ${Math.round((cur10 / r.influx.platformConcurrency.samplesPerS) * 100)} % of InfluxDB at the platform's concurrency (measured minutes apart on a shared machine: InfluxDB's figures move too).`,
    `For comparison, Node-RED with node-red-contrib-influxdb stored ${n(NODE_RED.samplesPerS)} samples/s without loss at ${NODE_RED.rssMiB} MiB on this machine (measured once by hand, not by this bench).`,
  ].join('\n');
}

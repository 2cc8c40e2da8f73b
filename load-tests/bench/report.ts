/** The bench's results: one JSON document and a markdown summary in load-tests/results/. */
import { mkdir, writeFile } from 'node:fs/promises';
import type { BackpressureResult } from './backpressure.js';
import { backpressureMarkdown } from './backpressure-report.js';
import type { MicroResult } from './micro.js';
import type { BenchOptions } from './options.js';
import type { SaturationResult, StepResult } from './platform-phases.js';
import type { RateMeasure } from './limits.js';
import type { SelfTime } from './profile-summary.js';
import type { ScaleResult } from './scale.js';

export interface MemoryResult {
  devices: number;
  rulesPerDevice: number;
  bytesPerDevice: { analyticsAndAlerts: number; liveLatestValues: number; total: number };
}

export interface BenchResults {
  date: string;
  node: string;
  mode: BenchOptions['mode'];
  command: string;
  machine: { cores: number; loadAvgAtStart: number; loadAvgAtEnd?: number };
  fleet: BenchOptions['fleet'] & { devices: number; gateways: number; payloadBytes: number };
  /** Per repetition, interleaved; medians below. */
  repetitions: { broker: RateMeasure; influx: RateMeasure & { batches: number; countedInInflux: number }; platform: SaturationResult }[];
  median: { brokerSamplesPerS: number; influxSamplesPerS: number; platformSamplesPerS: number; platformMessagesPerS: number; limitSamplesPerS: number; limitBy: 'broker' | 'influxdb'; ratio: number; ratioPerRepetition: number[] };
  ramp: StepResult[];
  /** Highest ramp step the platform kept up with. */
  sustained: { samplesPerS: number; messagesPerS: number; fraction: number; ratioToLimit: number } | null;
  halfRate: StepResult | null;
  zeroLoss: { published: number; storedInInflux: number; lost: number };
  platform: { peakRssMiB: number; startRssMiB: number };
  memory: MemoryResult | null;
  /** The harness's webhook receiver (subscription created through the API with the admin token). */
  webhook?: { subscriptionId: string; requests: number; badSignatures: number; byEventAndRule?: Record<string, number> } | null;
  /** Several instances on one shared subscription (scale.ts); absent with --no-scale. */
  scale?: ScaleResult | null;
  micro?: MicroResult;
  /** Backpressure and memory beside a baseline revision (`--baseline-rev`). */
  backpressure?: BackpressureResult;
  profile?: { file: string; note: string; top: SelfTime[] };
  notes: string[];
}

const n = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : '–');
const pct = (v: number) => `${(v * 100).toFixed(0)} %`;

export function markdown(r: BenchResults): string {
  const m = r.median;
  const h = r.halfRate;
  const lat = h?.latencyMs;
  const al = h?.alertLatencyMs;
  const wh = h?.webhookLatencyMs;
  const lines = [
    `# PlantPulse bench (${r.mode}) — ${r.date}`,
    '',
    `Command: \`${r.command}\`. Node ${r.node}, ${r.machine.cores} cores, load average ${r.machine.loadAvgAtStart} at start${r.machine.loadAvgAtEnd !== undefined ? `, ${r.machine.loadAvgAtEnd} at the end` : ''}.`,
    `Fleet: ${r.fleet.gateways} gateways (MQTT 5, QoS 1), ${n(r.fleet.devices)} simulated machines, ${r.fleet.samplesPerMessage} samples per message (${n(r.fleet.payloadBytes)} bytes).`,
    '',
    '| measure | value |',
    '|---|---|',
    `| platform max rate, stored in InfluxDB (median of ${r.repetitions.length}) | ${n(m.platformSamplesPerS)} samples/s (${n(m.platformMessagesPerS)} messages/s) |`,
    `| broker alone (Mosquitto, same fleet, one counting subscriber) | ${n(m.brokerSamplesPerS)} samples/s |`,
    `| InfluxDB alone (same points, ${r.repetitions[0]?.influx ? 'batches of the platform, 1 in flight' : ''}) | ${n(m.influxSamplesPerS)} samples/s |`,
    `| platform ÷ slower limit (${m.limitBy}) | **${pct(m.ratio)}** (per repetition: ${m.ratioPerRepetition.map(pct).join(', ')}) |`,
    `| sustained (highest ramp step kept up) | ${r.sustained ? `${n(r.sustained.samplesPerS)} samples/s (${n(r.sustained.messagesPerS)} messages/s), ${pct(r.sustained.ratioToLimit)} of the limit` : 'none'} |`,
    `| end-to-end latency at half rate (${h ? n(h.storedSamplesPerS) : '–'} samples/s), sample ts → live WebSocket | p50 ${n(lat?.p50 ?? NaN)} ms, p95 ${n(lat?.p95 ?? NaN)} ms, p99 ${n(lat?.p99 ?? NaN)} ms (${lat?.n ?? 0} updates) |`,
    `| alert latency at half rate, fault sample ts → alert on MQTT | ${al ? `p50 ${n(al.p50)} ms, p95 ${n(al.p95)} ms, max ${n(al.max)} ms (${al.n} of ${al.injected})` : '–'} |`,
    `| alert latency at half rate, fault sample ts → signed webhook received (HTTP) | ${wh ? `p50 ${n(wh.p50)} ms, p95 ${n(wh.p95)} ms, max ${n(wh.max)} ms (${wh.n} of ${wh.injected}${wh.badSignatures ? `, ${wh.badSignatures} bad signatures` : ''})` : '–'} |`,
    `| platform CPU at max rate / at half rate | ${r.repetitions.length ? `${median(r.repetitions.map((x) => x.platform.usage.cpuPct.platform!)).toFixed(0)} %` : '–'} / ${h ? `${h.usage.cpuPct.platform!.toFixed(0)} %` : '–'} of one core |`,
    `| platform peak RSS | ${r.platform.peakRssMiB.toFixed(0)} MiB (${r.platform.startRssMiB.toFixed(0)} MiB after start) |`,
    `| memory per tracked device (${n(r.memory?.devices ?? NaN)} devices, ${r.memory?.rulesPerDevice ?? '–'} rules each) | ${r.memory ? `${n(r.memory.bytesPerDevice.total)} bytes (analytics + alerts ${n(r.memory.bytesPerDevice.analyticsAndAlerts)}, live values ${n(r.memory.bytesPerDevice.liveLatestValues)})` : '–'} |`,
    `| zero loss | published ${n(r.zeroLoss.published)}, in InfluxDB ${n(r.zeroLoss.storedInInflux)}, lost ${n(r.zeroLoss.lost)} |`,
    '',
    '## Ramp (open loop, fractions of the platform max rate)',
    '',
    '| step | offered | stored samples/s | messages/s | kept up | drain | latency p50 / p95 / p99 | platform CPU | machine busy (of 200 %) | peak RSS |',
    '|---:|---:|---:|---:|---|---:|---|---:|---:|---:|',
    ...r.ramp.map(
      (s) =>
        `| ${pct(s.fraction)} | ${n(s.offeredSamplesPerS)} | ${n(s.storedSamplesPerS)} | ${n(s.storedMessagesPerS)} | ${s.keptUp ? 'yes' : 'no'} | ${s.drainMs < 0 ? '> 30 s' : `${n(s.drainMs)} ms`} | ${n(s.latencyMs.p50)} / ${n(s.latencyMs.p95)} / ${n(s.latencyMs.p99)} ms | ${s.usage.cpuPct.platform!.toFixed(0)} % | ${s.usage.machinePct.toFixed(0)} % | ${s.peakRssMiB.toFixed(0)} MiB |`,
    ),
    '',
    '## Saturation runs (interleaved)',
    '',
    '| # | broker samples/s | InfluxDB samples/s | platform samples/s | ratio | platform CPU | mosquitto CPU | influxd CPU | other load (of 200 %) | mean write batch |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.repetitions.map(
      (x, i) =>
        `| ${i + 1} | ${n(x.broker.samplesPerS)} | ${n(x.influx.samplesPerS)} | ${n(x.platform.samplesPerS)} | ${pct(m.ratioPerRepetition[i]!)} | ${x.platform.usage.cpuPct.platform!.toFixed(0)} % | ${x.platform.usage.cpuPct.mosquitto!.toFixed(0)} % | ${x.platform.usage.cpuPct.influxd!.toFixed(0)} % | ${x.platform.usage.otherPct.toFixed(0)} % | ${n(x.platform.meanBatchLines)} lines |`,
    ),
  ];
  if (r.scale) lines.push(...scaleMarkdown(r.scale, r.machine.cores));
  if (r.backpressure) lines.push(...backpressureMarkdown(r.backpressure));
  if (r.micro) {
    const mi = r.micro;
    lines.push('', `## Hot path in-process (samples/s, median of ${mi.rounds} rounds${mi.baseline ? `, vs ${mi.baseline.rev}` : ''})`, '', '| stage | now | ' + (mi.baseline ? 'baseline | speed-up |' : ''), mi.baseline ? '|---|---:|---:|---:|' : '|---|---:|');
    for (const s of ['decode', 'analytics', 'lineProtocol', 'all'] as const) lines.push(`| ${s} | ${n(mi.current[s])} | ${mi.baseline ? `${n(mi.baseline[s])} | ×${mi.speedup![s].toFixed(2)} |` : ''}`);
  }
  if (r.profile) {
    lines.push('', `## Platform CPU profile (${r.profile.note})`, '', `${r.profile.file}`, '', '| self | function | where |', '|---:|---|---|', ...r.profile.top.map((f) => `| ${f.pct.toFixed(1)} % | \`${f.fn}\` | ${f.where} |`));
  }
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((x) => `- ${x}`));
  return `${lines.join('\n')}\n`;
}

function scaleMarkdown(s: ScaleResult, cores: number): string[] {
  const o = s.options;
  const inf = s.influxAloneMedian.map((w) => `${n(w.samplesPerS)} samples/s with ${w.writers} writer${w.writers > 1 ? 's' : ''}`).join(', ');
  const out = [
    '',
    `## Horizontal scale (${o.instances.join(', ')} instances on one shared subscription, one InfluxDB; median of ${o.repetitions})`,
    '',
    `Each: a fresh Mosquitto, the instances as separate processes (own client id, data dir, HTTP port), \`PP_MQTT_SHARED_GROUP=pp-bench\`, one database in the same influxd; the fleet warmed up, then ${n(o.fixedSamplesPerS)} samples/s offered for ${o.fixedMs / 1000} s (open loop), then closed loop at the maximum for ${o.durationMs / 1000} s (the first ${o.warmupMs / 1000} s left out). InfluxDB alone (medians): ${inf}.`,
    '',
    `| instances | stored at ${n(o.fixedSamplesPerS)}/s offered | kept up | platforms CPU there | max stored samples/s | × one instance (per repetition) | platforms CPU | influxd CPU | mosquitto CPU | fleet (harness) CPU | machine busy (of ${cores * 100} %) | other load | load avg | acked | lost | duplicates |`,
    '|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...s.summary.map(
      (x) =>
        `| ${x.instances} | ${x.fixed ? n(x.fixed.storedSamplesPerS) : '–'} | ${x.fixed ? `${x.fixed.keptUp} of ${x.fixed.of}` : '–'} | ${x.fixed ? `${x.fixed.platformsCpuPct.toFixed(0)} %` : '–'} | ${n(x.samplesPerS)} | ×${x.vsOne.toFixed(2)} (${x.ratioPerRepetition.map((v) => v.toFixed(2)).join(', ')}) | ${x.platformsCpuPct.toFixed(0)} % | ${x.influxdCpuPct.toFixed(0)} % | ${x.mosquittoCpuPct.toFixed(0)} % | ${x.harnessCpuPct.toFixed(0)} % | ${x.machinePct.toFixed(0)} % | ${x.otherPct.toFixed(0)} % | ${x.loadAvg1.toFixed(1)} | ${n(x.acked)} | ${n(x.lost)} | ${n(x.duplicates)} |`,
    ),
    '',
    'Limit at the maximum (from the medians):',
    '',
    ...s.summary.map((x) => `- ${x.instances} instance${x.instances > 1 ? 's' : ''}: **${x.bottleneck.limit}**: ${x.bottleneck.why}`),
    '',
    `Lost: every sample the broker acknowledged counted in InfluxDB (\`count(power_kw)\`); duplicates: samples the instances stored beyond the distinct (series, timestamp) points in InfluxDB. Over all ${s.measures.length} measurements: ${n(s.lost)} lost, ${n(s.duplicates)} duplicated${s.unexpected ? `, ${n(s.unexpected)} unexpected points` : ''}.`,
  ];
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export async function writeResults(r: BenchResults, name: string): Promise<{ json: string; md: string }> {
  const dir = new URL('../results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const json = new URL(`${name}.json`, dir);
  const md = new URL(`${name}.md`, dir);
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(md, markdown(r));
  return { json: `load-tests/results/${name}.json`, md: `load-tests/results/${name}.md` };
}

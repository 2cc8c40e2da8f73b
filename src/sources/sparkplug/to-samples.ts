import type { Rejection, Sample } from '../../contract/index.js';
import { numericValue, type SkipReason } from './datatypes.js';
import type { MetricDefinition } from './birth-certificate.js';
import type { SparkplugMetric } from './payload-codec.js';
import { convert } from './units.js';

export interface ConvertedMetrics {
  /** Samples for live processing, one per distinct timestamp. */
  live: Sample[];
  /** `is_historical` samples (store-and-forward backfill): stored, kept out of live alerting. */
  historical: Sample[];
  /** Metric-level problems (unmappable names, aliases the birth did not define). */
  rejections: Rejection[];
  /** Metrics that are not telemetry, by reason. */
  skipped: Map<SkipReason, number>;
  /** Metrics whose alias or name is not in the birth: the platform needs a rebirth. */
  undefinedMetrics: number;
}

/**
 * Sparkplug metrics → PlantPulse samples. Metrics carry their own timestamps (report by
 * exception), so the message becomes one sample per distinct timestamp, live and historical
 * apart. `is_null` and non-finite values become bad readings (the sample's `bad` list), never
 * numbers. Nothing is validated against the contract here: the caller runs the result through
 * the contract's decoder, like every other source.
 */
export function metricsToSamples(
  metrics: readonly SparkplugMetric[],
  /** The metric's definition; undefined: not in the birth; 'ignore': a faulty birth metric, reported already. */
  definitionOf: (m: SparkplugMetric, index: number) => MetricDefinition | 'ignore' | undefined,
  defaultTs: number,
  birthName: string,
): ConvertedMetrics {
  const out: ConvertedMetrics = { live: [], historical: [], rejections: [], skipped: new Map(), undefinedMetrics: 0 };
  const buckets = new Map<string, Sample>();
  const skip = (reason: SkipReason) => out.skipped.set(reason, (out.skipped.get(reason) ?? 0) + 1);

  metrics.forEach((m, index) => {
    const def = definitionOf(m, index);
    if (def === 'ignore') return;
    if (!def) {
      out.undefinedMetrics++;
      const what = m.alias !== undefined ? `alias ${m.alias}${m.name ? ` (${JSON.stringify(m.name)})` : ''}` : `name ${JSON.stringify(m.name ?? '')}`;
      out.rejections.push({ code: 'PP_ERR_SPARKPLUG_NO_BIRTH', path: `metrics[${index}]`, reason: `metric ${what} is not in the ${birthName}; a rebirth was requested` });
      return;
    }
    if (def.rejection) {
      out.rejections.push({ code: 'PP_ERR_INVALID_METRIC_NAME', path: `metrics[${index}]`, reason: def.rejection });
      return;
    }
    if (def.skip) return skip(def.skip);
    if (m.isTransient) return skip('transient'); // the spec: transient values are not to be historised
    const target = def.target!;
    let value: number | null = null;
    if (!m.isNull) {
      const numeric = numericValue(def.datatype, m.value);
      if (!numeric.ok) return skip(numeric.skip);
      value = convert(numeric.value, target.conversion);
    }
    const ts = m.timestamp ?? defaultTs;
    const key = `${m.isHistorical ? 'h' : 'l'}${ts}`;
    let sample = buckets.get(key);
    if (!sample) {
      sample = { ts, m: {} };
      buckets.set(key, sample);
      (m.isHistorical ? out.historical : out.live).push(sample);
    }
    if (value !== null && Number.isFinite(value)) {
      sample.m[target.name] = value;
      if (sample.bad) sample.bad = sample.bad.filter((b) => b !== target.name);
    } else {
      // is_null, NaN or ±Infinity: a reading that failed, reported as such and never as a number.
      delete sample.m[target.name];
      sample.bad = [...new Set([...(sample.bad ?? []), target.name])];
    }
  });
  for (const list of [out.live, out.historical]) {
    list.sort((a, b) => a.ts - b.ts);
    for (const s of list) if (s.bad?.length === 0) delete s.bad;
  }
  return out;
}

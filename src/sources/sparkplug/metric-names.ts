import { createHash } from 'node:crypto';
import { isKnownMetric, METRIC_CATALOGUE, METRIC_NAME_PATTERN } from '../../contract/index.js';
import { IDENTITY, isIdentity, unitConversion, type UnitConversion } from './units.js';

/**
 * Sparkplug metric names (`Meter/Energy`, `Line 1/Power`) → PlantPulse metric names
 * (`[A-Za-z][A-Za-z0-9_]{0,63}`): first the configured mapping (`Power: power_kw`), otherwise a
 * normalisation. Decided once per metric at birth, never per data message.
 */

/**
 * Lower case; every run of other characters than a–z and 0–9 becomes one `_`; no leading or
 * trailing `_`; a leading digit gets `m_`; longer than 64 characters: cut to 55 plus `_` and 8
 * hex digits of a hash of the whole name (so two long names stay apart). Null when nothing is
 * left (e.g. names written only in Chinese characters: map them in the mapping file).
 */
export function normaliseMetricName(sparkplugName: string): string | null {
  let name = sparkplugName.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (name === '') return null;
  if (/^[0-9]/.test(name)) name = `m_${name}`;
  if (name.length > 64) name = `${name.slice(0, 55)}_${createHash('sha256').update(sparkplugName).digest('hex').slice(0, 8)}`;
  return name;
}

export type ResolvedMetric =
  | {
      ok: true;
      name: string;
      /** Applied to every value (unit conversion to the catalogue's unit); identity when none. */
      conversion: UnitConversion;
      /** True when the name came from the configured mapping. */
      mapped: boolean;
      /** Worth a line in the log: a unit converted. */
      note?: string;
      /** Needs an operator: a unit that could not be converted, so the catalogue name was not used. */
      warning?: string;
    }
  | { ok: false; reason: string };

export class MetricNameMapper {
  constructor(private readonly configured: Readonly<Record<string, string>> = {}) {
    for (const [from, to] of Object.entries(configured)) {
      if (!METRIC_NAME_PATTERN.test(to)) throw new Error(`metric mapping ${JSON.stringify(from)} → ${JSON.stringify(to)}: target must match ${METRIC_NAME_PATTERN.source}`);
    }
  }

  /** The PlantPulse name (and unit conversion) for a Sparkplug metric with the unit its birth declared. */
  resolve(sparkplugName: string, unit: string | undefined): ResolvedMetric {
    const configured = Object.prototype.hasOwnProperty.call(this.configured, sparkplugName) ? this.configured[sparkplugName] : undefined;
    const normalised = normaliseMetricName(sparkplugName);
    const name = configured ?? normalised;
    if (name === undefined || name === null) {
      return { ok: false, reason: `Sparkplug metric name ${JSON.stringify(sparkplugName.slice(0, 80))} has no letters or digits to build a metric name from; map it in the Sparkplug mapping file (metrics:)` };
    }
    if (!isKnownMetric(name) || unit === undefined) return { ok: true, name, conversion: IDENTITY, mapped: configured !== undefined };
    const target = METRIC_CATALOGUE[name].unit;
    const conversion = unitConversion(unit, target);
    if (conversion) return { ok: true, name, conversion, mapped: configured !== undefined, ...(isIdentity(conversion) ? {} : { note: `${sparkplugName} in ${unit} converted to ${target}` }) };
    // A catalogue name promises the catalogue's unit: store under a name that makes no promise.
    const fallback = normalised === null || normalised === name ? `${name}_raw` : normalised;
    return {
      ok: true,
      name: fallback.slice(0, 64),
      conversion: IDENTITY,
      mapped: false,
      warning: `${sparkplugName} is in ${JSON.stringify(unit)}, which PlantPulse cannot convert to ${target || 'a dimensionless value'}: stored as ${fallback}, not ${name}`,
    };
  }
}

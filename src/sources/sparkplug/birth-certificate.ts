import { isKnownMetric, METRIC_CATALOGUE } from '../../contract/index.js';
import { DataType, isNumericDatatype, skipReasonForDatatype, type MetricValue, type SkipReason } from './datatypes.js';
import type { MetricNameMapper } from './metric-names.js';
import type { SparkplugMetric } from './payload-codec.js';
import { unitFromProperties, type UnitConversion } from './units.js';

/** What a birth said about one metric; DATA messages are read through it (by alias or name). */
export interface MetricDefinition {
  sparkplugName: string;
  datatype: number;
  unit?: string;
  /** The PlantPulse metric, the unit conversion into it and the unit stored; absent when skipped or rejected. */
  target?: { name: string; conversion: UnitConversion; unit?: string };
  /** Not telemetry (string, dataset, control metric…): counted, not stored. */
  skip?: SkipReason;
  /** The name could not become a metric name: each value is rejected with this reason. */
  rejection?: string;
}

export interface MetricOrigin {
  sparkplugName: string;
  unit?: string;
}

export interface BirthProblem {
  /** Index in the birth's metrics. */
  index: number;
  reason: string;
}

/** Sparkplug's own control metrics: part of the protocol, not telemetry. */
export function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/');
}

/** Spec-violating births without a datatype: infer one from the value's wire type. */
function inferDatatype(value: MetricValue): number {
  switch (value.kind) {
    case 'int':
      return DataType.UInt32;
    case 'long':
      return DataType.Int64;
    case 'float':
      return DataType.Float;
    case 'double':
      return DataType.Double;
    case 'boolean':
      return DataType.Boolean;
    case 'string':
      return DataType.String;
    default:
      return DataType.Unknown;
  }
}

/**
 * The alias → metric and name → metric maps of one edge node or device, from its NBIRTH or
 * DBIRTH. Aliases are uint64 (bigint keys). Replaced whole by the next birth.
 */
export class BirthCertificate {
  private readonly byAlias = new Map<bigint, MetricDefinition>();
  private readonly byName = new Map<string, MetricDefinition>();
  /** Definition of each birth metric by its index (undefined where the birth was faulty). */
  readonly definitions: (MetricDefinition | undefined)[] = [];
  readonly problems: BirthProblem[] = [];
  /** Unit conversions applied (for the log). */
  readonly notes: string[] = [];
  /** Units that could not be converted (the operator should map or fix them). */
  readonly warnings: string[] = [];

  constructor(metrics: readonly SparkplugMetric[], mapper: MetricNameMapper) {
    const targetOwner = new Map<string, string>(); // PlantPulse name → Sparkplug name
    metrics.forEach((m, index) => {
      const problem = (reason: string) => {
        this.problems.push({ index, reason });
        this.definitions.push(undefined);
      };
      if (m.name === undefined || m.name === '') return problem('birth metric has no name');
      if (this.byName.has(m.name)) return problem(`metric ${JSON.stringify(m.name)} appears twice in the birth`);
      if (m.alias !== undefined && this.byAlias.has(m.alias)) return problem(`alias ${m.alias} of ${JSON.stringify(m.name)} is already used by ${JSON.stringify(this.byAlias.get(m.alias)!.sparkplugName)}`);
      const datatype = m.datatype ?? inferDatatype(m.value);
      const unit = unitFromProperties(m.properties);
      const def: MetricDefinition = { sparkplugName: m.name, datatype, ...(unit !== undefined ? { unit } : {}) };
      if (isControlMetric(m.name)) def.skip = 'control';
      else if (!isNumericDatatype(datatype)) def.skip = skipReasonForDatatype(datatype);
      else {
        const resolved = mapper.resolve(m.name, unit);
        if (!resolved.ok) def.rejection = resolved.reason;
        else if (targetOwner.has(resolved.name)) {
          def.rejection = `${JSON.stringify(m.name)} and ${JSON.stringify(targetOwner.get(resolved.name))} both become metric ${resolved.name}; map one of them in the Sparkplug mapping file (metrics:)`;
        } else {
          targetOwner.set(resolved.name, m.name);
          // Catalogue metrics are stored in the catalogue's unit (converted if need be); others as sent.
          const stored = isKnownMetric(resolved.name) ? METRIC_CATALOGUE[resolved.name].unit : unit;
          def.target = { name: resolved.name, conversion: resolved.conversion, ...(stored !== undefined ? { unit: stored } : {}) };
          if (resolved.note) this.notes.push(resolved.note);
          if (resolved.warning) this.warnings.push(resolved.warning);
        }
      }
      this.byName.set(m.name, def);
      if (m.alias !== undefined) this.byAlias.set(m.alias, def);
      this.definitions.push(def);
    });
  }

  /** The definition a DATA metric refers to: by alias when it has one, else by name. */
  lookup(m: SparkplugMetric): MetricDefinition | undefined {
    if (m.alias !== undefined) {
      const byAlias = this.byAlias.get(m.alias);
      if (byAlias) return byAlias;
    }
    return m.name !== undefined ? this.byName.get(m.name) : undefined;
  }

  get size(): number {
    return this.byName.size;
  }

  /** PlantPulse metric name → Sparkplug name and the unit its values are stored in, for the status registry. */
  describe(): Record<string, MetricOrigin> {
    const out: Record<string, MetricOrigin> = {};
    for (const def of this.byName.values()) {
      if (def.target) out[def.target.name] = { sparkplugName: def.sparkplugName, ...(def.target.unit !== undefined ? { unit: def.target.unit } : {}) };
    }
    return out;
  }
}

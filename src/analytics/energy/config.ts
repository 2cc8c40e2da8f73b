import { z } from 'zod';
import { idSchema } from '../../contract/ids.js';
import { GRID_FACTORS_MEE_NBS, GRID_REGIONS, NATURAL_GAS_CO2, STANDARD_COAL_GB_T_2589_2020 } from './coefficients.js';
import { WINDOW_SIZE_NAMES, type WindowSize } from './window-sizes.js';

/**
 * Energy accounting configuration: overrides of the reference coefficients (globally and per
 * site), counter handling and window sizes. `{}` is a valid configuration: every default comes
 * from the reference tables in coefficients.ts or is documented here.
 *
 * Nested objects use zod 4's `.prefault({})` (the input default, which is then parsed, so the
 * defaults inside apply); `.default({})` would return `{}` as is, without the inner defaults.
 */

const positive = z.number().positive();
const nonNegative = z.number().min(0);
const knownYears = Object.keys(GRID_FACTORS_MEE_NBS.national).join(', ');

/** How a grid factor is chosen: at most one of these, at the top level and in each site. */
const gridChoiceShape = {
  /** By value, kg CO2/kWh (a provincial factor, a published supplier mix; 0 for certified green power). */
  gridKgCo2PerKwh: nonNegative.max(2).optional(),
  /** The national average of a data year in the MEE/NBS table. */
  gridYear: z
    .number()
    .int()
    .refine((y) => GRID_FACTORS_MEE_NBS.national[y] !== undefined, `no national grid factor for that year (known: ${knownYears})`)
    .optional(),
  /** A regional grid average (MEE/NBS regional table, data year 2022). */
  gridRegion: z.enum(GRID_REGIONS).optional(),
};
const GRID_CHOICE_KEYS = Object.keys(gridChoiceShape) as (keyof typeof gridChoiceShape)[];

function atMostOneGridChoice(value: Partial<Record<keyof typeof gridChoiceShape, unknown>>, ctx: z.RefinementCtx): void {
  const set = GRID_CHOICE_KEYS.filter((k) => value[k] !== undefined);
  for (const key of set.slice(1)) {
    ctx.addIssue({ code: 'custom', path: [key], message: `set only one of ${GRID_CHOICE_KEYS.join(', ')} (${set[0]} is also set)` });
  }
}

/** Coal-equivalent coefficients for the carriers that have a GB/T 2589 default. Water has none: it is not energy. */
const kgceShape = { energy_kwh: positive.optional(), gas_m3: positive.optional() };

/** What a site may override. Anything unset falls back to the top level, then to the reference tables. */
export const siteEnergySchema = z
  .strictObject({
    ...gridChoiceShape,
    kgce: z.strictObject(kgceShape).optional(),
    /** Steam has no agreed coal equivalent: configure it (kgce per t) from the supplier's steam parameters. */
    steamKgcePerT: positive.optional(),
    gasKgCo2PerM3: nonNegative.optional(),
    steamKgCo2PerT: nonNegative.optional(),
  })
  .superRefine(atMostOneGridChoice);

const maxRatePerHourSchema = z
  .strictObject({
    /**
     * kWh per hour (= kW). 100 MW: the power_kw range of the metric catalogue; no single metered
     * device draws more. These limits stop a glitch from adding a year of energy in one reading,
     * they are not a plant's peak: raise them for bigger meters.
     */
    energy_kwh: positive.default(100_000),
    /** m³/h. ≈ 200 MW of heat at 35.6 MJ/m³: twice the electricity limit. */
    gas_m3: positive.default(20_000),
    /** t/h. Raising 500 t/h of steam takes ≈ 375 MW of heat (≈ 2.7 GJ/t): beyond any single industrial consumer here. */
    steam_t: positive.default(500),
    /** m³/h. */
    water_m3: positive.default(10_000),
    /** Good parts per hour. 10 million/h (≈ 2,800/s) lets the fastest machines (cigarette makers ≈ 20,000/min) through. */
    output_units: positive.default(10_000_000),
  })
  .prefault({});

const rolloverModulusSchema = z
  .strictObject({
    energy_kwh: positive.optional(),
    gas_m3: positive.optional(),
    steam_t: positive.optional(),
    water_m3: positive.optional(),
    output_units: positive.optional(),
  })
  .prefault({});

export const energyConfigSchema = z
  .strictObject({
    ...gridChoiceShape,
    kgce: z
      .strictObject({
        energy_kwh: positive.default(STANDARD_COAL_GB_T_2589_2020.electricityKgcePerKwh),
        gas_m3: positive.default(STANDARD_COAL_GB_T_2589_2020.naturalGasKgcePerM3),
      })
      .prefault({}),
    steamKgcePerT: positive.optional(),
    gasKgCo2PerM3: nonNegative.default(NATURAL_GAS_CO2.kgCo2PerM3),
    steamKgCo2PerT: nonNegative.optional(),
    /** Per-site overrides, by site id: `{ 'site-01': { gridRegion: 'Southwest', steamKgcePerT: 128.6 } }`. */
    sites: z.record(idSchema, siteEnergySchema).default(() => ({})),
    counters: z
      .strictObject({
        /** Per counter metric: the register's range (see CounterRules.rolloverModulus). Unset: never wraps. */
        rolloverModulus: rolloverModulusSchema,
        rolloverNearFraction: z.number().gt(0).max(0.5).default(0.1),
        maxRatePerHour: maxRatePerHourSchema,
      })
      .prefault({}),
    windows: z
      .strictObject({
        /** Tumbling windows every device is accounted over (1 min for live views; 15 min, 1 h and 1 day for reports). */
        sizes: z
          .array(z.enum(WINDOW_SIZE_NAMES as [WindowSize, ...WindowSize[]]))
          .min(1)
          .refine((s) => new Set(s).size === s.length, 'window sizes must not repeat')
          .default((): WindowSize[] => ['1m', '15m', '1h', '1d']),
        /**
         * Readings further apart than this: their energy goes to the window of the later reading,
         * not spread over the gap (we do not know when in the gap it was drawn).
         */
        maxGapMs: z.number().int().positive().default(15 * 60_000),
        /**
         * A device without a `state` metric is idle once its output counter has not moved for this
         * long: longer than a normal cycle, so a slow machine between two parts is not "idle".
         */
        idleAfterNoOutputMs: z.number().int().positive().default(10 * 60_000),
        /** Windows (days, above all) align on local midnight at this fixed offset. China Standard Time: +480. */
        utcOffsetMinutes: z.number().int().min(-720).max(840).default(480),
      })
      .prefault({}),
  })
  .superRefine(atMostOneGridChoice);

export type EnergyConfig = z.output<typeof energyConfigSchema>;
export type EnergyConfigInput = z.input<typeof energyConfigSchema>;
export type SiteEnergyConfig = z.output<typeof siteEnergySchema>;

/** An invalid energy configuration, naming the path of each problem (`sites.site-01.gridRegion: …`). */
export class EnergyConfigError extends Error {
  constructor(readonly problems: { path: string; message: string }[]) {
    super(`invalid energy configuration:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'EnergyConfigError';
  }
}

/** Validate an energy configuration (e.g. the `energy` section of a config file); throws EnergyConfigError. */
export function parseEnergyConfig(input: unknown): EnergyConfig {
  const parsed = energyConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new EnergyConfigError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })));
}

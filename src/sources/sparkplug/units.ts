/**
 * Engineering units of Sparkplug metrics (the `engUnit` property Ignition and Tahu send) against
 * the catalogue's units. A metric named for the catalogue (`power_kw`) must hold kW, so a gateway
 * that reports watts is converted, and one whose unit we cannot convert is not stored under the
 * catalogue name at all (see metric-names.ts): a wrong unit would poison every energy figure.
 */

/**
 * value_in_catalogue_unit = (value + offset) · multiply / divide. Dividing by an exact integer
 * (W → kW: / 1000) gives the double nearest the true quotient, so 42100 W is stored as 42.1 kW
 * and not 42.10000000000001; offset first makes 212 °F exactly 100 °C.
 */
export interface UnitConversion {
  offset: number;
  multiply: number;
  divide: number;
}

type Entry = readonly [multiply: number, divide: number, offset?: number];
type Table = Record<string, Entry>;

const SAME: Entry = [1, 1];
const FAHRENHEIT: Entry = [5, 9, -32];

/** Per catalogue unit, the units convertible to it. No two keys of one table differ only in case. */
const CONVERSIONS: Record<string, Table> = {
  kW: { W: [1, 1000], kW: SAME, MW: [1000, 1] },
  kWh: { Wh: [1, 1000], kWh: SAME, MWh: [1000, 1], MJ: [1, 3.6] },
  '°C': { '°C': SAME, '℃': SAME, C: SAME, degC: SAME, Celsius: SAME, '°F': FAHRENHEIT, '℉': FAHRENHEIT, F: FAHRENHEIT, degF: FAHRENHEIT, K: [1, 1, -273.15] },
  kPa: { Pa: [1, 1000], kPa: SAME, MPa: [1000, 1], bar: [100, 1], mbar: [1, 10], psi: [6.894757293168361, 1] },
  'm³': { 'm³': SAME, m3: SAME, 'Nm³': SAME, Nm3: SAME, L: [1, 1000] },
  t: { t: SAME, kg: [1, 1000] },
  units: { units: SAME, unit: SAME, pcs: SAME, pc: SAME, parts: SAME, ea: SAME, '件': SAME, '个': SAME },
  'mm/s': { 'mm/s': SAME, 'm/s': [1000, 1], 'in/s': [25.4, 1] },
  A: { A: SAME, mA: [1, 1000], kA: [1000, 1] },
  V: { V: SAME, mV: [1, 1000], kV: [1000, 1] },
  '%LEL': { '%LEL': SAME, 'LEL%': SAME, '%': SAME },
  // Dimensionless catalogue metrics (state, power_factor): only an empty unit or `pf` is safe.
  '': { '': SAME, pf: SAME },
};

export const IDENTITY: UnitConversion = { offset: 0, multiply: 1, divide: 1 };

/** How a value in `from` becomes one in the catalogue unit `to`; null when we do not know. */
export function unitConversion(from: string, to: string): UnitConversion | null {
  const table = CONVERSIONS[to];
  if (!table) return from.trim() === to ? IDENTITY : null;
  const key = from.trim().replace(/\s+/g, '');
  const hit = table[key] ?? Object.entries(table).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  return hit ? { offset: hit[2] ?? 0, multiply: hit[0], divide: hit[1] } : null;
}

export const isIdentity = (c: UnitConversion): boolean => c.offset === 0 && c.multiply === 1 && c.divide === 1;

export function convert(value: number, c: UnitConversion): number {
  return ((value + c.offset) * c.multiply) / c.divide;
}

/** Property names gateways use for the engineering unit (compared case-insensitively). */
const UNIT_PROPERTIES = ['engunit', 'engunits', 'engineeringunits', 'unit', 'units'];

/** The unit a metric's properties declare, if any. */
export function unitFromProperties(properties: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(properties)) {
    if (UNIT_PROPERTIES.includes(key.toLowerCase()) && typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 32);
  }
  return undefined;
}

/**
 * The metric catalogue: name → unit → meaning. Extensible by configuration; a metric not in the
 * catalogue is still stored but flagged (counted in /metrics as unknown).
 * `kind`: gauge (instantaneous), counter (cumulative meter reading: may reset or roll over),
 * state (enumeration). `range` is the physically possible range: values outside it are a sensor
 * fault, not a process anomaly (used by the analytics stage, not by the decoder).
 */
export interface MetricDefinition {
  unit: string;
  kind: 'gauge' | 'counter' | 'state';
  description: string;
  range?: readonly [number, number];
}

export const METRIC_CATALOGUE = {
  power_kw: { unit: 'kW', kind: 'gauge', description: 'active power', range: [-100_000, 100_000] },
  energy_kwh: { unit: 'kWh', kind: 'counter', description: 'cumulative active energy meter reading' },
  gas_m3: { unit: 'm³', kind: 'counter', description: 'cumulative natural gas meter reading' },
  steam_t: { unit: 't', kind: 'counter', description: 'cumulative steam meter reading' },
  water_m3: { unit: 'm³', kind: 'counter', description: 'cumulative water meter reading' },
  output_units: { unit: 'units', kind: 'counter', description: 'cumulative count of good parts' },
  state: { unit: '', kind: 'state', description: 'machine state: 0 stopped, 1 idle, 2 running, 3 fault', range: [0, 3] },
  temperature_c: { unit: '°C', kind: 'gauge', description: 'temperature', range: [-273.15, 2000] },
  pressure_kpa: { unit: 'kPa', kind: 'gauge', description: 'pressure', range: [0, 100_000] },
  vibration_mm_s: { unit: 'mm/s', kind: 'gauge', description: 'vibration RMS velocity', range: [0, 1000] },
  current_a: { unit: 'A', kind: 'gauge', description: 'current', range: [0, 100_000] },
  voltage_v: { unit: 'V', kind: 'gauge', description: 'voltage', range: [0, 1_000_000] },
  power_factor: { unit: '', kind: 'gauge', description: 'power factor', range: [-1, 1] },
  gas_lel_pct: { unit: '%LEL', kind: 'gauge', description: 'combustible gas, percent of lower explosive limit', range: [0, 100] },
} as const satisfies Record<string, MetricDefinition>;

export type KnownMetric = keyof typeof METRIC_CATALOGUE;

export const MACHINE_STATES = { stopped: 0, idle: 1, running: 2, fault: 3 } as const;

export function isKnownMetric(name: string): name is KnownMetric {
  return Object.prototype.hasOwnProperty.call(METRIC_CATALOGUE, name);
}

/**
 * A metric that is a signal to judge by its values: any gauge, and any name not in the catalogue
 * (devices report what they have). Counters (cumulative meter readings: they only grow, and reset)
 * and the machine state (an enumeration) are not: rules on every metric skip them.
 */
export function isSignalMetric(name: string): boolean {
  return !isKnownMetric(name) || METRIC_CATALOGUE[name].kind === 'gauge';
}

/**
 * Pure checks of the horizontal-scale measurement (no I/O, unit-tested in test/unit/bench/):
 * - `reconcile`: nothing lost, nothing duplicated, nothing unexpected;
 * - `bottleneck`: which resource limited a configuration, from the CPU it used and the limits.
 */

export interface Reconciliation {
  /** Samples the broker acknowledged to the fleet (PUBACK), each a distinct series + timestamp. */
  acked: number;
  /** Samples the instances made durable, summed (`pp_samples_stored_total` of each). */
  written: number;
  /** Points in InfluxDB: one per series + timestamp, whatever was written twice counts once. */
  unique: number;
  /** Acknowledged by the broker and not in InfluxDB. */
  lost: number;
  /** Written more than once (by two instances, or twice by one): stored beyond the distinct points. */
  duplicates: number;
  /** In InfluxDB and never acknowledged to the fleet (points from elsewhere: a wrong database or workload). */
  unexpected: number;
  ok: boolean;
}

/**
 * The workload stamps every sample with a timestamp unique to its device (strictly increasing
 * per device), so every acknowledged sample is a distinct point: InfluxDB's count is the number of
 * distinct (series, timestamp) pairs, and a sample written twice (a QoS 1 redelivery, a message
 * handed to two instances) overwrites itself there but shows in the instances' stored counters.
 */
export function reconcile(acked: number, written: number, unique: number): Reconciliation {
  const lost = Math.max(0, acked - unique);
  const duplicates = Math.max(0, written - unique);
  const unexpected = Math.max(0, unique - acked);
  return { acked, written, unique, lost, duplicates, unexpected, ok: lost === 0 && duplicates === 0 && unexpected === 0 };
}

export interface LoadPicture {
  cores: number;
  /** Whole machine busy, % (cores × 100 = every core busy). */
  machinePct: number;
  /** CPU per role, % of one core: platforms (summed), influxd, mosquitto, harness (the fleet). */
  cpuPct: { platforms: number; influxd: number; mosquitto: number; harness: number };
  /** Busy % not used by the roles above: other work on the machine. */
  otherPct: number;
  /** The busiest single instance, % of one core (its JavaScript runs on one thread). */
  busiestInstanceCpuPct: number;
  /** Stored rate of the configuration, samples/s. */
  samplesPerS: number;
  /** InfluxDB alone with as many writers as instances (same batch size), samples/s; NaN: not measured. */
  influxAloneSamplesPerS: number;
}

/** Above this share of its cores the machine counts as saturated. */
const SATURATED = 0.9;
/** At this share of what InfluxDB alone takes, InfluxDB is the limit. */
const AT_INFLUX_LIMIT = 0.85;
/** Mosquitto is single-threaded: at its limit at about one core. */
const ONE_CORE = 90;
/**
 * A platform instance's JavaScript runs on one thread; its process figure also holds GC and
 * libuv threads, so the main thread is about saturated a little below one core.
 */
const INSTANCE_AT_ONE_CORE = 80;

/**
 * The likely limit, in words, with the figures that say so. In order: the whole machine's CPU
 * (then: who used it), InfluxDB (stored about as much as InfluxDB alone takes), Mosquitto at one
 * core (it is single-threaded), an instance at about one core (its JavaScript thread), and
 * otherwise none of those: the instances wait (each keeps one write in flight, so its rate is
 * bounded by its batch size over InfluxDB's write latency).
 */
export function bottleneck(x: LoadPicture): { limit: 'cpu' | 'influxdb' | 'broker' | 'instance' | 'latency'; why: string } {
  const capacity = x.cores * 100;
  const shares = Object.entries({ ...x.cpuPct, other: x.otherPct })
    .filter(([, v]) => Number.isFinite(v))
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(0)} %`)
    .join(', ');
  const ofInflux = x.samplesPerS / x.influxAloneSamplesPerS;
  if (x.machinePct >= SATURATED * capacity) {
    return { limit: 'cpu', why: `machine CPU: ${x.machinePct.toFixed(0)} % of ${capacity} % busy (${shares})` };
  }
  if (Number.isFinite(ofInflux) && ofInflux >= AT_INFLUX_LIMIT) {
    return { limit: 'influxdb', why: `InfluxDB: stored ${(ofInflux * 100).toFixed(0)} % of what InfluxDB alone takes with as many writers (influxd ${x.cpuPct.influxd.toFixed(0)} %)` };
  }
  if (x.cpuPct.mosquitto >= ONE_CORE) {
    return { limit: 'broker', why: `Mosquitto at one core (${x.cpuPct.mosquitto.toFixed(0)} %, single-threaded)` };
  }
  if (x.busiestInstanceCpuPct >= INSTANCE_AT_ONE_CORE) {
    return { limit: 'instance', why: `a platform instance at about one core (${x.busiestInstanceCpuPct.toFixed(0)} %: its JavaScript thread), the machine ${x.machinePct.toFixed(0)} % of ${capacity} % busy (${shares})` };
  }
  return { limit: 'latency', why: `no resource saturated (machine ${x.machinePct.toFixed(0)} % of ${capacity} %; ${shares}): write latency, one batch in flight per instance` };
}

/** Deterministic pseudo-random numbers in [-1, 1) (a small LCG): the tests must not depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

export interface Row {
  state: number;
  values: Record<string, number>;
}

/**
 * A machine sampled every `dtS` seconds that runs (state 2) for a quarter of an hour or so, then
 * idles (state 1) for a few minutes; its load wanders; power follows load and state, current
 * follows power, and the temperature follows its heat (a share of the rise over ambient set by
 * state and load) with a thermal time constant of 10 min, with process and sensor noise (the
 * process noise per step scaled with √dtS, so the temperature wanders alike at any rate).
 * `cooling` adds 60 % to the heat from sample `from` on (lost cooling); `drift` makes the sensor
 * read 2 °C an hour higher from `from` on, the true temperature unchanged.
 */
export function machine(n: number, seed: number, fault: { kind: 'cooling' | 'drift'; from: number } | null, dtS: number): Row[] {
  const r = rng(seed);
  const rows: Row[] = [];
  let load = 0.8;
  let state = 2;
  let temp = 50;
  for (let i = 0; i < n; i++) {
    if (state === 2 && r() > 1 - (2 * dtS) / 900) state = 1;
    else if (state === 1 && r() > 1 - (2 * dtS) / 150) state = 2;
    load = Math.min(1, Math.max(0.55, load + (0.8 - load) * (dtS / 900) + 0.02 * Math.sqrt(dtS / 60) * r()));
    const on = fault !== null && i >= fault.from;
    let heat = state === 2 ? 30 * (0.7 + (0.3 * load) / 0.8) : 12;
    if (on && fault.kind === 'cooling') heat *= 1.6;
    temp += (22 + heat - temp) * (1 - Math.exp(-dtS / 600)) + 0.06 * Math.sqrt(dtS / 10) * r();
    const power = 20 * (state === 2 ? load : 0.2) * (1 + 0.015 * r());
    const pf = state === 2 ? 0.8 + 0.1 * load : 0.6;
    const drift = on && fault.kind === 'drift' ? (2 * (i - fault.from) * dtS) / 3600 : 0;
    rows.push({
      state,
      values: { power_kw: power, temperature_c: temp + 0.05 * r() + drift, current_a: (power * 1000) / (1.732 * 400 * pf), power_factor: pf + 0.01 * r() },
    });
  }
  return rows;
}

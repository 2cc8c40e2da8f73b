import { energy } from './api.js';
import { plantMidnight, setEnergy, state } from './plant-state.js';

const DAY = 86_400_000;
/** Energy windows close every minute; a refresh a minute picks each one up. */
const REFRESH_MS = 60_000;

/**
 * Today's energy per site (closed 1-min windows since the plant's midnight: daily windows are
 * stored only once the day is over) and the baseline to compare intensity with: the previous
 * seven days (`window=1d`). Without storage the API has no energy route: figures stay empty.
 */
export async function refreshSite(site) {
  const midnight = plantMidnight();
  const [today, baseline] = await Promise.all([
    energy({ site, window: '1m', from: String(midnight) }).catch(() => null),
    energy({ site, window: '1d', from: String(midnight - 7 * DAY), to: String(midnight) }).catch(() => null),
  ]);
  setEnergy(site, { today, baseline });
}

export function startEnergyRefresh() {
  const refreshAll = () => {
    for (const site of new Set([...state.devices.values()].map((d) => d.site))) void refreshSite(site);
  };
  setInterval(refreshAll, REFRESH_MS);
  return refreshAll;
}

/** The same for one line's devices (machine view). */
export function lineEnergyToday(site, line) {
  return energy({ site, line, window: '1m', from: String(plantMidnight()) });
}

/** Sum the rows of a per-member series (energy API `lines` / `devices`). */
export function sumRows(rows = []) {
  const total = { kwh: 0, outputUnits: 0 };
  for (const r of rows) {
    total.kwh += r.kwh;
    total.outputUnits += r.outputUnits;
  }
  return { ...total, kwhPerUnit: total.outputUnits > 0 ? total.kwh / total.outputUnits : null };
}

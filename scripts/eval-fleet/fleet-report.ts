import type { FleetScore } from './fleet-score.js';

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const minutes = (ms: number | null) => (ms === null ? '–' : `${(ms / 60_000).toFixed(0)} min`);
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** The fleet figures as Markdown tables: false alerts per rule, then recall and delay per fault kind. */
export function fleetReport(s: FleetScore, title: string): string {
  const out: string[] = [title, ''];
  out.push(`${s.machines} machines, ${s.machineDays.toFixed(1)} machine-days, ${s.openings} alerts opened, ${s.falseAlerts} false: **${s.falsePerMachineDay.toFixed(3)} false alerts per machine-day**`, '');
  out.push(row(['rule', 'alerts opened', 'false alerts', 'false per machine-day', 'machines with a false one']), row(['---', '---:', '---:', '---:', '---:']));
  const rules = Object.entries(s.byRule).sort((a, b) => b[1].falseAlerts - a[1].falseAlerts || b[1].openings - a[1].openings);
  for (const [rule, r] of rules) out.push(row([rule, r.openings, r.falseAlerts, r.perMachineDay.toFixed(3), pct(r.machineShare)]));
  if (rules.length === 0) out.push(row(['(none)', 0, 0, '0.000', '0.0 %']));
  const faults = Object.entries(s.byFault).sort((a, b) => a[0].localeCompare(b[0]));
  if (faults.length > 0) {
    out.push('', row(['fault', 'windows', 'detected', 'recall', 'median delay from onset', 'detected by (windows)', 'missed, alerted only during a trip']), row(['---', '---:', '---:', '---:', '---:', '---', '---:']));
    for (const [kind, f] of faults) {
      const by = Object.entries(f.byRule)
        .sort((a, b) => b[1] - a[1])
        .map(([rule, n]) => `${rule} ${n}`)
        .join(', ');
      out.push(row([kind, f.windows, f.detected, pct(f.recall), minutes(f.medianDelayMs), by || '–', kind === 'trip' ? '–' : f.duringTripOnly]));
    }
  }
  return out.join('\n');
}

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../../src/contract/metrics.js';

const exec = promisify(execFile);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function exportRun(...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'sim-export-'));
  dirs.push(out);
  return { out, run: exec(process.execPath, ['--import', 'tsx', 'scripts/sim-export.ts', '--out', out, ...args], { env: { PATH: process.env.PATH } }) };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('sim:export (multi-column format)', () => {
  it('writes one CSV per device with catalogue columns, ISO timestamps at the interval, and windows.json with each label', async () => {
    const { out, run } = exportRun('--machines', '8', '--hours', '6', '--interval-s', '30', '--seed', '4', '--faults', 'all');
    const { stdout } = await run;
    expect(stdout).toMatch(/8 device files, 5768 rows \(one per 30 s over 6 h\), seed 4/);
    const files = readdirSync(out).sort();
    const csvs = files.filter((f) => f.endsWith('.csv'));
    expect(csvs).toHaveLength(8);
    expect(files).toContain('windows.json');
    expect(files).not.toContain('metrics.json');
    const windows = JSON.parse(readFileSync(join(out, 'windows.json'), 'utf8')) as Record<string, [string, string][]>;
    const faults = JSON.parse(readFileSync(join(out, 'faults.json'), 'utf8')) as Record<string, { kind: string; start: string; end: string }[]>;
    expect(Object.keys(windows).sort()).toEqual(csvs);
    const scheduled = Object.values(faults)
      .flat()
      .filter((f) => f.kind !== 'trip')
      .map((f) => f.kind)
      .sort();
    expect(scheduled).toEqual(['bearing-wear', 'cooling-loss', 'idle-waste', 'leak', 'overload', 'pf-degradation', 'sensor-drift', 'stuck']);
    for (const csv of csvs) {
      expect(csv).toMatch(/^site-01_line-01_m-00\d\.csv$/);
      const lines = readFileSync(join(out, csv), 'utf8').trimEnd().split('\n');
      const header = lines[0]!.split(',');
      expect(header[0]).toBe('timestamp');
      for (const c of header.slice(1)) expect(METRIC_CATALOGUE).toHaveProperty(c);
      expect(header).toEqual(expect.arrayContaining(['power_kw', 'energy_kwh', 'temperature_c', 'state', 'power_factor']));
      expect(lines).toHaveLength(1 + 721);
      const times = lines.slice(1).map((l) => l.split(',')[0]!);
      for (const t of times) expect(t).toMatch(ISO);
      expect(times[0]).toBe('2026-11-02T00:00:00Z');
      expect(Date.parse(times[1]!) - Date.parse(times[0]!)).toBe(30_000);
      for (const l of lines.slice(1)) expect(l.split(',')).toHaveLength(header.length);
      for (const [start, end] of windows[csv]!) {
        expect(start).toMatch(ISO);
        expect(Date.parse(end)).toBeGreaterThan(Date.parse(start));
      }
      expect(windows[csv]).toEqual(faults[csv]!.map((f) => [f.start, f.end]));
    }
  });

  it('the same seed gives the same files', async () => {
    const a = exportRun('--machines', '3', '--hours', '1', '--seed', '7');
    const b = exportRun('--machines', '3', '--hours', '1', '--seed', '7');
    await Promise.all([a.run, b.run]);
    for (const f of readdirSync(a.out)) expect(readFileSync(join(b.out, f), 'utf8')).toBe(readFileSync(join(a.out, f), 'utf8'));
  });

  it('--bench writes pump bench runs: eight unknown-unit columns, no state, no metrics.json, one window of 20–50 % of the rows, read by the evaluator', async () => {
    const { out, run } = exportRun('--bench', '--units', '4', '--rows', '1200', '--seed', '3');
    const { stdout } = await run;
    expect(stdout).toMatch(/4 device files, 4800 rows \(pump bench runs, one per 1 s, fault stretch 20-50 % of each run\), seed 3/);
    expect(stdout).toMatch(/cavitation 1, clogged-filter 1, misalignment 1, valve-stuck 1/);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['faults.json', 'pump-001.csv', 'pump-002.csv', 'pump-003.csv', 'pump-004.csv', 'windows.json']);
    const windows = JSON.parse(readFileSync(join(out, 'windows.json'), 'utf8')) as Record<string, [string, string][]>;
    for (const csv of files.filter((f) => f.endsWith('.csv'))) {
      const lines = readFileSync(join(out, csv), 'utf8').trimEnd().split('\n');
      const header = lines[0]!.split(',');
      expect(header).toHaveLength(9);
      for (const c of header.slice(1)) expect(METRIC_CATALOGUE).not.toHaveProperty(c);
      expect(lines).toHaveLength(1201);
      expect(windows[csv]).toHaveLength(1);
      const [start, end] = windows[csv]![0]!;
      const share = (Date.parse(end) - Date.parse(start) + 1000) / 1200_000;
      expect(share).toBeGreaterThanOrEqual(0.2 - 1e-3);
      expect(share).toBeLessThanOrEqual(0.5 + 1e-3);
    }
    const evaluated = await exec(process.execPath, ['--import', 'tsx', 'scripts/eval-anomaly.ts', '--data', out, '--json'], { env: { PATH: process.env.PATH } });
    const result = JSON.parse(evaluated.stdout) as { layout: string; files: number; windows: number; rows: number };
    expect(result).toMatchObject({ layout: 'multi-column', files: 4, windows: 4, rows: 4800 });
  });

  it('--bench --interval-s writes the runs at that interval, the fault in the same rows', async () => {
    const { out, run } = exportRun('--bench', '--units', '2', '--rows', '300', '--interval-s', '60', '--seed', '3');
    expect((await run).stdout).toMatch(/2 device files, 600 rows \(pump bench runs, one per 60 s,/);
    const atOneS = exportRun('--bench', '--units', '2', '--rows', '300', '--seed', '3');
    await atOneS.run;
    const windows = (dir: string) => JSON.parse(readFileSync(join(dir, 'windows.json'), 'utf8')) as Record<string, [string, string][]>;
    for (const csv of ['pump-001.csv', 'pump-002.csv']) {
      const times = readFileSync(join(out, csv), 'utf8').trimEnd().split('\n').slice(1).map((l) => Date.parse(l.split(',')[0]!));
      expect(times).toHaveLength(300);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(60_000);
      // The same rows are faulty at either interval: the window's offsets from the first row scale by 60.
      const rowOf = (dir: string, t: string, first: number) => (Date.parse(t) - first) / (dir === out ? 60_000 : 1000);
      const first1 = Date.parse(readFileSync(join(atOneS.out, csv), 'utf8').split('\n')[1]!.split(',')[0]!);
      const [s60, e60] = windows(out)[csv]![0]!;
      const [s1, e1] = windows(atOneS.out)[csv]![0]!;
      expect([rowOf(out, s60, times[0]!), rowOf(out, e60, times[0]!)]).toEqual([rowOf(atOneS.out, s1, first1), rowOf(atOneS.out, e1, first1)]);
    }
  });

  it('bad options exit 2 with the option named and the usage', async () => {
    await expect(exportRun('--faults', 'leak,meltdown').run).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/meltdown[\s\S]*usage:/) });
    await expect(exportRun('--machines', '0').run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--machines') });
    await expect(exportRun('--faults', 'cavitation').run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--classes') });
    await expect(exportRun('--bench', '--stretch', '60-90').run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--stretch') });
    await expect(exportRun('--bench', '--faults', 'leak').run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('not a pump fault') });
    await expect(exec(process.execPath, ['--import', 'tsx', 'scripts/sim-export.ts'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--out DIR is required') });
  });
});

import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT_DIR } from '../../support/shared-data.js';
import { minuteRows, writeEvalFolder } from '../../support/eval-data.js';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'scripts/eval-anomaly.ts', ...args], { cwd: REPO_ROOT_DIR });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Two devices, 300 rows a minute apart; press-1's vibration jumps inside its window (rows 250–259).
 * Each reading is mostly noise (a fixed sequence): a smooth curve alone counts as too few
 * independent samples for the multivariate rule to judge within 250 rows.
 */
function folder(): string {
  let seed = 7;
  const noise = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31 - 0.5;
  const rows = (jump: boolean) => Array.from({ length: 300 }, (_, i) => [60 + Math.sin(i / 7) * 0.2 + noise(), 2 + Math.cos(i / 3) * 0.02 + noise() * 0.1 + (jump && i >= 250 && i < 260 ? 8 : 0)]);
  const dir = writeEvalFolder(
    {
      'press-1.csv': minuteRows('timestamp,temp,vib', '2024-03-01T00:00:00Z', rows(true)),
      'press-2.csv': minuteRows('timestamp,temp,vib', '2024-03-01T00:00:00Z', rows(false), true),
    },
    { 'press-1.csv': [['2024-03-01 04:08:00', '2024-03-01 04:20:00']], 'press-2.csv': [] },
    { temp: 'temperature_c' },
  );
  dirs.push(dir);
  return dir;
}

const DETECTORS = ['plantpulse', 'never', 'always', 'random', 'sigma3'];

describe('npm run eval:anomaly', () => {
  it('--json prints one object: data set, files, windows, and per detector NAB scores, point metrics and events', async () => {
    const dir = folder();
    // The unmapped `vib` column is metric `vib`; a user's rules file watches it (alone: the
    // built-in rules on every metric would see the jump too, see the next test).
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, "classes:\n  presses:\n    match: ['eval/*/press-*']\n    inherit: false\n    rules:\n      - { id: vib-high, metric: vib, detector: limit, params: { high: 6 } }\n");
    const { stdout, stderr } = await cli('--data', dir, '--json', '--rules', rules);
    expect(stderr).toContain('file 2/2 press-2.csv');
    const out = JSON.parse(stdout) as Record<string, unknown> & { detectors: Record<string, Record<string, Record<string, number | null>>> };
    expect(out).toMatchObject({ dataset: dir, files: 2, windows: 1 });
    expect(Object.keys(out.detectors)).toEqual(DETECTORS);
    for (const name of DETECTORS) {
      const d = out.detectors[name]!;
      expect(Object.keys(d.nab!).sort()).toEqual(['reward_low_FN_rate', 'reward_low_FP_rate', 'standard']);
      for (const v of Object.values(d.nab!)) expect(v).toBeTypeOf('number');
      expect(Object.keys(d.points!).sort()).toEqual(['f1', 'far', 'mar', 'precision', 'recall']);
      for (const v of Object.values(d.points!)) if (v !== null) expect(v >= 0 && v <= 1).toBe(true);
      expect(d.events).toMatchObject({ alerts: expect.any(Number), windowsDetected: expect.any(Number) });
      expect('medianDelayS' in d.events!).toBe(true);
    }
    // The rule opens at the jump (row 250, the window's third row: 2 min after its start) and closes when it ends.
    expect(out.detectors.plantpulse!.events).toMatchObject({ alerts: 1, windowsDetected: 1, medianDelayS: 120 });
    expect(out.detectors.plantpulse!.points).toMatchObject({ precision: 1, recall: 10 / 13 });
    expect((out.perFile as Record<string, { name: string; bySource: Record<string, number> }[]>).plantpulse!.map((f) => [f.name, f.bySource])).toEqual([
      ['press-1.csv', { 'vib-high': 1 }],
      ['press-2.csv', {}],
    ]);
    expect(out.detectors.never!.nab).toEqual({ standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 });
    expect(out.detectors.always!.points!.far).toBe(1);
  });

  it('without --json: the detectors side by side and per-file detail, delays with units', async () => {
    const { stdout } = await cli('--data', folder());
    expect(stdout).toMatch(/\| detector \| NAB standard \| NAB low FP \| NAB low FN \| precision \| recall \| F1 \| FAR \| MAR \| alerts \| windows detected \| median delay \|/);
    for (const name of DETECTORS) expect(stdout).toMatch(new RegExp(`^\\| ${name} \\|`, 'm'));
    expect(stdout).toContain('first min(15 %, 750) rows are not scored');
    expect(stdout).toMatch(/^\| press-1\.csv \| 300 \|/m);
    // The built-in rules judge every metric, the unmapped `vib` too: its jump on press-1 is one
    // alert of each learned rule (a device without `state` is judged on every row after
    // warm-up), press-2 (no jump) none.
    expect(stdout).toContain('plantpulse alerts by rule: deviation:vib 1, joint-deviation 1.');
    // Files at the top of the folder make one group: both files, the one window found, both alerts.
    expect(stdout).toMatch(/^\| group \| files \| windows detected \| alerts \| false \| false by rule \| median position \| NAB standard raw \|$/m);
    expect(stdout).toMatch(/^\| \(top\) \| 2 \| 1\/1 \| 2 \| /m);
  });

  it('clear errors: no --data, an unknown option, a missing folder, a bad rules file, a bad row', async () => {
    await expect(cli()).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--data DIR is required') });
    await expect(cli('--data', '.', '--metric', 'temperature_c')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
    const rules = join(folder(), 'rules.yaml');
    writeFileSync(rules, 'classes: { x: { match: [a], rules: [ { id: r, metric: value, detector: nope } ] } }\n');
    await expect(cli('--data', folder(), '--rules', rules)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/rules\.yaml.*unknown detector "nope"/s) });
    await expect(cli('--data', '/nonexistent/eval')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('/nonexistent/eval: no such folder') });
    const dir = folder();
    writeFileSync(join(dir, 'press-2.csv'), 'timestamp,temp,vib\n2024-03-01 00:00:00,1,x\n');
    await expect(cli('--data', dir)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('press-2.csv:2: vib "x" is not a number') });
  });
});

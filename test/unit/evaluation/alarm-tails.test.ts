import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { alarmTails, windowsFound } from '../../../src/evaluation/alarm-tails.js';

describe('alarm tails', () => {
  // 100 rows, probation 10, one window over rows 40–59.
  const windows = [{ first: 40, last: 59 }];

  it('splits an alert open past the end of a window into rows inside it and its tail', () => {
    const r = alarmTails(100, windows, 10, [{ source: 'a', openRow: 45, closeRow: 70 }]);
    expect(r).toEqual({ a: { alerts: 1, inWindow: 15, afterWindow: 10, outside: 0 } });
  });

  it('counts an alert that opened before a window as outside until the window, then as its tail', () => {
    const r = alarmTails(100, windows, 10, [{ source: 'a', openRow: 30, closeRow: 65 }]);
    expect(r.a).toEqual({ alerts: 1, inWindow: 20, afterWindow: 5, outside: 10 });
  });

  it('leaves probation out, and counts the last row of an alert still open at the end', () => {
    const r = alarmTails(100, windows, 10, [
      { source: 'b', openRow: 0, closeRow: 20 },
      { source: 'c', openRow: 99, closeRow: 100 },
    ]);
    expect(r.b).toEqual({ alerts: 1, inWindow: 0, afterWindow: 0, outside: 10 });
    expect(r.c).toEqual({ alerts: 1, inWindow: 0, afterWindow: 0, outside: 1 });
  });
});

describe('windows found per rule', () => {
  it('counts a window once per rule, whatever metrics raised in it, and only for alerts opened inside it after probation', () => {
    const two = [{ first: 40, last: 59 }, { first: 80, last: 89 }];
    const found = windowsFound(two, 10, [
      { source: 'deviation:a', openRow: 45, closeRow: 50 },
      { source: 'deviation:b', openRow: 50, closeRow: 70 },
      // Open before the second window and still open in it: not a detection of it.
      { source: 'joint-deviation', openRow: 70, closeRow: 95 },
      { source: 'joint-deviation', openRow: 59, closeRow: 60 },
      { source: 'early', openRow: 5, closeRow: 60 },
    ]);
    expect(Object.fromEntries([...found].map(([rule, ws]) => [rule, [...ws].sort()]))).toEqual({ deviation: [0], 'joint-deviation': [0] });
  });
});

describe('eval:tails command', () => {
  const exec = promisify(execFile);
  const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'scripts/eval-tails.ts', ...args], { env: { PATH: process.env.PATH } });

  it('prints each rule\'s alarmed rows for a labelled multi-column file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tails-'));
    // 400 rows at 10 s, a step of 50σ in rows 300–349 (labelled), back after.
    const rows = Array.from({ length: 400 }, (_, i) => `${new Date(Date.UTC(2026, 0, 1) + i * 10_000).toISOString()},${(i >= 300 && i < 350 ? 60 : 10) + ((i * 7919) % 201) / 100}`);
    writeFileSync(join(dir, 'm.csv'), ['timestamp,level', ...rows].join('\n'));
    writeFileSync(join(dir, 'windows.json'), JSON.stringify({ 'm.csv': [[new Date(Date.UTC(2026, 0, 1) + 300 * 10_000).toISOString(), new Date(Date.UTC(2026, 0, 1) + 349 * 10_000).toISOString()]] }));
    const { stdout } = await cli('--data', dir);
    expect(stdout).toMatch(/^1 files, 290 normal rows after probation/);
    expect(stdout).toMatch(/\| deviation:level \| 1 \| 50 \| \d+ \(\d+\.\d %\) \| 0 \(0\.0 %\) \|/);
    expect(stdout).toMatch(/^1 of 1 windows found by some rule; per rule:$/m);
    expect(stdout).toMatch(/^\| deviation \| 1 \| 1 \|$/m);
  });

  it('fails with the usage when --data is missing', async () => {
    await expect(cli()).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--data DIR is required/) });
  });
});

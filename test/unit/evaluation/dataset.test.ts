import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src/evaluation/dataset.js';
import { deviceIds, loadFile } from '../../../src/evaluation/evaluate.js';
import { minuteRows, writeEvalFolder } from '../../support/eval-data.js';
import { sharedDataDir } from '../../support/shared-data.js';

const dirs: string[] = [];
function folder(...args: Parameters<typeof writeEvalFolder>): string {
  const d = writeEvalFolder(...args);
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function loadAll(dir: string) {
  const d = openDataset(dir);
  const ids = deviceIds(d.files);
  return d.files.map((f, i) => loadFile(d, f, ids[i]!));
}

describe('multi-column data sets', () => {
  it('reads both timestamp forms, maps columns through metrics.json and keeps unmapped columns under valid names', () => {
    const dir = folder(
      {
        'press-1.csv': minuteRows('timestamp,temp,flow rate (l/min),1st', '2024-03-01T00:00:00Z', [
          [20, 1, 5],
          [21, 2, ''],
          [22, 3, 7],
        ]),
        'press-2.csv': minuteRows('timestamp,temp', '2024-03-01T00:00:00Z', [[30], [31]], true),
      },
      { 'press-1.csv': [['2024-03-01 00:01:00', '2024-03-01 00:02:00']], 'press-2.csv': [] },
      { temp: 'temperature_c' },
    );
    const d = openDataset(dir);
    expect(d.layout).toBe('multi-column');
    const [p1, p2] = loadAll(dir);
    expect(p1!.metrics).toEqual(['temperature_c', 'flow_rate__l_min_', 'm_1st']);
    expect(p1!.table.timestamps).toEqual([0, 1, 2].map((i) => Date.parse('2024-03-01T00:00:00Z') + i * 60_000));
    expect(p2!.table.timestamps).toEqual(p1!.table.timestamps.slice(0, 2));
    // The empty cell is a missing reading, not a zero.
    expect(Number.isNaN(p1!.table.values[2]![1]!)).toBe(true);
    expect(p1!.windows).toEqual([{ first: 1, last: 2 }]);
    expect(p1!.ref).toEqual({ site: 'eval', line: 'devices', device: 'press-1' });
    expect(p2!.windows).toEqual([]);
  });

  it('reads ISO 8601 with an offset as the same instant, milliseconds, CRLF and a byte-order mark', () => {
    const dir = folder({ 'a.csv': '\uFEFFtimestamp,x\r\n2024-03-01T01:00:00+01:00,1\r\n2024-03-01T00:01:00.250Z,2\r\n' }, { 'a.csv': [] });
    const [f] = loadAll(dir);
    expect(f!.table.columns).toEqual(['x']);
    expect(f!.table.timestamps).toEqual([Date.parse('2024-03-01T00:00:00Z'), Date.parse('2024-03-01T00:01:00.250Z')]);
  });

  it('reads Unix seconds, Unix milliseconds and slashed dates as the same instants', () => {
    const t0 = Date.parse('2024-03-01T00:00:00Z');
    const dir = folder({ 'a.csv': `timestamp,x\n${t0 / 1000},1\n${t0 + 60_000},2\n2024/03/01 00:02:00,3\n${t0 / 1000 + 180.5},4\n` }, { 'a.csv': [] });
    const [a] = loadAll(dir);
    expect(a!.table.timestamps).toEqual([t0, t0 + 60_000, t0 + 120_000, t0 + 180_500]);
  });

  it('reads missing-value words as missing, a semicolon or tab delimiter, and quoted fields', () => {
    const dir = folder(
      {
        'a.csv': 'timestamp;x;"flow; l/min"\n2024-03-01 00:00:00;1;NaN\n2024-03-01 00:01:00;null;2.5\n2024-03-01 00:02:00;N/A;None\n',
        'b.csv': 'timestamp\tx\n2024-03-01 00:00:00\tna\n2024-03-01 00:01:00\t4\n',
        'c.csv': 'timestamp,"say ""hi"", ok",y\n"2024-03-01 00:00:00","1",2\n',
      },
      { 'a.csv': [], 'b.csv': [], 'c.csv': [] },
    );
    const [a, b, c] = loadAll(dir);
    expect(a!.table.columns).toEqual(['x', 'flow; l/min']);
    expect(Array.from(a!.table.values[0]!)).toEqual([1, NaN, NaN]);
    expect(Array.from(a!.table.values[1]!)).toEqual([NaN, 2.5, NaN]);
    expect(b!.table.columns).toEqual(['x']);
    expect(Array.from(b!.table.values[0]!)).toEqual([NaN, 4]);
    expect(c!.table.columns).toEqual(['say "hi", ok', 'y']);
    expect(Array.from(c!.table.values[0]!)).toEqual([1]);
  });

  it.each([
    ['a bad timestamp, with file and line', { 'a.csv': 'timestamp,x\n2024-03-01 00:00:00,1\nyesterday,2\n' }, /a\.csv:3: unreadable timestamp "yesterday"/],
    ['a value that is not a number', { 'a.csv': 'timestamp,x\n2024-03-01 00:00:00,1\n2024-03-01 00:01:00,abc\n' }, /a\.csv:3: x "abc" is not a number/],
    ['a row with a missing field', { 'a.csv': 'timestamp,x,y\n2024-03-01 00:00:00,1\n' }, /a\.csv:2: expected 3 fields, got 2/],
    ['no timestamp column', { 'a.csv': 'time,x\n2024-03-01 00:00:00,1\n' }, /a\.csv:1: expected a header "timestamp,<column>,\.\.\."/],
    ['a seconds timestamp the platform would reject', { 'a.csv': 'timestamp,x\n1970-01-01 00:00:00,1\n' }, /a\.csv:2: timestamp .* outside 2000–2100/],
    ['two columns onto one metric', { 'a.csv': 'timestamp,a b,a_b\n2024-03-01 00:00:00,1,2\n' }, /columns "a b" and "a_b" would both be metric a_b/],
  ])('rejects %s', (_what, files, message) => {
    const dir = folder(files, { 'a.csv': [] });
    expect(() => loadAll(dir)).toThrow(message);
  });

  it('rejects a file without an entry in windows.json, a mapping to an unknown metric, bad windows and a missing folder', () => {
    const csv = { 'a.csv': 'timestamp,x\n2024-03-01 00:00:00,1\n' };
    expect(() => openDataset(folder(csv, {}))).toThrow(/a\.csv: no entry "a\.csv" in .*windows\.json/);
    expect(() => openDataset(folder(csv, { 'a.csv': [] }, { x: 'furlongs' }))).toThrow(/metrics\.json: x: "furlongs" is not a catalogue metric/);
    expect(() => openDataset(folder(csv, { 'a.csv': [['2024-03-02 00:00:00', '2024-03-01 00:00:00']] }))).toThrow(/a\.csv\[0\]: window ends before it starts/);
    expect(() => openDataset(folder(csv, { 'a.csv': [['soon', 'later']] }))).toThrow(/unreadable timestamp/);
    expect(() => openDataset('/nonexistent/eval-data')).toThrow(/\/nonexistent\/eval-data: no such folder/);
    const noWindows = folder(csv, {});
    rmSync(join(noWindows, 'windows.json'));
    expect(() => openDataset(noWindows)).toThrow(/no windows file/);
    const badJson = folder(csv, {});
    writeFileSync(join(badJson, 'windows.json'), '{ "a.csv": [ [1, 2] ] }');
    expect(() => openDataset(badJson)).toThrow(/windows\.json: expected/);
  });
});

describe('NAB layouts', () => {
  it('reads the repository layout: 58 files in 7 categories, 116 windows, the value column as metric `value`', () => {
    const d = openDataset(join(sharedDataDir(), 'nab-corpus'));
    expect(d.layout).toBe('nab');
    expect(d.files).toHaveLength(58);
    expect(new Set(d.files.map((f) => f.group)).size).toBe(7);
    expect(d.files.reduce((n, f) => n + f.windows.length, 0)).toBe(116);
    const taxi = d.files.find((f) => f.key === 'realKnownCause/nyc_taxi.csv')!;
    const loaded = loadFile(d, taxi, 'nyc_taxi');
    expect(loaded.metrics).toEqual(['value']);
    expect(loaded.ref.line).toBe('realKnownCause');
    expect(loaded.windows).toHaveLength(5);
    expect(loaded.probation).toBe(750);
  });

  it('reads the flat layout (CSV files and combined_windows.json in one folder)', () => {
    const d = openDataset(join(sharedDataDir(), 'nab'));
    expect(d.layout).toBe('nab-flat');
    expect(d.files.map((f) => f.key)).toEqual(['realKnownCause/ambient_temperature_system_failure.csv', 'realKnownCause/machine_temperature_system_failure.csv']);
    expect(d.files.map((f) => f.windows.length)).toEqual([2, 4]);
  });
});

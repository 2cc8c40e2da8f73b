import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseAllocations, summariseByStage } from '../../../load-tests/bench/profile-summary.js';

// The profile reader only, on small hand-made profiles: which stage a sample or an allocation is charged to.

const dir = mkdtempSync(join(tmpdir(), 'pp-profile-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
const DIST = 'file:///x/.tmp/bench-dist/src';

describe('profile-summary --by-stage', () => {
  it('charges a sample to its innermost src/ frame, libraries it called included; idle is left out of busy time', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6] },
        { id: 2, callFrame: frame('onMessage', `${DIST}/sources/mqtt/mqtt-source.js`), children: [3] },
        { id: 3, callFrame: frame('decode', `${DIST}/contract/decoder.js`), children: [4] },
        { id: 4, callFrame: frame('parse', 'file:///x/node_modules/some-lib/index.js') },
        { id: 5, callFrame: frame('(garbage collector)', '') },
        { id: 6, callFrame: frame('(idle)', '') },
      ],
      startTime: 0,
      endTime: 100,
      // Each sample lasts until the next one: 4 (10 ms), 2 (20 ms), 5 (30 ms), 6 (40 ms).
      samples: [4, 2, 5, 6, 6],
      timeDeltas: [0, 10_000, 20_000, 30_000, 40_000],
    };
    const file = join(dir, 'p.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const s = summariseByStage(file);
    expect(s.totalMs).toBe(100);
    expect(s.busyMs).toBe(60);
    const ms = Object.fromEntries(s.rows.map((r) => [r.stage, r.ms]));
    expect(ms['contract/decoder']).toBe(10); // the library's time belongs to the decoder that called it
    expect(ms['sources/mqtt/mqtt-source']).toBe(20);
    expect(ms['(garbage collector)']).toBe(30);
    expect(ms['sources/ (folder)']).toBe(20);
    expect(ms['(idle)']).toBeUndefined();
    expect(s.rows.find((r) => r.stage === '(garbage collector)')!.pctOfBusy).toBe(50);
  });
});

describe('profile-summary --alloc', () => {
  it('charges bytes allocated to the innermost src/ frame, and per stored sample', () => {
    const profile = {
      head: {
        id: 1,
        callFrame: frame('(root)', ''),
        selfSize: 0,
        children: [
          { id: 2, callFrame: frame('ingest', `${DIST}/pipeline/pipeline.js`), selfSize: 300, children: [{ id: 3, callFrame: frame('concat', 'node:buffer'), selfSize: 100, children: [] }] },
          { id: 4, callFrame: frame('tick', 'node:internal/timers'), selfSize: 600, children: [] },
        ],
      },
      storedSamples: 10,
    };
    const file = join(dir, 'p.heapprofile');
    writeFileSync(file, JSON.stringify(profile));
    const a = summariseAllocations(file);
    expect(a.totalBytes).toBe(1000);
    expect(a.storedSamples).toBe(10);
    const bytes = Object.fromEntries(a.rows.map((r) => [r.stage, r.bytes]));
    expect(bytes['pipeline/pipeline']).toBe(400);
    expect(bytes['(outside src) node']).toBe(600);
  });
});

describe('profile-summary on the command line', () => {
  const script = fileURLToPath(new URL('../../../load-tests/bench/profile-summary.ts', import.meta.url));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8' });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3] },
      { id: 2, callFrame: frame('collect', `${DIST}/analytics/engine.js`) },
      { id: 3, callFrame: frame('feed', `${DIST}/analytics/energy/window.js`) },
    ],
    startTime: 0,
    endTime: 30,
    samples: [2, 3, 3],
    timeDeltas: [0, 10_000, 20_000],
  };

  it('reads one profile and a row count', () => {
    const file = join(dir, 'one.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const r = cli(file, '1');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('`feed`');
    expect(r.stdout).not.toContain('`collect`');
  });

  it('refuses two profiles (a glob matching the worker thread\'s too) instead of printing an empty table', () => {
    const a = join(dir, 'a.cpuprofile');
    const b = join(dir, 'b.cpuprofile');
    writeFileSync(a, JSON.stringify(profile));
    writeFileSync(b, JSON.stringify(profile));
    for (const args of [[a, b], [a, b, '40']]) {
      const r = cli(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/expected one profile file and an optional row count/);
    }
  });
});

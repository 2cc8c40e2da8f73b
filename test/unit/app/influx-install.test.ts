import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureInflux, planInflux, probeHost, type InfluxHost } from '../../../src/app/influx-install.js';

const bare: InfluxHost = { influxd: null, root: false, sudo: false, aptGet: true };
const unset = { url: undefined, managed: true };

describe('npm start: whether to install InfluxDB', () => {
  it('never installs when PP_INFLUX_URL names an InfluxDB, whatever the host lacks', () => {
    expect(planInflux({ url: 'http://influx:8086', managed: true }, bare)).toEqual({ kind: 'configured' });
    expect(planInflux({ url: 'http://influx:8086', managed: false }, { ...bare, aptGet: false })).toEqual({ kind: 'configured' });
  });

  it('never installs with the history-less opt-out (PP_INFLUX_MANAGED=false)', () => {
    expect(planInflux({ managed: false }, { ...bare, root: true })).toEqual({ kind: 'opted-out' });
  });

  it('starts an installed influxd without installing anything', () => {
    expect(planInflux(unset, { ...bare, influxd: '/opt/influxdb/bin/influxd', root: true })).toEqual({ kind: 'managed', binary: '/opt/influxdb/bin/influxd' });
  });

  it('installs as root, or through sudo when not root', () => {
    expect(planInflux(unset, { ...bare, root: true })).toEqual({ kind: 'install', sudo: false });
    expect(planInflux(unset, { ...bare, root: true, sudo: true })).toEqual({ kind: 'install', sudo: false });
    expect(planInflux(unset, { ...bare, sudo: true })).toEqual({ kind: 'install', sudo: true });
  });

  it('without root or sudo, stops with the one command to run and the two ways around it', () => {
    const plan = planInflux(unset, bare);
    expect(plan.kind).toBe('stop');
    const message = plan.kind === 'stop' ? plan.message : '';
    expect(message).toContain('apt-get install -y influxdb');
    expect(message).toContain('PP_INFLUX_URL');
    expect(message).toContain('PP_INFLUX_MANAGED=false');
    expect(() => ensureInflux(unset, () => undefined, bare)).toThrow(/As root, run:\s+apt-get install -y influxdb/);
  });

  it('off Debian (no apt-get), stops and says to install InfluxDB 1.x', () => {
    const plan = planInflux(unset, { ...bare, root: true, aptGet: false });
    expect(plan).toMatchObject({ kind: 'stop', message: expect.stringMatching(/no apt-get.*InfluxDB 1\.x/s) });
  });

  it('ensureInflux passes the plans that need no install straight through, saying nothing', () => {
    const said: string[] = [];
    expect(ensureInflux({ managed: false }, (l) => said.push(l), bare)).toEqual({ kind: 'opted-out' });
    expect(ensureInflux(unset, (l) => said.push(l), { ...bare, influxd: '/opt/influxd' })).toEqual({ kind: 'managed', binary: '/opt/influxd' });
    expect(said).toEqual([]);
  });
});

describe('probeHost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pp-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tool = (name: string) => {
    writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, name), 0o755);
  };

  it('finds influxd, sudo and apt-get on the PATH it is given, and only there', () => {
    expect(probeHost(dir)).toMatchObject({ influxd: null, sudo: false, aptGet: false });
    tool('influxd');
    tool('sudo');
    tool('apt-get');
    expect(probeHost(`/nonexistent:${dir}`)).toMatchObject({ influxd: join(dir, 'influxd'), sudo: true, aptGet: true });
    expect(probeHost(dir).root).toBe(process.getuid?.() === 0);
  });
});

describe('one installer for npm start and npm test', () => {
  it('ensure-test-services.sh installs through install-debian-packages.sh, which alone runs apt-get install', () => {
    const script = (name: string) => readFileSync(new URL(`../../../scripts/${name}`, import.meta.url), 'utf8');
    expect(script('ensure-test-services.sh')).toContain('install-debian-packages.sh');
    expect(script('ensure-test-services.sh')).not.toMatch(/apt-get install/);
    expect(script('install-debian-packages.sh')).toMatch(/apt-get install -y/);
    expect(readFileSync(new URL('../../../src/app/influx-install.ts', import.meta.url), 'utf8')).toContain("'scripts/install-debian-packages.sh'");
  });
});

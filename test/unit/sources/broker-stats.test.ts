import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/index.js';
import { BROKER_STAT_TOPICS, BrokerStatsWatcher, parseBrokerStat } from '../../../src/sources/mqtt/broker-stats.js';

interface LogLine {
  level: number;
  msg: string;
  droppedMessages?: number;
  brokerDroppedTotal?: number;
  sinceBrokerStart?: boolean;
  topic?: string;
}
const WARN = 40;
const ERROR = 50;

/** A watcher that is never connected: receive() is fed by hand, as the broker's messages would be. */
function watcher() {
  const lines: LogLine[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(JSON.parse(chunk.toString()) as LogLine), done()) });
  const registry = new Registry();
  const w = new BrokerStatsWatcher({ url: 'mqtt://127.0.0.1:1', clientId: 'unit' }, registry, createLogger('debug', sink));
  const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  const errors = () => lines.filter((l) => l.level === ERROR);
  return { w, lines, value, errors };
}

describe('parseBrokerStat', () => {
  it('reads the whole numbers Mosquitto prints', () => {
    expect(parseBrokerStat(Buffer.from('0'))).toBe(0);
    expect(parseBrokerStat(Buffer.from('2147483648'))).toBe(2147483648);
    expect(parseBrokerStat(' 42\n')).toBe(42);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'abc', '-1', '1.5', '12 seconds', '1e3', '0x10', '9'.repeat(16)]) expect(parseBrokerStat(bad), bad).toBeNull();
  });
});

describe('BrokerStatsWatcher', () => {
  it('exports the three figures as the broker reports them, and ignores other topics', async () => {
    const { w, value, lines } = watcher();
    w.receive(BROKER_STAT_TOPICS.storedMessages, '73');
    w.receive(BROKER_STAT_TOPICS.storedBytes, '2218');
    w.receive(BROKER_STAT_TOPICS.dropped, '0');
    w.receive('$SYS/broker/uptime', '6 seconds');
    expect(await value('pp_broker_stored_messages')).toBe(73);
    expect(await value('pp_broker_stored_bytes')).toBe(2218);
    expect(await value('pp_broker_dropped_messages')).toBe(0);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('ignores a payload that is not a number with one warning per topic, keeping the last good value', async () => {
    const { w, value, lines } = watcher();
    w.receive(BROKER_STAT_TOPICS.storedBytes, '100');
    expect(() => w.receive(BROKER_STAT_TOPICS.storedBytes, 'lots')).not.toThrow();
    w.receive(BROKER_STAT_TOPICS.storedBytes, 'lots');
    w.receive(BROKER_STAT_TOPICS.dropped, Buffer.from([0xff, 0xfe]));
    expect(await value('pp_broker_stored_bytes')).toBe(100);
    const warnings = lines.filter((l) => l.level === WARN);
    expect(warnings.map((l) => l.topic)).toEqual([BROKER_STAT_TOPICS.storedBytes, BROKER_STAT_TOPICS.dropped]);
    expect(warnings[0]!.msg).toMatch(/not a whole number; ignored/);
  });

  it('logs one error per rise of the dropped count, saying how many and what to do', () => {
    const { w, errors } = watcher();
    w.receive(BROKER_STAT_TOPICS.dropped, '0');
    expect(errors()).toEqual([]);
    w.receive(BROKER_STAT_TOPICS.dropped, '80');
    w.receive(BROKER_STAT_TOPICS.dropped, '80');
    w.receive(BROKER_STAT_TOPICS.dropped, '95');
    expect(errors().map((l) => [l.droppedMessages, l.brokerDroppedTotal])).toEqual([
      [80, 80],
      [15, 95],
    ]);
    expect(errors()[0]!.msg).toMatch(/dropped 80 message\(s\).*max_queued_bytes.*acknowledged to their gateways and are lost.*add platform capacity/);
  });

  it('reports drops the broker counted before it was watched, and starts again from a broker restart', () => {
    const { w, errors } = watcher();
    w.receive(BROKER_STAT_TOPICS.dropped, '500');
    w.receive(BROKER_STAT_TOPICS.dropped, '0'); // the broker restarted: nothing dropped since
    w.receive(BROKER_STAT_TOPICS.dropped, '7');
    w.receive(BROKER_STAT_TOPICS.dropped, '3'); // restarted again, 3 dropped before we saw it
    expect(errors().map((l) => [l.droppedMessages, l.sinceBrokerStart ?? false])).toEqual([
      [500, true],
      [7, false],
      [3, true],
    ]);
    expect(errors()[0]!.msg).toMatch(/since it started/);
  });
});

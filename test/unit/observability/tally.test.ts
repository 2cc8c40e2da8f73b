import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Tally } from '../../../src/observability/tally.js';

async function valuesOf(counter: Counter<string>): Promise<Record<string, number>> {
  return Object.fromEntries((await counter.get()).values.map((v) => [String(v.labels.source), v.value]));
}

describe('Tally', () => {
  it('counts each value, however they interleave, and hands the counts over once per drain', async () => {
    const tally = new Tally<'mqtt' | 'http' | 'nats'>('source');
    const counter: Counter<string> = new Counter({ name: 't_total', help: 'h', labelNames: ['source'], registers: [new Registry()], collect: (): void => tally.drainInto(counter) });
    tally.add('mqtt');
    tally.add('mqtt', 9);
    tally.add('http', 2);
    tally.add('mqtt');
    tally.add('http');
    expect(await valuesOf(counter)).toEqual({ mqtt: 11, http: 3 });
    // Nothing new: nothing added, and a value not counted since stays as it was.
    expect(await valuesOf(counter)).toEqual({ mqtt: 11, http: 3 });
    tally.add('http', 4); // the value counted last before the drain
    tally.add('nats');
    tally.add('http');
    expect(await valuesOf(counter)).toEqual({ mqtt: 11, http: 8, nats: 1 });
  });
});

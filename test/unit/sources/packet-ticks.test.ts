import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { batchedNextTick, batchMqttTicks } from '../../../src/sources/mqtt/packet-ticks.js';

const shared = createRequire(createRequire(import.meta.url).resolve('mqtt'))('./lib/shared.js') as { nextTick: (cb: () => void) => void };

describe("MQTT.js's ticks, batched", () => {
  it('runs callbacks in the order process.nextTick would, those queued while running included, and promise reactions where it would', async () => {
    const run = async (tick: (cb: () => void) => void) => {
      const order: string[] = [];
      await new Promise<void>((done) =>
        setImmediate(() => {
          void Promise.resolve().then(() => order.push('promise'));
          tick(() => {
            order.push('a');
            tick(() => order.push('c'));
            void Promise.resolve().then(() => order.push('promise from a'));
          });
          tick(() => order.push('b'));
          setTimeout(done, 10);
        }),
      );
      return order;
    };
    const want = await run((cb) => process.nextTick(cb));
    expect(want).toEqual(['a', 'b', 'c', 'promise', 'promise from a']);
    expect(await run(batchedNextTick)).toEqual(want);
  });

  it('schedules one process tick per burst, not one per callback', async () => {
    const original = process.nextTick;
    let ticks = 0;
    process.nextTick = ((...args: Parameters<typeof original>) => {
      ticks++;
      return original(...args);
    }) as typeof original;
    try {
      let ran = 0;
      const chain = (n: number) => () => {
        ran++;
        if (n > 0) batchedNextTick(chain(n - 1));
      };
      batchedNextTick(chain(99));
      await new Promise((r) => setTimeout(r, 10));
      expect(ran).toBe(100);
      expect(ticks).toBe(1);
    } finally {
      process.nextTick = original;
    }
  });

  it('keeps what is queued behind a callback that throws, for the next tick', async () => {
    const ran: string[] = [];
    const errors: Error[] = [];
    const onError = (e: Error) => errors.push(e);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onError);
    try {
      batchedNextTick(() => {
        throw new Error('boom');
      });
      batchedNextTick(() => ran.push('after'));
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('uncaughtException', onError);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(ran).toEqual(['after']);
  });

  it("is MQTT.js's nextTick once installed (it was process.nextTick)", () => {
    const before = shared.nextTick;
    expect([process.nextTick, batchedNextTick]).toContain(before);
    batchMqttTicks();
    expect(shared.nextTick).toBe(batchedNextTick);
    expect(() => batchMqttTicks({ nextTick: undefined as never })).toThrow(/mqtt internals changed.*packet-ticks\.ts/);
  });
});

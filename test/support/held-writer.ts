import type { DurableWriter } from '../../src/pipeline/index.js';
import type { Point } from '../../src/storage/index.js';
import type { WriteWaiter } from '../../src/storage/write-waiter.js';

/** Storage whose callback form holds each write until the test answers its waiter; its promise form is only counted. */
export class HeldWriter implements DurableWriter {
  readonly saturated = false;
  readonly held: { points: Point[]; waiter: WriteWaiter }[] = [];
  promiseWrites = 0;

  write(): Promise<void> {
    this.promiseWrites++;
    return Promise.resolve();
  }

  writeThen(points: Point[], waiter: WriteWaiter): void {
    this.held.push({ points, waiter });
  }
}

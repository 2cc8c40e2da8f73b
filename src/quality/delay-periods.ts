import { DelayHistogram } from './delay-histogram.js';

export interface DelayPeriod {
  start: number;
  delays: DelayHistogram;
}

/**
 * Upload delays per uploader (a gateway, or a device without one) over tumbling periods of
 * ARRIVAL time, for the gateway delay alert. Arrival time, not sample time: the alert is about
 * how a gateway uploads now; a backlog replayed this minute is this minute's delay, even though
 * its samples belong to windows hours ago. A period is judged once it is over; a period in which
 * nothing arrived is no evidence (the offline alert covers that).
 */
export class DelayPeriods {
  private readonly current = new Map<string, DelayPeriod>();
  private readonly completed = new Map<string, DelayPeriod>();

  constructor(private readonly periodMs: number) {}

  add(uploader: string, delays: readonly number[], now: number): void {
    if (delays.length === 0) return;
    // `rotate` written out, on the one lookup: this runs for every stored message.
    let p = this.current.get(uploader);
    if (p !== undefined && p.start + this.periodMs <= now) {
      this.completed.set(uploader, p);
      this.current.delete(uploader); // the new period goes last, as it always did
      p = undefined;
    }
    if (p === undefined) this.current.set(uploader, (p = { start: this.periodStart(now), delays: new DelayHistogram() }));
    for (const d of delays) p.delays.add(d);
  }

  /** Periods that ended by `now` and were not judged yet (the latest one per uploader). */
  takeCompleted(now: number): Map<string, DelayPeriod> {
    for (const uploader of [...this.current.keys()]) this.rotate(uploader, now);
    const out = new Map(this.completed);
    this.completed.clear();
    return out;
  }

  private rotate(uploader: string, now: number): void {
    const p = this.current.get(uploader);
    if (!p || p.start + this.periodMs > now) return;
    this.completed.set(uploader, p);
    this.current.delete(uploader);
  }

  private periodStart(now: number): number {
    return Math.floor(now / this.periodMs) * this.periodMs;
  }
}

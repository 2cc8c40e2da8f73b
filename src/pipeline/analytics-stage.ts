import type { AlertRaiser } from '../alerts/index.js';
import type { AnalyticsEngine } from '../analytics/index.js';
import type { ParsedStatus, TelemetryBatch } from '../contract/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Point } from '../storage/point.js';

/**
 * The analytics stage as the pipeline sees it: one call per validated batch, in arrival order,
 * returning the derived points to store with the batch. Engine events are raised as alerts
 * (AlertRaiser: the alert manager decides, the notifiers hear). A failure in analytics
 * is logged and counted but never costs the batch itself: telemetry is stored regardless.
 */
export class AnalyticsStage {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly engine: AnalyticsEngine,
    private readonly alerts: AlertRaiser,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  process(batch: TelemetryBatch): readonly Point[] {
    try {
      const out = this.engine.process(batch, this.clock());
      if (out.points.length > 0) this.metrics.energyWindows.inc(out.points.length);
      this.alerts.raise(out.events);
      return out.points;
    } catch (err) {
      this.metrics.analyticsErrors.inc();
      this.log.error({ err, site: batch.site, line: batch.line, device: batch.device }, 'analytics failed on a batch (the batch is stored)');
      return [];
    }
  }

  /**
   * A status message (status topic, Sparkplug death, a gateway's will): an `offline` device gets
   * its silence alert now rather than after the silence timeout. `online` needs nothing: the
   * device's next data clears the silence.
   */
  status(status: ParsedStatus): void {
    if (status.state !== 'offline') return;
    try {
      const now = this.clock();
      const devices = status.kind === 'device' ? [status.ref] : status.devices;
      const reason = status.reason ?? (status.kind === 'gateway' ? `gateway ${status.gateway} offline` : null);
      // One raise for all of a gateway's devices: one alert-store transaction (one fsync), not one each.
      this.alerts.raise(devices.flatMap((ref) => this.engine.offline(ref, now, reason)));
    } catch (err) {
      this.metrics.analyticsErrors.inc();
      this.log.error({ err }, 'analytics failed on a status message');
    }
  }

  /** Time-driven work: silence detection, flapping and stale alerts. */
  tick(): void {
    try {
      this.alerts.raise(this.engine.tick(this.clock()));
      this.alerts.tick();
    } catch (err) {
      this.metrics.analyticsErrors.inc();
      this.log.error({ err }, 'analytics tick failed');
    }
  }

  start(everyMs: number): void {
    this.timer ??= setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

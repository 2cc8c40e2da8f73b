import uPlot from '../vendor/uplot/uPlot.esm.js';
import { hourMinute, time } from './format.js';

const AXIS = { stroke: '#9aa7b8', grid: { stroke: '#263241', width: 1 }, ticks: { stroke: '#263241', width: 1 } };

/**
 * One metric over a sliding time window: history first (`setHistory`), then live points
 * (`append`). uPlot draws to a canvas, so thousands of points at 2 updates a second stay cheap.
 * The container's `data-points` says how many points are drawn (tests and curious people).
 */
export class LiveChart {
  constructor(container, { title, color, windowMs, digits = 1 }) {
    this.container = container;
    this.windowMs = windowMs;
    this.xs = [];
    this.ys = [];
    this.noteEl = null;
    const width = Math.max(200, container.clientWidth);
    this.plot = new uPlot(
      {
        title,
        width,
        height: 200,
        pxAlign: false,
        scales: { x: { time: true } },
        legend: { show: true, live: true },
        series: [{ value: (_u, v) => (v == null ? '—' : time(v * 1000)) }, { label: title, stroke: color, width: 2, fill: `${color}22`, value: (_u, v) => (v == null ? '—' : v.toFixed(digits)) }],
        axes: [{ ...AXIS, values: (_u, splits) => splits.map((s) => hourMinute(s * 1000)) }, { ...AXIS, size: 56 }],
      },
      [[], []],
      container,
    );
    this.resize = new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, container.clientWidth), height: 200 }));
    this.resize.observe(container);
    this.render();
  }

  /** [[epoch ms, value], …] oldest first. */
  setHistory(points) {
    const live = this.xs.map((x, i) => [x * 1000, this.ys[i]]);
    const merged = [...points, ...live.filter(([ts]) => ts > (points.at(-1)?.[0] ?? -Infinity))];
    this.xs = merged.map(([ts]) => ts / 1000);
    this.ys = merged.map(([, v]) => v);
    this.render();
  }

  /** A line of text over the chart (no data, history unavailable); the next live point removes it. */
  note(text, kind = 'empty') {
    this.noteEl?.remove();
    this.noteEl = document.createElement('p');
    this.noteEl.className = `chart-note ${kind}`;
    this.noteEl.textContent = text;
    this.container.prepend(this.noteEl);
    this.container.dataset.note = kind;
  }

  append(ts, value) {
    if (!Number.isFinite(value)) return;
    if (this.noteEl) {
      this.noteEl.remove();
      this.noteEl = null;
      delete this.container.dataset.note;
    }
    const x = ts / 1000;
    if (this.xs.length > 0 && x <= this.xs.at(-1)) return;
    this.xs.push(x);
    this.ys.push(value);
    this.render();
  }

  render() {
    const cutoff = (Date.now() - this.windowMs) / 1000;
    let drop = 0;
    while (drop < this.xs.length && this.xs[drop] < cutoff) drop++;
    if (drop > 0) {
      this.xs.splice(0, drop);
      this.ys.splice(0, drop);
    }
    this.plot.setData([this.xs, this.ys]);
    this.container.dataset.points = String(this.xs.length);
    this.container.dataset.last = this.xs.length ? String(this.xs.at(-1) * 1000) : '';
  }

  destroy() {
    this.resize.disconnect();
    this.plot.destroy();
  }
}

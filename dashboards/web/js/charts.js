import uPlot from '../vendor/uplot/uPlot.esm.js';
import { axisFont, timeAxis, valueAxis } from './chart-axes.js';
import { num, time } from './format.js';
import { t } from './strings.js';

/**
 * An axis whose tick labels are also written to the container (`data-x-ticks`, `data-y-ticks`:
 * JSON `[[value, label], …]`), since a canvas keeps no text a test or a curious person can read.
 */
function recorded(axis, container, key) {
  return {
    ...axis,
    values: (u, splits, ...rest) => {
      const labels = axis.values(u, splits, ...rest);
      container.dataset[key] = JSON.stringify(splits.map((s, i) => [s, labels[i]]));
      return labels;
    },
  };
}

/** The container's width inside its padding: the plot takes exactly that, never spilling over its border. */
function plotWidth(container) {
  const style = getComputedStyle(container);
  return Math.max(200, Math.floor(container.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)));
}

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
    const font = axisFont();
    this.plot = new uPlot(
      {
        title,
        width: plotWidth(container),
        height: 200,
        pxAlign: false,
        scales: { x: { time: true } },
        legend: { show: true, live: true },
        series: [{ label: t('chartTime'), value: (_u, v) => (v == null ? '—' : time(v * 1000)) }, { label: title, stroke: color, width: 2, fill: `${color}22`, value: (_u, v) => num(v, digits) }],
        axes: [recorded(timeAxis(font), container, 'xTicks'), recorded(valueAxis(font), container, 'yTicks')],
      },
      [[], []],
      container,
    );
    this.resize = new ResizeObserver(() => this.plot.setSize({ width: plotWidth(container), height: 200 }));
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

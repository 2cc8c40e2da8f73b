import { dateTime, dayMonth, hourMinute, num, time } from './format.js';

/**
 * uPlot axis options for the live charts. The labels are drawn on a canvas, so they never wrap
 * or grow their box: a label that does not fit is clipped, and a format coarser than the tick
 * step repeats itself. Both are decided here, through uPlot's own options (`values`, `space`,
 * `size`), from what the labels measure in the axis font.
 */

const COLORS = { stroke: '#9aa7b8', grid: { stroke: '#263241', width: 1 }, ticks: { stroke: '#263241', width: 1, size: 8 } };
/** Canvas pixels between a y label and its tick (uPlot's `gap`). */
const GAP = 5;
/** Free room around an x label, so that neighbours never touch. */
const X_PADDING = 16;
/** The y axis never gets narrower than this, so a chart of small numbers keeps its usual width. */
const Y_MIN_SIZE = 40;

/** The page's font stack (CSS `--font`: it lists the CJK fonts), at the axis size. */
export function axisFont() {
  const stack = getComputedStyle(document.documentElement).getPropertyValue('--font').trim() || 'sans-serif';
  return `12px ${stack}`;
}

let measurer = null;
/** Width in CSS pixels of `text` drawn in `font`. */
function textWidth(text, font) {
  measurer ??= document.createElement('canvas').getContext('2d');
  measurer.font = font;
  return measurer.measureText(text).width;
}

const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;
/**
 * Tick steps in seconds. uPlot's own list jumps from 1 to 5 minutes, which leaves three ticks on
 * a 15-minute chart; 2 and 20 fill the gaps. Nothing below a second: samples come at most that fast.
 */
const TIME_STEPS = [1, 2, 5, 10, 15, 20, 30, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 20 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY];

/**
 * The format a time tick needs for the step between ticks: seconds below a minute, dates from a
 * day; hours with their date when the span passes a day (06:00 would come back the next day).
 */
function timeFormat(stepS, spanS) {
  if (stepS < MIN) return time;
  if (stepS >= DAY) return dayMonth;
  return spanS >= DAY ? dateTime : hourMinute;
}

/** Decimals that tell ticks `step` apart: 0.25 → 2, 5 → 0. */
export function stepDecimals(step) {
  const fraction = step.toFixed(10).replace(/0+$/, '').split('.')[1] ?? '';
  return fraction.length;
}

/** The x axis: time ticks as fine as their step, spaced by the width of the label they will get. */
export function timeAxis(font) {
  // A sample label of each format (every digit is as wide as any other in the fonts used).
  const rooms = new Map();
  const room = (fmt) => {
    if (!rooms.has(fmt)) rooms.set(fmt, Math.ceil(textWidth(fmt(Date.UTC(2026, 11, 31, 23, 59, 59)), font)) + X_PADDING);
    return rooms.get(fmt);
  };
  return {
    ...COLORS,
    font,
    // Which format the ticks get depends on the step uPlot picks from this space, so the space
    // is that of the format the step will roughly be (seconds when the span allows second steps).
    space: (_u, _axis, min, max, dim) => room(timeFormat(((max - min) / dim) * room(hourMinute), max - min)),
    incrs: TIME_STEPS,
    values: (_u, splits, _axis, _space, step) => {
      const format = timeFormat(step, splits.length > 1 ? splits.at(-1) - splits[0] : 0);
      return splits.map((s) => format(s * 1000));
    },
  };
}

/** The y axis: every digit of every label, the axis as wide as the widest one. */
export function valueAxis(font) {
  return {
    ...COLORS,
    font,
    gap: GAP,
    values: (_u, splits, _axis, _space, step) => splits.map((v) => num(v, stepDecimals(step))),
    // uPlot calls this again after the values change (cycleNum > 0) until the layout settles.
    size: (_u, values) => Math.max(Y_MIN_SIZE, Math.ceil(Math.max(0, ...(values ?? []).map((v) => textWidth(v, font))) + COLORS.ticks.size + GAP + 2)),
  };
}

import { METRIC_CATALOGUE, isKnownMetric } from '../../contract/metrics.js';
import type { Message } from '../types.js';

/**
 * Every detector message, in English and Chinese, in one place so wording, number formatting and
 * units stay consistent (and a translator finds them all). Messages say what happened with numbers
 * and units: "temperature_c 97.2 °C above limit 95 °C for 30 s" / "温度 97.2 °C 超过上限 95 °C 持续 30 秒".
 * English names the metric as stored (what people search for in dashboards); Chinese uses its name.
 */

interface MetricLabel {
  zh: string;
  unit: string;
  /** Shown as a percentage (value × 100, unit %): fractions such as idle_share read better that way. */
  percent?: boolean;
}

/** Chinese names (and units) of catalogue metrics and of the derived per-window energy metrics. */
const LABELS: Record<string, MetricLabel> = {
  power_kw: { zh: '有功功率', unit: 'kW' },
  energy_kwh: { zh: '累计电能', unit: 'kWh' },
  gas_m3: { zh: '累计天然气', unit: 'm³' },
  steam_t: { zh: '累计蒸汽', unit: 't' },
  water_m3: { zh: '累计用水', unit: 'm³' },
  output_units: { zh: '累计产量', unit: 'units' },
  state: { zh: '设备状态', unit: '' },
  temperature_c: { zh: '温度', unit: '°C' },
  pressure_kpa: { zh: '压力', unit: 'kPa' },
  vibration_mm_s: { zh: '振动速度', unit: 'mm/s' },
  current_a: { zh: '电流', unit: 'A' },
  voltage_v: { zh: '电压', unit: 'V' },
  power_factor: { zh: '功率因数', unit: '' },
  gas_lel_pct: { zh: '可燃气体浓度', unit: '%LEL' },
  // Derived per energy window (see rules/defaults.ts).
  intensity_kwh_per_unit: { zh: '单位产品电耗', unit: 'kWh/unit' },
  idle_share: { zh: '空载能耗占比', unit: '%', percent: true },
  power_factor_avg: { zh: '平均功率因数', unit: '' },
  // Rules on any sample of the device (silence).
  '*': { zh: '设备', unit: '' },
};

function label(metric: string): MetricLabel {
  const known = LABELS[metric];
  if (known) return known;
  return { zh: metric, unit: isKnownMetric(metric) ? METRIC_CATALOGUE[metric].unit : '' };
}

/** 97.2, 0.853, 12500, 1.2e-7: enough digits to act on, no float noise. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  let s: string;
  if (abs === 0) return '0';
  if (abs < 1e-3) s = v.toExponential(2);
  else if (abs >= 100) s = v.toFixed(1);
  else if (abs >= 1) s = v.toFixed(2);
  else s = v.toPrecision(3);
  return s.replace(/(\.\d*?)0+(?=$|e)/, '$1').replace(/\.(?=$|e)/, '');
}

/** A value with the metric's unit: "97.2 °C", "0.85", "42 %". */
export function formatValue(metric: string, v: number): string {
  const l = label(metric);
  const shown = l.percent ? v * 100 : v;
  return l.unit ? `${formatNumber(shown)} ${l.unit}` : formatNumber(shown);
}

function rateUnit(metric: string): { en: string; zh: string } {
  const unit = label(metric).unit;
  return unit ? { en: `${unit}/min`, zh: `${unit}/分钟` } : { en: '/min', zh: '/分钟' };
}

export function formatDuration(ms: number): { en: string; zh: string } {
  const s = ms / 1000;
  if (s <= 120) return { en: `${formatNumber(Math.round(s))} s`, zh: `${formatNumber(Math.round(s))} 秒` };
  if (s < 7200) return { en: `${formatNumber(Math.round(s / 60))} min`, zh: `${formatNumber(Math.round(s / 60))} 分钟` };
  if (s < 172_800) return { en: `${formatNumber(Number((s / 3600).toFixed(1)))} h`, zh: `${formatNumber(Number((s / 3600).toFixed(1)))} 小时` };
  return { en: `${formatNumber(Number((s / 86_400).toFixed(1)))} d`, zh: `${formatNumber(Number((s / 86_400).toFixed(1)))} 天` };
}

function forDuration(heldMs: number): { en: string; zh: string } {
  if (heldMs <= 0) return { en: '', zh: '' };
  const d = formatDuration(heldMs);
  return { en: ` for ${d.en}`, zh: ` 持续 ${d.zh}` };
}

export type Side = 'high' | 'low';

/**
 * What went silent: the device (heartbeat rules, metric `*`) or a metric. In Chinese the subject
 * runs straight into the sentence after a Chinese label ("设备已…"), and keeps a space after a Latin
 * one (a metric outside the catalogue: "vib_g 已…").
 */
function silentWhat(metric: string): { en: string; zh: string } {
  if (metric === '*') return { en: 'device', zh: '设备' };
  const zh = label(metric).zh;
  return { en: metric, zh: /[\u3400-\u9fff]$/.test(zh) ? zh : `${zh} ` };
}

export const messages = {
  limitRaised(metric: string, value: number, limit: number, side: Side, heldMs: number): Message {
    const v = formatValue(metric, value);
    const l = formatValue(metric, limit);
    const f = forDuration(heldMs);
    return side === 'high'
      ? { en: `${metric} ${v} above limit ${l}${f.en}`, zh: `${label(metric).zh} ${v} 超过上限 ${l}${f.zh}` }
      : { en: `${metric} ${v} below limit ${l}${f.en}`, zh: `${label(metric).zh} ${v} 低于下限 ${l}${f.zh}` };
  },

  limitCleared(metric: string, value: number, limit: number, side: Side, clearAt: number): Message {
    const v = formatValue(metric, value);
    const l = formatValue(metric, limit);
    const c = formatValue(metric, clearAt);
    return side === 'high'
      ? { en: `${metric} ${v} back at or below ${c} (limit ${l})`, zh: `${label(metric).zh} ${v} 已回落至 ${c} 以下（上限 ${l}）` }
      : { en: `${metric} ${v} back at or above ${c} (limit ${l})`, zh: `${label(metric).zh} ${v} 已回升至 ${c} 以上（下限 ${l}）` };
  },

  rateRaised(metric: string, ratePerMin: number, limitPerMin: number, heldMs: number): Message {
    const u = rateUnit(metric);
    const r = formatNumber(Math.abs(ratePerMin));
    const l = formatNumber(limitPerMin);
    const f = forDuration(heldMs);
    const [en, zh] = ratePerMin >= 0 ? ['rising', '上升'] : ['falling', '下降'];
    return {
      en: `${metric} ${en} at ${r} ${u.en}, above limit ${l} ${u.en}${f.en}`,
      zh: `${label(metric).zh} ${zh}速率 ${r} ${u.zh} 超过限值 ${l} ${u.zh}${f.zh}`,
    };
  },

  rateCleared(metric: string, ratePerMin: number, limitPerMin: number): Message {
    const u = rateUnit(metric);
    const r = formatNumber(Math.abs(ratePerMin));
    const l = formatNumber(limitPerMin);
    return {
      en: `${metric} rate of change back to ${r} ${u.en} (limit ${l} ${u.en})`,
      zh: `${label(metric).zh} 变化速率已回落至 ${r} ${u.zh}（限值 ${l} ${u.zh}）`,
    };
  },

  baselineRaised(metric: string, value: number, mean: number, z: number, threshold: number, heldMs: number): Message {
    const v = formatValue(metric, value);
    const b = formatValue(metric, mean);
    const t = formatValue(metric, threshold);
    const sigmas = formatNumber(Math.abs(z));
    const f = forDuration(heldMs);
    return z >= 0
      ? { en: `${metric} ${v} is ${sigmas}σ above its baseline ${b} (threshold ${t})${f.en}`, zh: `${label(metric).zh} ${v} 高于基线 ${b} ${sigmas} 个标准差（阈值 ${t}）${f.zh}` }
      : { en: `${metric} ${v} is ${sigmas}σ below its baseline ${b} (threshold ${t})${f.en}`, zh: `${label(metric).zh} ${v} 低于基线 ${b} ${sigmas} 个标准差（阈值 ${t}）${f.zh}` };
  },

  baselineCleared(metric: string, value: number, mean: number, zClear: number): Message {
    const v = formatValue(metric, value);
    const b = formatValue(metric, mean);
    const z = formatNumber(zClear);
    return { en: `${metric} ${v} back within ${z}σ of its baseline ${b}`, zh: `${label(metric).zh} ${v} 已回到基线 ${b} 的 ${z} 个标准差以内` };
  },

  robustRunEnded(metric: string, value: number, gapMs: number): Message {
    const d = formatDuration(gapMs);
    const v = formatValue(metric, value);
    return {
      en: `${metric} back after a ${d.en} pause (now ${v}): the run this alert was raised in has ended; judged afresh once settled`,
      zh: `${label(metric).zh} 暂停 ${d.zh} 后恢复（当前 ${v}）：告警所在的运行已结束，稳定后重新判断`,
    };
  },

  baselineResetAfterGap(metric: string, value: number, gapMs: number): Message {
    const d = formatDuration(gapMs);
    const v = formatValue(metric, value);
    return {
      en: `${metric} baseline re-learning after a ${d.en} gap in data (now ${v}); the deviation can no longer be judged`,
      zh: `${label(metric).zh} 数据中断 ${d.zh}，基线重新学习（当前 ${v}），无法继续判断偏离`,
    };
  },

  baselineRelearned(metric: string, value: number, heldMs: number): Message {
    const d = formatDuration(heldMs);
    const v = formatValue(metric, value);
    return {
      en: `${metric} has stayed at its new level (now ${v}) for ${d.en}: re-learning it as the baseline`,
      zh: `${label(metric).zh} 新水平（当前 ${v}）已持续 ${d.zh}，作为新基线重新学习`,
    };
  },

  robustRaised(metric: string, value: number, location: number, z: number, shift: boolean): Message {
    const v = formatValue(metric, value);
    const b = formatValue(metric, location);
    const sigmas = formatNumber(Math.abs(z));
    if (shift) {
      return z >= 0
        ? { en: `${metric} shifted up: ${v}, ${sigmas}σ above its usual ${b}, for many samples in a row`, zh: `${label(metric).zh} 水平上移：${v}，连续多个样本高于常值 ${b}（${sigmas} 个标准差）` }
        : { en: `${metric} shifted down: ${v}, ${sigmas}σ below its usual ${b}, for many samples in a row`, zh: `${label(metric).zh} 水平下移：${v}，连续多个样本低于常值 ${b}（${sigmas} 个标准差）` };
    }
    return z >= 0
      ? { en: `${metric} ${v} is ${sigmas}σ above its usual ${b}`, zh: `${label(metric).zh} ${v} 高于常值 ${b} ${sigmas} 个标准差` }
      : { en: `${metric} ${v} is ${sigmas}σ below its usual ${b}`, zh: `${label(metric).zh} ${v} 低于常值 ${b} ${sigmas} 个标准差` };
  },

  distributionRaised(metric: string, value: number, location: number, spread: number, window: number, run: number): Message {
    const v = formatValue(metric, value);
    const b = formatValue(metric, location);
    const sd = formatValue(metric, spread);
    return {
      en: `${metric} behaves unlike before: the spread of its last ${window} values (now ${v}) about its usual ${b} ± ${sd} has matched none of its learned patterns for ${run} samples`,
      zh: `${label(metric).zh} 行为异常：最近 ${window} 个值（当前 ${v}）围绕常值 ${b} ± ${sd} 的分布已连续 ${run} 个样本不符合任何已学习的模式`,
    };
  },

  distributionCleared(metric: string, value: number, samples: number): Message {
    const v = formatValue(metric, value);
    return { en: `${metric} behaves as usual again (now ${v}) for ${samples} samples`, zh: `${label(metric).zh} 已连续 ${samples} 个样本恢复常态（当前 ${v}）` };
  },

  robustRelearned(metric: string, value: number, samples: number): Message {
    const v = formatValue(metric, value);
    return {
      en: `${metric} has stayed at its new level (now ${v}) for ${samples} samples: re-learning it as the usual level`,
      zh: `${label(metric).zh} 新水平（当前 ${v}）已持续 ${samples} 个样本，作为常值重新学习`,
    };
  },

  multivariateRaised(z: number, metrics: number, top: readonly { metric: string; z: number; share: number }[]): Message {
    const sigmas = formatNumber(z);
    const en = top.map((t) => `${t.metric} ${t.z >= 0 ? '+' : '−'}${formatNumber(Math.abs(t.z))}σ (${Math.round(t.share * 100)} %)`).join(', ');
    const zh = top.map((t) => `${label(t.metric).zh} ${t.z >= 0 ? '+' : '−'}${formatNumber(Math.abs(t.z))}σ（${Math.round(t.share * 100)} %）`).join('，');
    return {
      en: `${metrics} metrics no longer move together as learned (${sigmas}σ); moved most: ${en}`,
      zh: `${metrics} 个指标的联动偏离学习到的常态（${sigmas} 个标准差）；变化最大：${zh}`,
    };
  },

  multivariateCleared(z: number): Message {
    const sigmas = formatNumber(Math.max(0, z));
    return { en: `metrics move together as learned again (${sigmas}σ)`, zh: `各指标联动已恢复常态（${sigmas} 个标准差）` };
  },

  multivariateRelearned(samples: number): Message {
    return {
      en: `metrics have moved together in a new way for ${samples} samples: re-learning it as normal`,
      zh: `各指标的新联动方式已持续 ${samples} 个样本，作为常态重新学习`,
    };
  },

  residualRaised(metric: string, value: number, z: number): Message {
    const v = formatValue(metric, value);
    const sigmas = formatNumber(Math.abs(z));
    return z >= 0
      ? { en: `${metric} ${v} is higher than the device's other metrics explain (${sigmas}σ of its usual residual)`, zh: `${label(metric).zh} ${v} 高于设备其他指标所能解释的水平（残差 ${sigmas} 个标准差）` }
      : { en: `${metric} ${v} is lower than the device's other metrics explain (${sigmas}σ of its usual residual)`, zh: `${label(metric).zh} ${v} 低于设备其他指标所能解释的水平（残差 ${sigmas} 个标准差）` };
  },

  residualCleared(): Message {
    return { en: "metrics agree with what the device's other metrics predict again", zh: '各指标已恢复与设备其他指标的预测一致' };
  },

  residualRelearned(samples: number): Message {
    return {
      en: `metrics have differed from their prediction for ${samples} samples: re-learning their relations as normal`,
      zh: `指标偏离预测已持续 ${samples} 个样本，作为常态重新学习其关系`,
    };
  },

  residualReset(gapMs: number): Message {
    const d = formatDuration(gapMs);
    return { en: `relations between metrics re-learning after a ${d.en} gap in data`, zh: `数据中断 ${d.zh}，指标间关系重新学习` };
  },

  dynamicsRaised(metric: string, value: number, higher: boolean): Message {
    const v = formatValue(metric, value);
    return higher
      ? { en: `${metric} ${v} keeps rising faster than its own dynamics and the device's other metrics predict`, zh: `${label(metric).zh} ${v} 持续高于其自身动态与设备其他指标的预测` }
      : { en: `${metric} ${v} keeps falling faster than its own dynamics and the device's other metrics predict`, zh: `${label(metric).zh} ${v} 持续低于其自身动态与设备其他指标的预测` };
  },

  dynamicsCleared(): Message {
    return { en: "metrics step as their own dynamics and the device's other metrics predict again", zh: '各指标已恢复与自身动态及设备其他指标的预测一致' };
  },

  dynamicsRelearned(samples: number): Message {
    return {
      en: `metrics have stepped unlike their prediction for ${samples} samples: re-learning their dynamics as normal`,
      zh: `指标偏离动态预测已持续 ${samples} 个样本，作为常态重新学习`,
    };
  },

  dynamicsReset(gapMs: number): Message {
    const d = formatDuration(gapMs);
    return { en: `dynamics of metrics re-learning after a ${d.en} gap in data`, zh: `数据中断 ${d.zh}，指标动态重新学习` };
  },

  multivariateReset(gapMs: number): Message {
    const d = formatDuration(gapMs);
    return { en: `joint behaviour of metrics re-learning after a ${d.en} gap in data`, zh: `数据中断 ${d.zh}，指标联动重新学习` };
  },

  flatlineRaised(metric: string, value: number, heldMs: number, samples: number): Message {
    const v = formatValue(metric, value);
    const d = formatDuration(heldMs);
    return {
      en: `${metric} stuck at ${v} for ${d.en} (${samples} samples): sensor may be frozen`,
      zh: `${label(metric).zh} 停滞在 ${v} 持续 ${d.zh}（${samples} 个样本），传感器可能冻结`,
    };
  },

  flatlineCleared(metric: string, from: number, to: number): Message {
    const a = formatValue(metric, from);
    const b = formatValue(metric, to);
    return { en: `${metric} changing again (${a} → ${b})`, zh: `${label(metric).zh} 恢复变化（${a} → ${b}）` };
  },

  rangeRaised(metric: string, value: number, min: number, max: number): Message {
    const v = formatValue(metric, value);
    const r = `${formatValue(metric, min)} … ${formatValue(metric, max)}`;
    return {
      en: `${metric} ${v} outside the physical range ${r}: sensor fault`,
      zh: `${label(metric).zh} ${v} 超出物理量程 ${r}，传感器故障`,
    };
  },

  rangeCleared(metric: string, value: number, min: number, max: number): Message {
    const v = formatValue(metric, value);
    const r = `${formatValue(metric, min)} … ${formatValue(metric, max)}`;
    return { en: `${metric} ${v} back inside the physical range ${r}`, zh: `${label(metric).zh} ${v} 已回到物理量程 ${r} 内` };
  },

  silenceRaised(metric: string, silentMs: number, timeoutS: number): Message {
    const d = formatDuration(silentMs);
    const t = formatDuration(timeoutS * 1000);
    const what = silentWhat(metric);
    return { en: `${what.en}: no data for ${d.en} (timeout ${t.en})`, zh: `${what.zh}已 ${d.zh}无数据（超时 ${t.zh}）` };
  },

  silenceOffline(metric: string, reason: string | null): Message {
    const what = silentWhat(metric);
    return { en: `${what.en}: reported offline${reason ? ` (${reason})` : ''}`, zh: `${what.zh}已报告离线${reason ? `（${reason}）` : ''}` };
  },

  silenceCleared(metric: string, silentMs: number): Message {
    const d = formatDuration(silentMs);
    const what = silentWhat(metric);
    return { en: `${what.en}: data resumed after ${d.en} without data`, zh: `${what.zh}数据已恢复（中断 ${d.zh}）` };
  },
};

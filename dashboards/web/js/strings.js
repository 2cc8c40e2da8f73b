/**
 * Every piece of UI text, in English and Chinese (one file, so a translator edits one place).
 * Alert messages come from the platform in both languages already (alert.message.en / .zh).
 */
export const STRINGS = {
  en: {
    appSubtitle: 'Live plant',
    langButton: '中文',
    settings: 'Settings',
    operatorName: 'Your name (recorded when you acknowledge)',
    apiToken: 'API token (optional)',
    tokenHint: 'Stored in this browser only. Sent as a Bearer token to the API and to the live feed.',
    cancel: 'Cancel',
    save: 'Save',
    connLive: 'Live',
    connConnecting: 'Connecting…',
    connReconnecting: 'Reconnecting…',
    connUnauthorized: 'Not authorised: check the API token',
    openAlerts: 'Open alerts',
    noAlerts: 'No open alerts',
    acknowledge: 'Acknowledge',
    acknowledged: 'Acknowledged by {by}',
    ackFailed: 'Acknowledge failed: {reason}',
    resolved: 'Resolved',
    plantOverview: 'Plant overview',
    waitingForData: 'Waiting for data from the plant…',
    totalPower: 'Power now',
    energyToday: 'Energy today',
    intensityToday: 'Energy intensity today',
    vsBaseline: '{pct} vs 7-day baseline',
    noBaseline: 'no baseline yet',
    machinesRunning: 'Machines running',
    outputToday: 'Output today',
    site: 'Site',
    line: 'Line',
    back: '← Plant',
    stateRunning: 'Running',
    stateIdle: 'Idle',
    stateStopped: 'Stopped',
    stateFault: 'Fault',
    stateUnknown: 'Unknown',
    noDataFor: 'No data for {d}',
    updated: 'Updated {d} ago',
    chartTime: 'Time',
    chartPower: 'Power (kW)',
    chartTemperature: 'Temperature (°C)',
    chartVibration: 'Vibration (mm/s RMS)',
    chartOutput: 'Output (good parts, cumulative)',
    machineAlerts: 'Alerts on this machine',
    historyFailed: 'History unavailable: {reason}',
    noMetricData: 'This machine has not reported this in the last 15 minutes.',
    units: 'units',
    perUnit: 'kWh/unit',
    severity_info: 'Info',
    severity_warning: 'Warning',
    severity_critical: 'Critical',
    category_safety: 'Safety',
    category_energy: 'Energy',
    category_sensor: 'Sensor',
    category_data: 'Data',
    openedAt: 'since {t}',
    times: '×{n}',
    value: 'value {v}',
    threshold: 'limit {v}',
  },
  zh: {
    appSubtitle: '实时工厂',
    langButton: 'EN',
    settings: '设置',
    operatorName: '您的姓名（确认告警时记录）',
    apiToken: 'API 令牌（可选）',
    tokenHint: '仅保存在本浏览器中。以 Bearer 令牌发送给 API 和实时数据流。',
    cancel: '取消',
    save: '保存',
    connLive: '实时',
    connConnecting: '连接中…',
    connReconnecting: '重新连接中…',
    connUnauthorized: '未授权：请检查 API 令牌',
    openAlerts: '未关闭告警',
    noAlerts: '没有未关闭的告警',
    acknowledge: '确认',
    acknowledged: '已由 {by} 确认',
    ackFailed: '确认失败：{reason}',
    resolved: '已恢复',
    plantOverview: '工厂总览',
    waitingForData: '正在等待工厂数据…',
    totalPower: '当前功率',
    energyToday: '今日能耗',
    intensityToday: '今日单位产品能耗',
    vsBaseline: '较 7 日基线 {pct}',
    noBaseline: '暂无基线',
    machinesRunning: '运行中设备',
    outputToday: '今日产量',
    site: '厂区',
    line: '产线',
    back: '← 工厂',
    stateRunning: '运行',
    stateIdle: '待机',
    stateStopped: '停机',
    stateFault: '故障',
    stateUnknown: '未知',
    noDataFor: '{d} 无数据',
    updated: '{d} 前更新',
    chartTime: '时间',
    chartPower: '功率（kW）',
    chartTemperature: '温度（°C）',
    chartVibration: '振动（mm/s 有效值）',
    chartOutput: '产量（合格件，累计）',
    machineAlerts: '本设备告警',
    historyFailed: '历史数据不可用：{reason}',
    noMetricData: '该设备最近 15 分钟未上报此项数据。',
    units: '件',
    perUnit: 'kWh/件',
    severity_info: '提示',
    severity_warning: '警告',
    severity_critical: '严重',
    category_safety: '安全',
    category_energy: '能源',
    category_sensor: '传感器',
    category_data: '数据',
    openedAt: '自 {t}',
    times: '×{n}',
    value: '数值 {v}',
    threshold: '限值 {v}',
  },
};

const listeners = new Set();
let lang = localStorage.getItem('pp.lang') ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en');

export function currentLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'zh' ? 'zh' : 'en';
  localStorage.setItem('pp.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** The string `key` in the current language, `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Fill every `data-i18n` element's text. */
export function applyStaticText(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

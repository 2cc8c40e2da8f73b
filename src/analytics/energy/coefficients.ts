/**
 * Reference coefficient tables for energy accounting (docs/analytics.md). Each table carries
 * a version and its source so a report can say which numbers it used; every value here is a
 * default that configuration can override (see config.ts), globally or per site.
 */

/**
 * The carriers counted as energy or resource use, by their metric names in the catalogue
 * (src/contract/metrics.ts). All four are cumulative meter readings.
 * - `energy_kwh`: electricity (kWh)
 * - `gas_m3`: natural gas (m³)
 * - `steam_t`: steam (t)
 * - `water_m3`: water (m³): counted, but it is not energy, so it never has tce or CO2.
 */
export const ENERGY_CARRIERS = ['energy_kwh', 'gas_m3', 'steam_t', 'water_m3'] as const;
export type EnergyCarrier = (typeof ENERGY_CARRIERS)[number];

/**
 * Standard coal equivalent per GB/T 2589-2020 《综合能耗计算通则》 (General rules for calculation
 * of the comprehensive energy consumption), from its informative reference coefficient tables.
 * 1 kgce is defined as 29,307 kJ (7,000 kcal) of low calorific value.
 */
export const STANDARD_COAL_GB_T_2589_2020 = {
  version: 'GB/T 2589-2020',
  source: 'GB/T 2589-2020 General rules for calculation of the comprehensive energy consumption (reference coefficients)',
  /** 1 kgce = 29.307 MJ. */
  mjPerKgce: 29.307,
  /**
   * Electricity, equivalent value (当量值): the heat content of 1 kWh, 860 kcal ÷ 7,000 kcal/kgce
   * = 0.12286 → 0.1229 kgce/kWh. (The equal value, 等价值, which charges the fuel burnt at the power
   * station, is a different, yearly-published number; configure it if a report asks for it.)
   * Like every row of the table, it is a calorific value in kcal ÷ 7,000, rounded to 4 decimals.
   */
  electricityKgcePerKwh: 0.1229,
  /**
   * Natural gas, 1.2143 kgce/m³: a low calorific value of 8,500 kcal/m³ ÷ 7,000 kcal/kgce
   * (≈ 35.59 MJ/m³). Note: the CO2 factor below follows the GHG accounting guides, which use
   * 38.931 MJ/m³; the two defaults therefore rest on different calorific values. Sites with a
   * measured calorific value should override both.
   */
  naturalGasKgcePerM3: 1.2143,
  /** Raw coal, 5,000 kcal/kg ÷ 7,000 = 0.7143 kgce/kg (not a catalogue metric today; kept for completeness). */
  rawCoalKgcePerKg: 0.7143,
  /** Diesel, 10,200 kcal/kg ÷ 7,000 = 1.4571 kgce/kg (not a catalogue metric today). */
  dieselKgcePerKg: 1.4571,
  /** Heat, 1 MJ (238.8 kcal) ÷ 29.307 MJ/kgce = 0.0341 kgce/MJ (not a catalogue metric today). */
  heatKgcePerMj: 0.0341,
  /**
   * Steam: no agreed default. Its coal equivalent depends on pressure and temperature (enthalpy)
   * and on how the site's supplier accounts for it, so it must be configured per site
   * (`steamKgcePerT`); without it, steam is reported as energy (t) without tce, and each window
   * says so (`notInTce`).
   */
  steamKgcePerT: null,
} as const;

/** Names of the regional grids in the MEE/NBS regional tables. */
export const GRID_REGIONS = ['North', 'East', 'Central', 'Northwest', 'Northeast', 'South', 'Southwest'] as const;
export type GridRegion = (typeof GRID_REGIONS)[number];

/**
 * Grid CO2 emission factors (kg CO2 per kWh of electricity consumed), published by the Ministry of
 * Ecology and Environment (MEE, 生态环境部) and the National Bureau of Statistics (NBS, 国家统计局)
 * in their announcements of electricity CO2 emission factors (电力二氧化碳排放因子): the national
 * average factor (全国电力平均二氧化碳排放因子) and the regional grid averages (区域电力平均二氧化碳排放因子).
 * These are averages over all generation, fossil and non-fossil. Check a report's own rules
 * (some schemes ask for the fossil-only or a provincial factor) and override when they differ.
 */
export const GRID_FACTORS_MEE_NBS = {
  version: 'MEE/NBS electricity CO2 emission factors, data years 2021-2023',
  source: 'MEE & NBS announcements of electricity CO2 emission factors (national average; regional averages for 2022)',
  /** National average, by data year. */
  national: { 2021: 0.5568, 2022: 0.5366, 2023: 0.5306 } as Readonly<Record<number, number>>,
  /** Regional grid averages, data year 2022. */
  regionalYear: 2022,
  regional: {
    /** 华北: Beijing, Tianjin, Hebei, Shanxi, Shandong, Inner Mongolia (west). */
    North: 0.6776,
    /** 华东: Shanghai, Jiangsu, Zhejiang, Anhui, Fujian. */
    East: 0.5617,
    /** 华中: Henan, Hubei, Hunan, Jiangxi. */
    Central: 0.5395,
    /** 西北: Shaanxi, Gansu, Qinghai, Ningxia, Xinjiang. */
    Northwest: 0.5857,
    /** 东北: Liaoning, Jilin, Heilongjiang, Inner Mongolia (east). */
    Northeast: 0.5564,
    /** 南方: Guangdong, Guangxi, Yunnan, Guizhou, Hainan. */
    South: 0.3869,
    /** 西南: Sichuan, Chongqing, Tibet. Hydro-rich: the region matters (less than half the national factor). */
    Southwest: 0.2268,
  } satisfies Record<GridRegion, number>,
} as const;

/** The default grid factor: the latest national average (data year 2023). */
export const DEFAULT_GRID_YEAR = 2023;

/**
 * Natural gas combustion CO2, kg per m³:
 *   IPCC 2006 Guidelines, Vol. 2 (Energy), Table 2.2: default CO2 emission factor of natural gas
 *   56,100 kg CO2/TJ (it already assumes complete oxidation);
 *   calorific value 38,931 kJ/m³ (9,310 kcal/m³: listed for natural gas in GB/T 2589's tables,
 *   and the value China's enterprise GHG accounting guides use, 389.31 GJ per 10⁴ Nm³);
 *   56,100 kg/TJ × 38,931 kJ/m³ × 10⁻⁹ TJ/kJ = 2.18403 kg CO2/m³ (≈ 2.184).
 */
export const NATURAL_GAS_CO2 = {
  source: 'IPCC 2006 Guidelines Vol. 2 Table 2.2 (56,100 kg CO2/TJ) × 38,931 kJ/m³ (GB/T 2589)',
  kgCo2PerTj: 56_100,
  kjPerM3: 38_931,
  kgCo2PerM3: (56_100 * 38_931) / 1e9,
} as const;

/**
 * Steam CO2 has no default for the same reason as its coal equivalent: it depends on the boiler
 * that raised it. Configure `steamKgCo2PerT` per site; otherwise steam is left out of CO2 and each
 * window says so (`notInCo2`).
 */
export const STEAM_CO2_KG_PER_T_DEFAULT = null;

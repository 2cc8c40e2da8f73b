import { PlantPulseError } from '../contract/index.js';
import { queryInfluxQL, type QueryAuth, type Row } from './query-v1.js';

/**
 * Read access to history for the API: InfluxQL on `/query`, which InfluxDB 1.x serves natively
 * and 2.x/3.x through their v1-compatible endpoint (docs/architecture.md, "Reads"). Errors come back coded, so the
 * API answers 502 (storage said no) or 503 (there is no storage) with the reason.
 */
export interface HistoryReader {
  readonly available: boolean;
  query(influxql: string): Promise<Row[]>;
}

export function influxHistory(url: string, db: string, auth: QueryAuth, timeoutMs: number): HistoryReader {
  return {
    available: true,
    async query(q) {
      try {
        return await queryInfluxQL(url, db, q, auth, timeoutMs);
      } catch (err) {
        throw new PlantPulseError('PP_ERR_QUERY_FAILED', (err as Error).message);
      }
    },
  };
}

export const NO_HISTORY: HistoryReader = {
  available: false,
  query: () => Promise.reject(new PlantPulseError('PP_ERR_NO_HISTORY')),
};

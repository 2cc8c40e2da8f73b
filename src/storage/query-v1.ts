/**
 * InfluxQL over `GET /query`, which every InfluxDB generation serves (2.x and 3.x through their
 * v1-compatible endpoint). Read-only: InfluxDB 1.x refuses statements that change anything
 * over GET. Used by the platform's readiness check and by tests to read data back.
 *
 * Rows come back as objects keyed by column, with the series' tags (GROUP BY) merged in;
 * `time` is epoch milliseconds.
 */
export type Row = Record<string, string | number | boolean | null>;

export interface QueryAuth {
  username?: string;
  password?: string;
  /** InfluxDB 2.x/3.x token (sent as `Authorization: Token ...`). */
  token?: string;
}

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
  partial?: boolean;
}

interface QueryResponse {
  error?: string;
  results?: { statement_id?: number; error?: string; series?: Series[]; partial?: boolean }[];
}

export async function queryInfluxQL(url: string, db: string, q: string, auth: QueryAuth = {}, timeoutMs = 30_000): Promise<Row[]> {
  const params = new URLSearchParams({ db, q, epoch: 'ms' });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth.token) headers.authorization = `Token ${auth.token}`;
  else if (auth.username) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  const res = await fetch(`${url.replace(/\/+$/, '')}/query?${params}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxQL query failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  let body: QueryResponse;
  try {
    body = JSON.parse(text) as QueryResponse;
  } catch {
    throw new Error(`InfluxQL query: not JSON: ${text.slice(0, 300)}`);
  }
  if (body.error) throw new Error(`InfluxQL error: ${body.error}`);
  const rows: Row[] = [];
  for (const result of body.results ?? []) {
    if (result.error) throw new Error(`InfluxQL error: ${result.error}`);
    // A server-side row limit (max-row-limit) truncates silently unless we look.
    if (result.partial || result.series?.some((s) => s.partial)) throw new Error('InfluxQL result is partial (server row limit): narrow the query');
    for (const s of result.series ?? []) {
      for (const values of s.values ?? []) {
        const row: Row = { ...s.tags };
        for (let i = 0; i < s.columns.length; i++) row[s.columns[i]!] = values[i] as Row[string];
        rows.push(row);
      }
    }
  }
  return rows;
}

/**
 * InfluxQL over `/query`, which every InfluxDB generation serves (2.x through its v1
 * compatibility endpoint). Rows come back as objects keyed by column, with tags merged in.
 */
export type Row = Record<string, string | number | boolean | null>;

export interface QueryAuth {
  username?: string;
  password?: string;
  token?: string;
}

export async function queryInfluxQL(url: string, db: string, q: string, auth: QueryAuth = {}, timeoutMs = 30_000): Promise<Row[]> {
  const params = new URLSearchParams({ db, q, epoch: 'ms' });
  const headers: Record<string, string> = {};
  if (auth.token) headers.authorization = `Token ${auth.token}`;
  else if (auth.username) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  const res = await fetch(`${url.replace(/\/+$/, '')}/query?${params}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxQL query failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as {
    results?: { error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  };
  const rows: Row[] = [];
  for (const result of body.results ?? []) {
    if (result.error) throw new Error(`InfluxQL error: ${result.error}`);
    for (const s of result.series ?? []) {
      for (const values of s.values) {
        const row: Row = { ...(s.tags ?? {}) };
        s.columns.forEach((c, i) => (row[c] = values[i] as Row[string]));
        rows.push(row);
      }
    }
  }
  return rows;
}

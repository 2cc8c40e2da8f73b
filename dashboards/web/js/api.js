import { token } from './settings.js';

/** An API answer other than 2xx, carrying the platform's `{ code, message }`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** fetch() against the platform's API with the token (when one is set) as `Authorization: Bearer`. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.code ?? `HTTP_${res.status}`, data?.message ?? res.statusText);
  return data;
}

export const openAlerts = () => api('/api/v1/alerts?state=open&limit=500');
export const acknowledge = (id, by) => api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: { by } });
export const series = (device, metric, from) => api(`/api/v1/series?device=${encodeURIComponent(device)}&metric=${metric}&from=${from}`);
export const energy = (params) => api(`/api/v1/energy?${new URLSearchParams(params)}`);

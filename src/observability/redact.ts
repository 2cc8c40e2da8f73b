/**
 * Textual redaction of secrets that hide inside strings, where pino's path redaction (logger.ts
 * REDACT_PATHS, for fields such as `authorization`, `token`, `secret`, `password`) cannot reach:
 * - API tokens anywhere (`ppt_<id>_<secret>`): the id is kept (it is public, and says which
 *   token), the secret part replaced;
 * - passwords in URLs (`mqtt://user:password@host`);
 * - credentials in query strings (`?token=`, `&p=` of InfluxDB 1.x clients, `password=`,
 *   `secret=`, `access_token=`, `api_key=`);
 * - `Bearer …` / `Basic …` credentials quoted in messages.
 * Applied to every log line (logger.ts), to URLs shown by /readyz, and to audit details.
 */
export const REDACTED = '[redacted]';

const RULES: [RegExp, string][] = [
  [/\bppt_([0-9a-f]{12})_[A-Za-z0-9_-]{43}/g, `ppt_$1_${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/?#@"'\\]*):[^\s/?#@"'\\]*@/gi, `$1:${REDACTED}@`],
  [/([?&](?:token|access_token|p|password|passwd|pwd|secret|api_key|apikey|key)=)[^&\s"'#\\]+/gi, `$1${REDACTED}`],
  [/\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/g, `$1$2${REDACTED}`],
];

/** `text` with every secret it visibly carries replaced by `[redacted]`. */
export function scrubText(text: string): string {
  let out = text;
  for (const [re, by] of RULES) out = out.replace(re, by);
  return out;
}

/** A URL without its password and credential query parameters; non-URLs are scrubbed as text. */
export function redactUrl(url: string): string {
  return scrubText(url);
}

/**
 * A URL with every query value (and any fragment) hidden, whatever its name: webhook receivers
 * put secrets in parameters of their own choosing (`?token=`, `?sig=`, `?k=`), so no list of
 * names can be trusted. Scheme, host, port, path and parameter names stay, to tell URLs apart:
 * `https://hooks.example/in?token=[redacted]&site=[redacted]`. Not a URL: scrubbed as text.
 */
export function maskUrlQuery(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return scrubText(url);
  }
  const names = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`);
  const base = scrubText(`${u.protocol}//${u.username ? `${u.username}:${u.password}@` : ''}${u.host}${u.pathname}`);
  return `${base}${names.length > 0 ? `?${names.join('&')}` : u.search === '?' ? '?' : ''}${u.hash ? `#${REDACTED}` : ''}`;
}

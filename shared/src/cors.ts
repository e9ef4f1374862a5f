// CORS for browser front-ends on other origins, from an allow-list (CORS_ORIGINS). Tokens travel
// in the Authorization header, not cookies, so credentials are never allowed and the origin is
// always echoed, never `*`.

/** Request headers a page may send. */
const REQUEST_HEADERS = 'authorization, content-type, idempotency-key, traceparent, x-request-id'
/** Answer headers a page may read beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'x-request-id, traceparent, retry-after, location, www-authenticate'
/** How long a browser may keep a preflight's answer (Chromium keeps at most 2 hours). */
const MAX_AGE_SECONDS = 600

/** One origin as CORS_ORIGINS takes it: scheme, host, optional port; nothing after. */
const ORIGIN = 'https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*)(:[0-9]{1,5})?'
/** The shape of CORS_ORIGINS: empty, or origins separated by commas (spaces around them allowed). */
export const ORIGIN_LIST_PATTERN = `^\\s*$|^\\s*${ORIGIN}(\\s*,\\s*${ORIGIN})*\\s*$`

/**
 * The origins of a CORS_ORIGINS value as browsers send them in `Origin`: lower-case, without a
 * default port (`https://Shop.example.com:443` is `https://shop.example.com`).
 */
export const corsOrigins = (list: string): string[] =>
  list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => new URL(entry).origin)

export interface CorsPolicy {
  /** Headers for any answer to a request from `origin`: the CORS ones only if it is allowed. */
  headers(origin: string | null): Record<string, string>
  /** A preflight: OPTIONS with Origin and Access-Control-Request-Method, while CORS is on. */
  isPreflight(request: Request): boolean
  /** A preflight's 204 headers for the methods served at its path; undefined for an origin not allowed. */
  preflight(origin: string, methods: string[]): Record<string, string> | undefined
}

export function corsPolicy(origins: string[]): CorsPolicy {
  const allowed = new Set(origins)
  const enabled = allowed.size > 0
  // Whether CORS headers are sent depends on Origin: a cache must keep answers apart by it.
  const vary: Record<string, string> = enabled ? { vary: 'Origin' } : {}
  return {
    headers(origin) {
      if (!origin || !allowed.has(origin)) return vary
      return {
        ...vary,
        'access-control-allow-origin': origin,
        'access-control-expose-headers': EXPOSED_HEADERS,
      }
    },
    isPreflight: (request) =>
      enabled &&
      request.method === 'OPTIONS' &&
      request.headers.has('origin') &&
      request.headers.has('access-control-request-method'),
    preflight(origin, methods) {
      if (!allowed.has(origin)) return undefined
      return {
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        'access-control-allow-origin': origin,
        'access-control-allow-methods': methods.join(', '),
        'access-control-allow-headers': REQUEST_HEADERS,
        'access-control-max-age': String(MAX_AGE_SECONDS),
      }
    },
  }
}

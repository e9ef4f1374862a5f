// What createHttpApp needs to know of a service's routes: the body encodings each takes, and the
// methods served at a path (for 405 and Allow).

export const JSON_TYPE = 'application/json'
export const FORM_TYPE = 'application/x-www-form-urlencoded'

/** `application/json; charset=utf-8` -> `application/json`; no header -> ''. */
export const mediaType = (header: string | null) => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''

// A request made in process (tests, the embedded listener) has a body but no content-length.
export const hasBody = (request: Request) =>
  request.body !== null && request.headers.get('content-length') !== '0'

export interface RouteTable {
  /** Media types a route takes its body in. */
  bodyTypes(method: string, route: string): string[]
  /** Methods some route serves at this concrete path (for 405 and `Allow`). */
  methodsFor(path: string): string[]
  /**
   * Whether a route takes its JSON body as the raw text (`type: 'text'`, which Elysia keeps as text/plain): a webhook whose
   * signature is over the bytes as sent, which a parse and re-serialise would not keep.
   */
  raw(method: string, route: string): boolean
}

type RouteInfo = { method: string; path: string; hooks: { type?: unknown; parse?: { fn: unknown }[] } }

/** Elysia's parser names (a route's `type` or `parse`) as media types. */
const parserMediaTypes: Record<string, string> = {
  json: JSON_TYPE,
  [JSON_TYPE]: JSON_TYPE,
  urlencoded: FORM_TYPE,
  [FORM_TYPE]: FORM_TYPE,
}

export function routeTableOf(routes: RouteInfo[]): RouteTable {
  const declared = new Map<string, string[]>()
  const raw = new Set<string>()
  for (const r of routes) {
    const names = [r.hooks.type, ...(r.hooks.parse ?? []).map((p) => p.fn)].flat()
    if (names.includes('text') || names.includes('text/plain')) {
      raw.add(`${r.method} ${r.path}`)
      continue
    }
    const types = names.flatMap((n) => (typeof n === 'string' && parserMediaTypes[n]) || [])
    if (types.length) declared.set(`${r.method} ${r.path}`, types)
  }
  const literal = (text: string) => text.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')
  // ':id' matches one segment, as in the router.
  const patternOf = (path: string) => new RegExp(`^${literal(path).replace(/:[^/]+/g, '[^/]+')}$`)
  const patterns = routes.map((r) => ({ method: r.method, regex: patternOf(r.path) }))
  return {
    bodyTypes: (method, route) => declared.get(`${method} ${route}`) ?? [JSON_TYPE],
    raw: (method, route) => raw.has(`${method} ${route}`),
    methodsFor: (path) => [...new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method))],
  }
}

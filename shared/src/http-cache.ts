// HTTP caching of answers that are the same for every caller (the anonymous catalogue): a strong
// ETag, a 304 to a client that already holds it, and how long others may keep it.
import { Type } from '@sinclair/typebox'

/**
 * Anyone may keep the answer, and must ask again (If-None-Match) before each use: a page is never
 * shown staler than the server's own copy, which follows changes within one bus round trip. A
 * max-age would let a client show a page that much older than that.
 */
export const REVALIDATE_EACH_USE = 'public, no-cache'

/** Whether an If-None-Match header names `etag` (weakly compared, as RFC 9110 says for this header). */
export function noneMatch(header: string | null, etag: string): boolean {
  if (!header) return false
  const opaque = etag.replace(/^W\//, '')
  for (const part of header.split(',')) {
    const tag = part.trim()
    if (tag === '*' || tag.replace(/^W\//, '') === opaque) return true
  }
  return false
}

/** Elysia's `set`, as far as these answers need it. */
interface SetHeaders {
  headers: Record<string, string | number | undefined>
}

/**
 * A JSON answer anyone may keep and revalidate: 304 without a body when the client's If-None-Match
 * names `etag`, else `body`, with the headers `set` holds (the request id, CORS). A cache keeps
 * answers apart by Authorization as well as by what CORS already varies on.
 */
export function publicJson(
  request: Request,
  set: SetHeaders,
  body: string | Uint8Array | Blob,
  etag: string,
): Response {
  const headers: Record<string, string> = {}
  for (const name in set.headers) {
    const value = set.headers[name]
    if (value !== undefined) headers[name] = String(value)
  }
  headers.vary = headers.vary ? `${headers.vary}, Authorization` : 'Authorization'
  headers.etag = etag
  headers['cache-control'] = REVALIDATE_EACH_USE
  // Elysia copies a returned Response (body and headers) to add what `set` holds; this one already
  // has it all, so `set` is left empty and the Response goes out as it is.
  for (const name in set.headers) delete set.headers[name]
  if (noneMatch(request.headers.get('if-none-match'), etag))
    return new Response(null, { status: 304, headers })
  headers['content-type'] = 'application/json;charset=utf-8'
  return new Response(body, { headers })
}

/** The 304 of a route answered with publicJson, for its `response` map (the OpenAPI document). */
export const NotModified = {
  304: Type.Undefined({ description: 'Not modified: the copy named in If-None-Match is current' }),
}

import type { Cookie } from 'elysia'

/** The cookie a browser keeps its device token in; only the login routes under its path see it. */
export const DEVICE_COOKIE = 'mart_device'

type Jar = Record<string, Cookie<unknown>>

/** The device token a browser sent, if the cookie holds something that can be one. */
export function deviceTokenFrom(cookie: Jar): string | undefined {
  const value = cookie[DEVICE_COOKIE]?.value
  // Anything else (a cookie set by someone else, say) is no token, never a reason to refuse a login.
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined
}

/** Hands a browser its device token: HttpOnly, sent only to /api/auth, never cross-site. */
export function setDeviceCookie(
  cookie: Jar,
  token: string,
  opts: { maxAgeSeconds: number; secure: boolean },
) {
  cookie[DEVICE_COOKIE]?.set({
    value: token,
    httpOnly: true,
    sameSite: 'strict',
    path: '/api/auth',
    secure: opts.secure,
    maxAge: opts.maxAgeSeconds,
  })
}

/** The cookie in the OpenAPI document of the login routes (they read it without a schema, see deviceTokenFrom). */
export const deviceCookieParameter = {
  name: DEVICE_COOKIE,
  in: 'cookie' as const,
  required: false,
  description:
    'The device token of an earlier login (set by this route; HttpOnly). A device that logged in before is not locked out with the clients that did not.',
  schema: { type: 'string' as const },
}

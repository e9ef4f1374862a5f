// The generator's HTTP client: JSON in and out, over fetch (keep-alive), as a shop's client calls.

export interface Answer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: whatever JSON the API answered
  body: any
}

export interface CallInit {
  token?: string
  body?: unknown
  /** Sent as these exact bytes (a signed webhook). */
  raw?: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

export function client(base: string) {
  return async function call(method: string, path: string, init: CallInit = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...init.headers }
    let body: string | undefined
    if (init.raw !== undefined || init.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = init.raw ?? JSON.stringify(init.body)
    }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    const res = await fetch(`${base}${path}`, { method, headers, body, signal: init.signal })
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = text
    }
    return { status: res.status, body: parsed }
  }
}

export type Call = ReturnType<typeof client>

/** `call` that must answer `status`: its body; throws with what it answered instead. */
export async function expectStatus(
  status: number,
  call: Call,
  method: string,
  path: string,
  init?: CallInit,
) {
  const r = await call(method, path, init)
  if (r.status !== status) {
    throw new Error(`${method} ${path}: ${r.status}, not ${status}: ${JSON.stringify(r.body).slice(0, 300)}`)
  }
  return r.body
}

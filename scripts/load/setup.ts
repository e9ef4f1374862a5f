// What a run needs in the system before the clock starts: the admin's token, products of its own
// (a unique name per run, so that a shared system's other orders never touch their stock), and
// customers with tokens, enough of them that no one holds more order streams than the per-user
// limit allows.
import { type Call, expectStatus } from './client.ts'

/** A logged-in client's tokens: `token` is swapped for a fresh one before it expires (keepFresh). */
export interface Session {
  token: string
  refreshToken: string
  /** When to swap `token` for a fresh one, ms since the epoch: two thirds into its life. */
  refreshAt: number
}

export interface Customer extends Session {
  id: string
  username: string
}

export interface Product {
  id: string
  name: string
  initialStock: number
}

export interface World {
  runId: string
  admin: Session
  products: Product[]
  customers: Customer[]
  /** Words of the product names, for searches that find something. */
  words: string[]
}

const WORDS = ['lamp', 'chair', 'table', 'kettle', 'mug', 'shelf', 'rug', 'clock']
const PASSWORD = 'load-customer-password'
/** Far more than any run orders: a rejection for want of stock would be a failure of the check. */
export const STOCK = 1_000_000_000

const sessionOf = (body: { accessToken: string; refreshToken: string }): Session => {
  const claims = JSON.parse(Buffer.from(body.accessToken.split('.')[1] ?? '', 'base64url').toString())
  const [issued, expires] = [Number(claims.iat) * 1000, Number(claims.exp) * 1000]
  return {
    token: body.accessToken,
    refreshToken: body.refreshToken,
    refreshAt: issued + ((expires - issued) * 2) / 3,
  }
}

export async function login(call: Call, username: string, password: string): Promise<Session> {
  return sessionOf(await expectStatus(200, call, 'POST', '/api/auth/login', { body: { username, password } }))
}

/**
 * Refreshes each session's access token, as a client does, once less than a third of its life is
 * left: a run longer than the access token TTL (15 min by default) keeps going. Answers how to stop.
 */
export function keepFresh(call: Call, sessions: Session[]): () => void {
  let busy = false
  const timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      for (const s of sessions) {
        if (Date.now() < s.refreshAt) continue
        const body = await expectStatus(200, call, 'POST', '/api/auth/refresh', {
          body: { refreshToken: s.refreshToken },
        })
        Object.assign(s, sessionOf(body))
      }
    } catch (err) {
      console.error(`refreshing a session failed: ${err instanceof Error ? err.message : String(err)}`)
    } finally {
      busy = false
    }
  }, 5_000)
  return () => clearInterval(timer)
}

/** `n` tasks, at most `width` at a time. */
async function inBatches<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++
        out[i] = await task(i)
      }
    }),
  )
  return out
}

export async function prepare(
  call: Call,
  opts: { admin: { username: string; password: string }; products: number; customers: number },
): Promise<World> {
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`
  const admin = await login(call, opts.admin.username, opts.admin.password)
  const adminToken = admin.token
  const products = await inBatches(opts.products, 4, async (i) => {
    const name = `Load ${runId} ${WORDS[i % WORDS.length]} ${i}`
    const body = await expectStatus(201, call, 'POST', '/api/products', {
      token: adminToken,
      body: {
        name,
        description: `${name}: a product of load run ${runId}, made to be read many times`,
        price: { amount: 1000 + 37 * i, currency: 'EUR' },
        initialStock: STOCK,
      },
    })
    return { id: body.id as string, name, initialStock: STOCK }
  })
  const customers = await inBatches(opts.customers, 8, async (i) => {
    const username = `load${runId}c${i}`
    const body = await expectStatus(201, call, 'POST', '/api/auth/register', {
      body: { username, email: `${username}@mart.test`, password: PASSWORD },
    })
    return { id: body.id as string, username, ...(await login(call, username, PASSWORD)) }
  })
  // Inventory holds every product's stock once product.created went round the bus.
  for (const p of products) {
    const deadline = performance.now() + 60_000
    while ((await call('GET', `/api/inventory/${p.id}`, { token: adminToken })).status !== 200) {
      if (performance.now() > deadline) throw new Error(`inventory never heard of product ${p.id}`)
      await Bun.sleep(50)
    }
  }
  return { runId, admin, products, customers, words: WORDS }
}

// What a request of each scenario is. Reads are anonymous catalogue browsing (pages of 20, search,
// product pages) or a customer's own profile; orders are placed and followed (orders.ts). `mix`
// blends them as a shop's traffic is: mostly browsing, some signed-in reads, a few orders.
import type { Call } from './client.ts'
import { type OrderContext, type Pay, PLACED_TO_SETTLED, PLACED_TO_UNPAID, placeAndFollow } from './orders.ts'
import type { Recorder } from './recorder.ts'
import type { World } from './setup.ts'

export const scenarioNames = ['browse', 'me', 'order', 'checkout', 'mix'] as const
export type ScenarioName = (typeof scenarioNames)[number]

export interface Scenario {
  name: ScenarioName | 'hello'
  /** The metric that stands for it: reported first, and held to --p99-ms by --find-max. */
  headline: string
  run(i: number, at: number, rec: Recorder): Promise<void>
}

const READ_TIMEOUT_MS = 30_000

/** A GET whose answer is read to the end; its latency from `at`, under `metric` and the headline. */
async function read(rec: Recorder, url: string, at: number, metrics: string[], token?: string) {
  try {
    const res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(READ_TIMEOUT_MS),
    })
    await res.arrayBuffer()
    if (res.status !== 200) {
      rec.error(`GET ${metrics[0]}`, res.status)
      return
    }
    const ms = performance.now() - at
    for (const m of metrics) rec.record(m, ms)
  } catch (err) {
    rec.error(`GET ${metrics[0]}`, err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'failed')
  }
}

export const PAGE = 'page of 20'

export async function browse(base: string, call: Call, world: World): Promise<Scenario> {
  // The second page's cursor, so that some readers page on as shoppers do.
  const first = await call('GET', '/api/products?limit=20')
  const cursor = first.body?.nextCursor as string | null
  const headline = 'browse (any read)'
  return {
    name: 'browse',
    headline,
    run(i, at, rec) {
      const k = i % 10
      if (k < 6) {
        const next = k === 5 && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
        return read(rec, `${base}/api/products?limit=20${next}`, at, [PAGE, headline])
      }
      if (k < 8) {
        const q = world.words[i % world.words.length]
        return read(rec, `${base}/api/products?limit=20&q=${q}`, at, ['search', headline])
      }
      const p = world.products[i % world.products.length]
      return read(rec, `${base}/api/products/${p?.id}`, at, ['product page', headline])
    },
  }
}

export function me(base: string, world: World): Scenario {
  const headline = 'GET /api/users/me'
  return {
    name: 'me',
    headline,
    run: (i, at, rec) =>
      read(rec, `${base}/api/users/me`, at, [headline], world.customers[i % world.customers.length]?.token),
  }
}

export function order(ctx: OrderContext): Scenario {
  return { name: 'order', headline: PLACED_TO_UNPAID, run: (i, at, rec) => placeAndFollow(ctx, rec, i, at) }
}

/** Cash on delivery, by card, or one then the other (by card only when webhooks can be signed). */
export function checkout(ctx: OrderContext, pay: Pay | 'both'): Scenario {
  // One and then the other by checkout, not by request index: in `mix` every checkout's index is
  // 19 modulo 20, and would always pay the same way.
  let checkouts = 0
  const nextMethod = (): Pay => (pay === 'both' ? (checkouts++ % 2 === 0 ? 'cod' : 'stripe') : pay)
  return {
    name: 'checkout',
    headline: PLACED_TO_SETTLED,
    run: (i, at, rec) => placeAndFollow(ctx, rec, i, at, nextMethod()),
  }
}

/** Of every 20: 14 catalogue reads, 3 profile reads, 2 orders to unpaid, 1 checkout. */
export function mix(parts: {
  browse: Scenario
  me: Scenario
  order: Scenario
  checkout: Scenario
}): Scenario {
  const headline = 'operation (any, to its end)'
  return {
    name: 'mix',
    headline,
    async run(i, at, rec) {
      const k = i % 20
      const part = k < 14 ? parts.browse : k < 17 ? parts.me : k < 19 ? parts.order : parts.checkout
      await part.run(i, at, rec)
      rec.since(headline, at)
    },
  }
}

export function hello(base: string): Scenario {
  const headline = 'GET / (hello-world)'
  return { name: 'hello', headline, run: (_i, at, rec) => read(rec, `${base}/`, at, [headline]) }
}

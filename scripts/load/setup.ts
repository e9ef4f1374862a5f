// What a run needs in the system before the clock starts: the admin's token, products of its own
// (a unique name per run, so that a shared system's other orders never touch their stock), and
// customers with tokens, enough of them that no one holds more order streams than the per-user
// limit allows.
import { type Call, expectStatus } from './client.ts'

export interface Customer {
  id: string
  username: string
  token: string
}

export interface Product {
  id: string
  name: string
  initialStock: number
}

export interface World {
  runId: string
  adminToken: string
  products: Product[]
  customers: Customer[]
  /** Words of the product names, for searches that find something. */
  words: string[]
}

const WORDS = ['lamp', 'chair', 'table', 'kettle', 'mug', 'shelf', 'rug', 'clock']
const PASSWORD = 'load-customer-password'
/** Far more than any run orders: a rejection for want of stock would be a failure of the check. */
export const STOCK = 1_000_000_000

export async function login(call: Call, username: string, password: string): Promise<string> {
  const body = await expectStatus(200, call, 'POST', '/api/auth/login', { body: { username, password } })
  return body.accessToken as string
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
  const adminToken = await login(call, opts.admin.username, opts.admin.password)
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
    return { id: body.id as string, username, token: await login(call, username, PASSWORD) }
  })
  // Inventory holds every product's stock once product.created went round the bus.
  for (const p of products) {
    const deadline = performance.now() + 60_000
    while ((await call('GET', `/api/inventory/${p.id}`, { token: adminToken })).status !== 200) {
      if (performance.now() > deadline) throw new Error(`inventory never heard of product ${p.id}`)
      await Bun.sleep(50)
    }
  }
  return { runId, adminToken, products, customers, words: WORDS }
}

// The end of every run: does the system agree with what the clients did? Over the API as the admin:
// every order a client placed is there, in the state the client drove it to (none lost, none stuck
// on the way); every product's stock reconciles exactly with the orders (on hand less what left,
// reserved what the unpaid and confirmed orders hold), never oversold; and nothing sits in a
// dead-letter topic. The saga runs on after the last answer, so the check polls until it holds or
// the settle time is up, and then says every problem it still sees.
import { join } from 'node:path'
import { readDeadLetters, readJournalDeadLetters, topics } from '@mart/shared'
import type { Call } from './client.ts'
import type { Expected, Placed } from './orders.ts'
import type { Product } from './setup.ts'
import type { Target } from './target.ts'

/** The states whose goods are held on the shelf, and those whose goods left it. */
const HOLDING = ['unpaid', 'confirmed']
const GONE = ['paid', 'shipped', 'delivered']
const paymentOf: Record<Expected, string> = { unpaid: 'none', confirmed: 'pending', paid: 'paid' }

interface OrderView {
  id: string
  status: string
  payment: string
  lines: { productId: string; quantity: number }[]
}

export interface CheckInput {
  call: Call
  adminToken: string
  customerIds: string[]
  products: Product[]
  ledger: Placed[]
  target: Target
  settleMs: number
  /**
   * Off by `doctor` units from what the orders imply for the first product's stock: a check that
   * must fail (the smoke test's proof that the check can fail).
   */
  doctor?: number
}

export interface CheckResult {
  ok: boolean
  problems: string[]
  notes: string[]
  figures: {
    ordersPlaced: number
    /** By state, as the order service answers. */
    states: Record<string, number>
    /** Orders the server has that no client learned of (a POST that timed out on the client). */
    unknownToClients: number
    deadLetters: number | null
    settledAfterMs: number
  }
}

async function ordersOf(call: Call, token: string, userId: string): Promise<OrderView[]> {
  const out: OrderView[] = []
  for (let cursor: string | null = ''; cursor !== null; ) {
    const c = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
    const r = await call('GET', `/api/orders?userId=${userId}&limit=100${c}`, { token })
    if (r.status !== 200) throw new Error(`GET /api/orders?userId=${userId}: ${r.status}`)
    out.push(...r.body.items)
    cursor = r.body.nextCursor
  }
  return out
}

const inState = (o: Pick<OrderView, 'status' | 'payment'>, state: Expected) =>
  o.status === state && o.payment === paymentOf[state]

/** What is wrong with a placed order as the server has it, against where its client drove it. */
export function orderProblem(
  p: Placed,
  o: Pick<OrderView, 'status' | 'payment'> | undefined,
): string | undefined {
  if (!o) return `order ${p.id} (#${p.index}) was placed (202) and is gone: lost`
  if (inState(o, p.expect) || (p.maybe && inState(o, p.maybe))) return undefined
  const or = p.maybe ? ` (or, its last request unanswered, ${p.maybe}/${paymentOf[p.maybe]})` : ''
  return `order ${p.id} (#${p.index}) is ${o.status}/${o.payment}, the client drove it to ${p.expect}/${paymentOf[p.expect]}${or}`
}

/** Orders and stock against the ledger, once: the problems seen now. */
async function reconcile(i: CheckInput) {
  const problems: string[] = []
  const server = new Map<string, OrderView>()
  for (const id of i.customerIds)
    for (const o of await ordersOf(i.call, i.adminToken, id)) server.set(o.id, o)
  const known = new Set<string>()
  for (const p of i.ledger) {
    if (!p.id) continue
    known.add(p.id)
    const problem = orderProblem(p, server.get(p.id))
    if (problem) problems.push(problem)
  }
  let unknown = 0
  const states: Record<string, number> = {}
  for (const o of server.values()) {
    states[o.status] = (states[o.status] ?? 0) + 1
    if (known.has(o.id)) continue
    unknown++
    // A client that gave up before the answer: the order must still have gone through the saga.
    if (o.status === 'pending') problems.push(`order ${o.id}, which no client learned of, is stuck pending`)
  }
  for (const [n, product] of i.products.entries()) {
    let gone = 0
    let held = 0
    for (const o of server.values()) {
      const units = o.lines.filter((l) => l.productId === product.id).reduce((s, l) => s + l.quantity, 0)
      if (GONE.includes(o.status)) gone += units
      if (HOLDING.includes(o.status)) held += units
    }
    const r = await i.call('GET', `/api/inventory/${product.id}`, { token: i.adminToken })
    if (r.status !== 200) {
      problems.push(`GET /api/inventory/${product.id}: ${r.status}`)
      continue
    }
    const item = r.body as { onHand: number; reserved: number; available: number }
    const onHand = product.initialStock - gone + (n === 0 ? (i.doctor ?? 0) : 0)
    if (item.onHand !== onHand || item.reserved !== held) {
      problems.push(
        `product ${product.id}: onHand ${item.onHand} reserved ${item.reserved}, the orders imply ${onHand} and ${held}`,
      )
    }
    if (item.onHand < 0 || item.reserved > item.onHand || item.available < 0) {
      problems.push(`product ${product.id} oversold: onHand ${item.onHand} reserved ${item.reserved}`)
    }
  }
  return { problems, states, unknown }
}

/** Every dead letter of every topic, or null when the check cannot reach them (a --url target). */
async function deadLetters(target: Target): Promise<{ count: number | null; problems: string[] }> {
  const problems: string[] = []
  let count = 0
  if (target.kafka) {
    for (const topic of topics) {
      try {
        const letters = await readDeadLetters(target.kafka, topic)
        count += letters.length
        if (letters.length) problems.push(`${letters.length} message(s) in ${topic}.dlq`)
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        // A dead-letter topic nothing ever went to may not exist.
        if (!/does not host|unknown topic/i.test(msg)) problems.push(`reading ${topic}.dlq: ${msg}`)
      }
    }
    return { count, problems }
  }
  if (!target.dataDir) return { count: null, problems }
  const journal = join(target.dataDir, 'bus.db')
  for (const topic of topics) {
    const letters = readJournalDeadLetters(journal, topic)
    count += letters.length
    if (letters.length) problems.push(`${letters.length} message(s) in ${topic}.dlq`)
  }
  return { count, problems }
}

export async function check(i: CheckInput): Promise<CheckResult> {
  const t0 = performance.now()
  const notes: string[] = []
  let seen = await reconcile(i)
  while (seen.problems.length > 0 && performance.now() - t0 < i.settleMs) {
    await Bun.sleep(250)
    seen = await reconcile(i)
  }
  const settledAfterMs = performance.now() - t0
  const dlq = await deadLetters(i.target)
  if (dlq.count === null) {
    notes.push('dead letters not checked: give DATA_DIR (embedded) or KAFKA_BROKERS and KAFKA_TOPIC_PREFIX')
  }
  const failedPosts = i.ledger.filter((p) => !p.id).length
  if (failedPosts) notes.push(`${failedPosts} POST /api/orders refused or unanswered (counted as errors)`)
  if (seen.unknown) notes.push(`${seen.unknown} order(s) the server has that no client learned of`)
  const problems = [...seen.problems, ...dlq.problems]
  return {
    ok: problems.length === 0,
    problems,
    notes,
    figures: {
      ordersPlaced: i.ledger.filter((p) => p.id).length,
      states: seen.states,
      unknownToClients: seen.unknown,
      deadLetters: dlq.count,
      settledAfterMs,
    },
  }
}

// Broker outage: the whole system on a Kafka of its own (the shared one stays up for everyone else),
// under steady HTTP traffic through the gateway, and that Kafka stopped for 30 s. Meanwhile every
// read answers 200 and every write that only needs the service's own database answers as it always
// does (its events wait in the outbox); the writes that need what only the bus brings answer a clear
// problem, never a 500 or a hang; each service's /ready answers 503 saying the bus is away. Once
// Kafka is back everything catches up: the orders placed during the outage reach unpaid and hold
// their stock, their emails go out once each, the outboxes drain, /ready answers 200 again and no
// dead letter is left. Figures (requests served during the outage, time to catch up) are printed.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ServiceName, serviceNames } from '@mart/shared'
import { describeCaddy, describeKafka, describeStripeMock, tempDir, waitFor } from '@mart/shared/testing'
import Database from 'better-sqlite3'
import { freePortPair } from '../../scripts/ports.ts'
import { ADMIN, type Answer, type CallOptions, type System, startSystem } from '../test/system.ts'

const OUTAGE_MS = 30_000
/** A request that takes longer than this counts as hung. */
const HANG_MS = 15_000
/** Concurrent clients, each pausing between two requests: steady traffic (~15/s), not a load test. */
const WORKERS = 4
const PACE_MS = 250
const CATCH_UP_MS = 180_000
const PASSWORD = 'password-123'
const launcher = join(import.meta.dir, '..', '..', 'scripts', 'kafka.sh')

type Phase = 'before' | 'outage' | 'after'
interface Served {
  kind: string
  phase: Phase
  status: number
  contentType: string
  problemType?: string
}
interface Person {
  username: string
  email: string
  token: string
}
interface Placed {
  id: string
  number: string
  owner: Person
  productId: string
  quantity: number
}
interface ReadyAnswer {
  name: ServiceName
  phase: Phase
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: /ready's JSON as it came
  body: any
  at: number
}

/** The writes that cannot work while the bus is away, and what they answer then. */
const NEEDS_THE_BUS: Record<string, { status: number; type: string }> = {
  // The payment service hears of an order only through order.events.
  'POST /api/payments (order placed during the outage)': { status: 404, type: 'urn:mart:problem:not-found' },
  // The order service prices from its copy of the catalogue, fed by product.events.
  'POST /api/orders (product created during the outage)': {
    status: 422,
    type: 'urn:mart:problem:validation',
  },
}
/** The writes that only need the service's own database, and their usual answer. */
const LOCAL_WRITES: Record<string, number> = {
  'POST /api/auth/register': 201,
  'POST /api/auth/login': 200,
  'POST /api/orders': 202,
  'POST /api/products': 201,
  'POST /api/payments (cod, order unpaid before the outage)': 201,
}

describeKafka('broker outage', () =>
  describeStripeMock('broker outage', (stripeMockUrl) =>
    describeCaddy('broker outage: Kafka stopped for 30 s during traffic', () => {
      const tmp = tempDir('mart-outage-')
      const port = freePortPair('the outage suite’s Kafka')
      /** This suite's own broker (scripts/kafka.sh), stopped and started again on the same data. */
      const broker = (action: 'start' | 'stop', keepData = false) => {
        const r = Bun.spawnSync(['bash', launcher, action], {
          env: {
            ...process.env,
            KAFKA_PORT: String(port),
            KAFKA_HOME_DIR: join(tmp.dir, 'broker'),
            KAFKA_KEEP_DATA: keepData ? '1' : '0',
          },
          stdout: 'pipe',
          stderr: 'pipe',
        })
        if (r.exitCode !== 0) throw new Error(`kafka.sh ${action} failed: ${r.stderr.toString()}`)
      }
      let sys: System

      beforeAll(async () => {
        broker('start')
        sys = await startSystem({ brokers: [`127.0.0.1:${port}`], stripeMockUrl })
      }, 180_000)
      afterAll(async () => {
        await sys?.shutdown()
        broker('stop')
        tmp.cleanup()
      }, 120_000)

      test('HTTP keeps answering, /ready says the bus is away, and everything catches up when it returns', async () => {
        /** A request as a client sends it, given up after HANG_MS: a hang fails like a 500 (status 0). */
        const call = (method: string, path: string, c: CallOptions = {}): Promise<Answer> => {
          let timer: ReturnType<typeof setTimeout> | undefined
          const hung = new Promise<Answer>((resolve) => {
            timer = setTimeout(
              () => resolve({ status: 0, headers: new Headers(), body: undefined, text: 'hung' }),
              HANG_MS,
            )
          })
          return Promise.race([sys.call(method, path, c), hung]).finally(() => clearTimeout(timer))
        }
        const must = async (what: string, status: number, answer: Promise<Answer>) => {
          const r = await answer
          if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text}`)
          return r.body
        }
        const login = async (username: string, password: string) =>
          (await must('login', 200, call('POST', '/api/auth/login', { body: { username, password } })))
            .accessToken as string
        const root = await login(ADMIN.username, ADMIN.password)
        const query = <R>(name: ServiceName, sql: string, ...params: unknown[]) => {
          const db = new Database(join(sys.dir, `${name}.db`), { readonly: true })
          try {
            return db.prepare(sql).get(...params) as R | undefined
          } finally {
            db.close()
          }
        }
        const orderable = (productId: string) =>
          query<{ orderable: number }>('order', 'SELECT orderable FROM products WHERE id = ?', productId)
            ?.orderable === 1
        const paymentKnowsUnpaid = (orderId: string) =>
          query<{ state: string }>('payment', 'SELECT state FROM orders WHERE id = ?', orderId)?.state ===
          'unpaid'
        const statusOf = async (orderId: string) =>
          (await call('GET', `/api/orders/${orderId}`, { token: root })).body?.status as string | undefined

        let serial = 0
        const register = async () => {
          const username = `shopper${++serial}x${Math.random().toString(36).slice(2, 7)}`
          const person: Person = { username, email: `${username}@mart.test`, token: '' }
          const r = await call('POST', '/api/auth/register', {
            body: { username, email: person.email, password: PASSWORD },
          })
          return { r, person }
        }
        const newProduct = (name: string) =>
          call('POST', '/api/products', {
            token: root,
            body: {
              name,
              description: 'A desk lamp',
              price: { amount: 1999, currency: 'EUR' },
              initialStock: 1e6,
            },
          })
        const placeOrder = (owner: Person, productId: string, quantity: number) =>
          call('POST', '/api/orders', { token: owner.token, body: { lines: [{ productId, quantity }] } })
        const placedFrom = (r: Answer, owner: Person, productId: string, quantity: number): Placed => ({
          id: r.body.id,
          number: r.body.number,
          owner,
          productId,
          quantity,
        })

        // On a healthy bus: products anyone can order, customers, and orders unpaid (to pay during it).
        const products: string[] = []
        for (let i = 0; i < 3; i++) products.push((await must('create', 201, newProduct(`Lamp ${i}`))).id)
        for (const p of products)
          await waitFor(() => orderable(p), 'the order service to know the lamp', 30_000)
        const customers: Person[] = []
        for (let i = 0; i < 4; i++) {
          const { r, person } = await register()
          if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`)
          person.token = await login(person.username, PASSWORD)
          customers.push(person)
        }
        const placed: Placed[] = []
        const payable: Placed[] = []
        for (let i = 0; i < 6; i++) {
          const owner = customers[i % customers.length] as Person
          const productId = products[i % products.length] as string
          const r = await placeOrder(owner, productId, 1)
          if (r.status !== 202) throw new Error(`place: ${r.status} ${r.text}`)
          payable.push(placedFrom(r, owner, productId, 1))
        }
        placed.push(...payable)
        for (const o of payable) {
          await waitFor(async () => (await statusOf(o.id)) === 'unpaid', `order ${o.number} unpaid`, 30_000)
          await waitFor(() => paymentKnowsUnpaid(o.id), `payment to know ${o.number} unpaid`, 30_000)
        }

        // Steady traffic: each worker sends the next kind of request, round and round.
        let phase: Phase = 'before'
        let running = true
        const served: Served[] = []
        const samples = new Map<string, string>()
        const createdDuring: string[] = []
        const registeredDuring: Person[] = []
        const placedDuring: Placed[] = []
        let tick = 0
        const record = async (kind: string, answer: Promise<Answer>) => {
          const at = phase
          const r = await answer
          const contentType = r.headers.get('content-type') ?? ''
          const problemType = contentType.includes('problem+json') ? r.body?.type : undefined
          served.push({ kind, phase: at, status: r.status, contentType, problemType })
          if (at === 'outage' && !samples.has(`${kind} ${r.status}`))
            samples.set(`${kind} ${r.status}`, r.text.slice(0, 240))
          return r
        }
        const someone = () => customers[tick % customers.length] as Person
        const someLamp = () => products[tick % products.length] as string
        const kinds: Record<string, () => Promise<unknown>> = {
          'GET /api/products': () => record('GET /api/products', call('GET', '/api/products?limit=20')),
          'GET /api/products?q=': () =>
            record('GET /api/products?q=', call('GET', '/api/products?q=lamp&limit=10')),
          'GET /api/products/:id': () =>
            record('GET /api/products/:id', call('GET', `/api/products/${someLamp()}`)),
          'GET /api/orders/:id': () => {
            const o = placed[tick % placed.length] as Placed
            return record('GET /api/orders/:id', call('GET', `/api/orders/${o.id}`, { token: o.owner.token }))
          },
          'GET /api/notifications': () =>
            record(
              'GET /api/notifications',
              call('GET', '/api/notifications?limit=10', { token: someone().token }),
            ),
          'GET /api/inventory/:productId': () =>
            record(
              'GET /api/inventory/:productId',
              call('GET', `/api/inventory/${someLamp()}`, { token: root }),
            ),
          'POST /api/auth/register': async () => {
            const at = phase
            const { r, person } = await register()
            await record('POST /api/auth/register', Promise.resolve(r))
            if (r.status === 201 && at === 'outage') registeredDuring.push(person)
          },
          'POST /api/auth/login': () =>
            record(
              'POST /api/auth/login',
              call('POST', '/api/auth/login', { body: { username: someone().username, password: PASSWORD } }),
            ),
          'POST /api/orders': async () => {
            const at = phase
            const [owner, productId, quantity] = [someone(), someLamp(), 1 + (tick % 3)]
            const r = await record('POST /api/orders', placeOrder(owner, productId, quantity))
            if (r.status !== 202) return
            placed.push(placedFrom(r, owner, productId, quantity))
            if (at === 'outage') placedDuring.push(placedFrom(r, owner, productId, quantity))
          },
          'POST /api/products': async () => {
            const at = phase
            const r = await record('POST /api/products', newProduct(`Outage lamp ${tick}`))
            if (r.status === 201 && at === 'outage') createdDuring.push(r.body.id)
          },
          'POST /api/payments (cod, order unpaid before the outage)': async () => {
            const o = phase === 'outage' ? payable.shift() : undefined
            if (!o) return
            await record(
              'POST /api/payments (cod, order unpaid before the outage)',
              call('POST', '/api/payments', { token: o.owner.token, body: { orderId: o.id, method: 'cod' } }),
            )
          },
          'POST /api/payments (order placed during the outage)': async () => {
            const o = placedDuring.at(-1)
            if (!o || phase !== 'outage') return
            await record(
              'POST /api/payments (order placed during the outage)',
              call('POST', '/api/payments', { token: o.owner.token, body: { orderId: o.id, method: 'cod' } }),
            )
          },
          'POST /api/orders (product created during the outage)': async () => {
            const p = createdDuring.at(-1)
            if (!p || phase !== 'outage') return
            await record('POST /api/orders (product created during the outage)', placeOrder(someone(), p, 1))
          },
        }
        const names = Object.keys(kinds)
        const worker = async () => {
          while (running) {
            await (kinds[names[tick++ % names.length] as string] as () => Promise<unknown>)()
            await Bun.sleep(PACE_MS)
          }
        }

        // Each service's own /ready (not routed by the gateway), every half second throughout.
        const readiness: ReadyAnswer[] = []
        const askReady = async (name: ServiceName): Promise<ReadyAnswer> => {
          const at = phase
          try {
            const res = await fetch(`${sys.urlOf(name)}/ready`, { signal: AbortSignal.timeout(HANG_MS) })
            return { name, phase: at, status: res.status, body: await res.json(), at: performance.now() }
          } catch (err) {
            return { name, phase: at, status: 0, body: String(err), at: performance.now() }
          }
        }
        const watchReady = async () => {
          while (running) {
            readiness.push(...(await Promise.all(serviceNames.map(askReady))))
            await Bun.sleep(500)
          }
        }

        const traffic = [...Array.from({ length: WORKERS }, worker), watchReady()]
        await Bun.sleep(3000)
        phase = 'outage'
        const stopping = performance.now()
        broker('stop')
        const stopped = performance.now()
        await Bun.sleep(OUTAGE_MS)
        const starting = performance.now()
        broker('start', true)
        const back = performance.now()
        phase = 'after'
        await Bun.sleep(3000)
        running = false
        await Promise.all(traffic)

        // Catching up: each stage after the one before, timed from Kafka's return.
        const caughtUp: Record<string, number | 'never'> = {}
        let behind = false
        const stage = async (what: string, check: () => boolean | Promise<boolean>) => {
          if (behind) return
          try {
            await waitFor(check, what, CATCH_UP_MS)
            caughtUp[what] = Math.round(performance.now() - back)
          } catch {
            caughtUp[what] = 'never'
            behind = true
          }
        }
        const receivedMail = (o: Placed) =>
          sys.smtp.inbox.filter(
            (m) => m.to.includes(o.owner.email) && m.subject === `Order ${o.number} received`,
          )
        await stage('every order left pending', async () => {
          for (const o of placed) if ((await statusOf(o.id)) === 'pending') return false
          return true
        })
        await stage('every /ready 200 with its outbox drained', async () => {
          const answers = await Promise.all(serviceNames.map(askReady))
          return answers.every((a) => a.status === 200 && a.body?.outbox?.pending === 0)
        })
        await stage('the observer read every order placed during the outage', () =>
          placedDuring.every((o) => sys.published('order.placed', o.id).length > 0),
        )
        await stage('emails of the orders placed during the outage', () =>
          placedDuring.every((o) => receivedMail(o).length > 0),
        )
        await stage('welcome emails of those who registered during the outage', () =>
          registeredDuring.every((p) => sys.smtp.inbox.some((m) => m.to.includes(p.email))),
        )
        await stage('products created during the outage orderable', () => createdDuring.every(orderable))
        if (behind || process.env.MART_KEEP_LOGS) {
          // Kept for a post-mortem (MART_KEEP_LOGS=1 keeps them after a pass too): the system's directory goes with it.
          const kept = mkdtempSync(join(tmpdir(), 'mart-outage-logs-'))
          cpSync(join(sys.dir, 'logs'), kept, { recursive: true })
          cpSync(join(tmp.dir, 'broker', 'broker.log'), join(kept, 'broker.log'))
          const stuck: string[] = []
          for (const o of placed) {
            const status = await statusOf(o.id)
            if (status === 'pending') stuck.push(o.number)
          }
          console.log(`logs kept in ${kept}; orders still pending: ${stuck.join(' ') || 'none'}`)
          for (const a of await Promise.all(serviceNames.map(askReady)))
            console.log(`  ${a.name} /ready ${a.status} ${JSON.stringify(a.body)}`)
        }

        // Figures for the docs.
        const during = served.filter((s) => s.phase === 'outage')
        const readyDuring = readiness.filter((r) => r.phase === 'outage')
        console.log(
          `Kafka stopped in ${Math.round(stopped - stopping)} ms, away ${Math.round(back - stopped)} ms ` +
            `(its restart ${Math.round(back - starting)} ms); requests served meanwhile (${during.length}):`,
        )
        const byKind = new Map<string, Map<string, number>>()
        for (const s of during) {
          const key = `${s.status}${s.problemType ? ` ${s.problemType}` : ''}`
          const counts = byKind.get(s.kind) ?? new Map<string, number>()
          counts.set(key, (counts.get(key) ?? 0) + 1)
          byKind.set(s.kind, counts)
        }
        for (const [kind, counts] of byKind)
          console.log(`  ${kind}: ${[...counts].map(([k, n]) => `${n} x ${k}`).join(', ')}`)
        for (const [k, v] of samples) if (!/ 20\d$/.test(k)) console.log(`  e.g. ${k}: ${v}`)
        const firstAway = (n: ServiceName) =>
          readyDuring.find((r) => r.name === n && r.status === 503 && r.body?.bus === 'away')?.at
        console.log(
          `/ready said the bus is away (ms after Kafka was stopped): ${serviceNames
            .map((n) => `${n} ${Math.round((firstAway(n) ?? Number.NaN) - stopped)}`)
            .join(', ')}`,
        )
        const peak = (n: ServiceName) =>
          Math.max(0, ...readyDuring.filter((r) => r.name === n).map((r) => r.body?.outbox?.pending ?? 0))
        console.log(`outbox peak during the outage: ${serviceNames.map((n) => `${n} ${peak(n)}`).join(', ')}`)
        console.log(
          `caught up (ms after Kafka was back; ${placedDuring.length} orders, ${registeredDuring.length} ` +
            `registrations, ${createdDuring.length} products made during the outage): ${JSON.stringify(caughtUp)}`,
        )

        // While Kafka was away: every read 200, every local write its usual answer, the rest a
        // clear problem; nothing hung or failed with a 5xx, before, during or after.
        expect(served.filter((s) => s.status === 0 || s.status >= 500)).toEqual([])
        const reads = during.filter((s) => s.kind.startsWith('GET '))
        expect(reads.length).toBeGreaterThan(0)
        expect(reads.filter((s) => s.status !== 200)).toEqual([])
        for (const [kind, status] of Object.entries(LOCAL_WRITES)) {
          const these = during.filter((s) => s.kind === kind)
          expect(these.length).toBeGreaterThan(0)
          expect(these.filter((s) => s.status !== status)).toEqual([])
        }
        for (const [kind, { status, type }] of Object.entries(NEEDS_THE_BUS)) {
          const these = during.filter((s) => s.kind === kind)
          expect(these.length).toBeGreaterThan(0)
          for (const s of these) {
            expect(s).toMatchObject({ status, problemType: type, contentType: 'application/problem+json' })
          }
        }
        // Each service said so on its /ready while Kafka was away.
        for (const name of serviceNames) {
          expect(readyDuring.find((r) => r.name === name && r.status === 503)?.body).toMatchObject({
            detail: 'the bus is away',
            bus: 'away',
          })
        }

        // And once it was back, everything caught up, once.
        expect(caughtUp).not.toContainValue('never')
        for (const answer of await Promise.all(serviceNames.map(askReady))) {
          expect(answer).toMatchObject({
            status: 200,
            body: { status: 'ready', bus: 'connected', outbox: { pending: 0 } },
          })
        }
        for (const o of placed) expect(['unpaid', 'confirmed']).toContain((await statusOf(o.id)) ?? 'none')
        for (const o of placedDuring) expect(receivedMail(o)).toHaveLength(1)
        for (const p of registeredDuring)
          expect(sys.smtp.inbox.filter((m) => m.to.includes(p.email))).toHaveLength(1)
        const ids = sys.smtp.inbox.map((m) => m.messageId)
        expect(new Set(ids).size).toBe(ids.length)
        // Every order holds its stock, no more and no less: no order.placed was applied twice or lost.
        for (const productId of products) {
          const stock = await must('stock', 200, call('GET', `/api/inventory/${productId}`, { token: root }))
          const ordered = placed.filter((o) => o.productId === productId).reduce((n, o) => n + o.quantity, 0)
          expect({ onHand: stock.onHand, reserved: stock.reserved }).toEqual({
            onHand: 1e6,
            reserved: ordered,
          })
        }
        expect(sys.deadLetters()).toEqual([])
      }, 600_000)
    }),
  ),
)

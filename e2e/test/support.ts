// User, product and inventory as real services on one bus, each with its own SQLite file, called
// in process the way a client calls them over HTTP.
import {
  type Bus,
  dlqTopic,
  type RunningService,
  type ServiceDefinition,
  startService,
  topics,
} from '@mart/shared'
import { httpClient, tempDir, testLogger } from '@mart/shared/testing'
import { definition as inventory } from '../../inventory/src/index.ts'
import { definition as product } from '../../product/src/index.ts'
import { definition as user } from '../../user/src/index.ts'
import { ADMIN, userTestEnv } from '../../user/test/support.ts'

export const ROOT = ADMIN

// biome-ignore lint/suspicious/noExplicitAny: each service has its own schema and config types
const definitions: Record<'user' | 'product' | 'inventory', ServiceDefinition<any, any>> = {
  user,
  product,
  inventory,
}
type Name = keyof typeof definitions

export async function marketplace(bus: Bus) {
  const tmp = tempDir('mart-e2e-')
  await bus.ensureTopics(topics.flatMap((t) => [t, dlqTopic(t)]))
  const env = { NODE_ENV: 'test', DATA_DIR: tmp.dir, ...userTestEnv }
  const start = (name: Name) => startService(definitions[name], { env, bus, log: testLogger(name) })
  const services = {} as Record<Name, RunningService>
  for (const name of Object.keys(definitions) as Name[]) services[name] = await start(name)

  const call = (service: Name, method: string, path: string, body?: unknown, token?: string) =>
    httpClient(services[service].app)(method, path, { body, token })
  const login = async (username: string, password: string) => {
    const r = await call('user', 'POST', '/api/auth/login', { username, password })
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`)
    return r.body.accessToken as string
  }

  /** The seeded admin's access token. */
  const root = await login(ROOT.username, ROOT.password)

  /** A lamp in the catalogue, created by root, with `initialStock`: answers its id. */
  const createLamp = async (initialStock: number) => {
    const body = {
      name: 'Lamp',
      description: 'A desk lamp',
      price: { amount: 2999, currency: 'EUR' },
      initialStock,
    }
    const created = await call('product', 'POST', '/api/products', body, root)
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`)
    return created.body.id as string
  }

  return {
    call,
    login,
    root,
    createLamp,
    /** Stops a service and starts it again on the same database and bus. */
    async restart(name: Name) {
      await services[name].stop()
      services[name] = await start(name)
    },
    async stop() {
      for (const s of Object.values(services).reverse()) await s.stop()
      await bus.close()
      tmp.cleanup()
    },
  }
}

export type Marketplace = Awaited<ReturnType<typeof marketplace>>

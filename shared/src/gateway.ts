/** The six services: their ports (DESIGN.md "Ports") and the gateway path prefixes they own. */
export const services = {
  payment: { port: 8001, prefixes: ['/api/payments'] },
  inventory: { port: 8002, prefixes: ['/api/inventory'] },
  product: { port: 8003, prefixes: ['/api/products'] },
  order: { port: 8004, prefixes: ['/api/orders'] },
  user: { port: 8005, prefixes: ['/api/auth', '/api/users'] },
  notification: { port: 8006, prefixes: ['/api/notifications'] },
} as const

export type ServiceName = keyof typeof services
export const serviceNames = Object.keys(services) as ServiceName[]
export const GATEWAY_PORT = 8000

export interface Route {
  service: ServiceName
  /** The path to ask the service for. */
  path: string
}

const owns = (path: string, prefix: string) =>
  path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`)

/**
 * Where the gateway sends a path: API prefixes go as they are; `/api/<service>/docs...` goes to
 * that service's `/docs...`. The embedded runner and the Caddyfile follow this one table.
 */
export function routeFor(path: string, available: readonly ServiceName[] = serviceNames): Route | null {
  for (const service of available) {
    const { docs, prefixes } = prefixesOf.get(service) as { docs: string; prefixes: readonly string[] }
    if (owns(path, docs)) return { service, path: `/docs${path.slice(docs.length)}` }
    for (const p of prefixes) if (owns(path, p)) return { service, path }
  }
  return null
}

// Built once: the embedded listener asks routeFor on every request.
const prefixesOf = new Map<ServiceName, { docs: string; prefixes: readonly string[] }>(
  serviceNames.map((s) => [s, { docs: `/api/${s}/docs`, prefixes: services[s].prefixes }]),
)

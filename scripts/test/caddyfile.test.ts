// The Caddyfile routes exactly as shared/src/gateway.ts does: every prefix and every service's docs to
// that service's port, nothing else.
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { routeFor, serviceNames, services } from '@mart/shared'
import { caddyfilePath, caddyRoute, parseCaddyfile, proxyRoutes, readCaddyfile } from '../caddyfile.ts'

const tree = readCaddyfile()
const routes = proxyRoutes(tree)
const text = readFileSync(caddyfilePath, 'utf8')

/** Paths at and around every route of the table, and some that belong to no one. */
const samples = [
  ...serviceNames.flatMap((s) => [
    ...services[s].prefixes.flatMap((p) => [p, `${p}/`, `${p}/42`, `${p}/42/stream`, `${p}x`]),
    `/api/${s}/docs`,
    `/api/${s}/docs/json`,
    `/api/${s}/docsx`,
    `/api/${s}`,
  ]),
  '/',
  '/api',
  '/api/',
  '/docs/json',
  '/metrics',
]

describe('Caddyfile', () => {
  test('every path goes where shared/src/gateway.ts sends it, to the default port of that service', () => {
    for (const path of samples) {
      const want = routeFor(path)
      const got = caddyRoute(routes, path)
      expect({ path, route: got }).toEqual({
        path,
        route: want && { upstream: `127.0.0.1:${services[want.service].port}`, path: want.path },
      })
    }
  })

  test('each service has one upstream variable, <SERVICE>_UPSTREAM, and no route is extra', () => {
    const expected = serviceNames.flatMap((s) => [
      { variable: `${s.toUpperCase()}_UPSTREAM`, paths: [`/api/${s}/docs`, `/api/${s}/docs/*`] },
      { variable: `${s.toUpperCase()}_UPSTREAM`, paths: services[s].prefixes.flatMap((p) => [p, `${p}/*`]) },
    ])
    const got = routes.map((r) => ({ variable: r.variable, paths: r.paths }))
    const key = (r: { variable: string; paths: string[] }) => `${r.variable} ${r.paths.join(' ')}`
    expect(got.map(key).sort()).toEqual(expected.map(key).sort())
    for (const r of routes) {
      const service = r.variable.replace(/_UPSTREAM$/, '').toLowerCase() as keyof typeof services
      expect(r.upstream).toBe(`127.0.0.1:${services[service].port}`)
    }
  })

  test('/docs links every service’s docs; /health answers; the rest is as the issue asks', () => {
    for (const s of serviceNames) expect(text).toContain(`href="/api/${s}/docs"`)
    const site = tree.find((d) => d.tokens[0]?.startsWith('http'))
    const handles = site?.block.filter((d) => d.tokens[0] === 'handle').map((d) => d.tokens[1]) ?? []
    expect(handles).toContain('/health')
    expect(handles).toContain('/docs')
    expect(site?.tokens[0]).toBe('http://:{$GATEWAY_PORT:8000}')
    expect(site?.block.find((d) => d.tokens[0] === 'bind')?.tokens[1]).toBe('{$GATEWAY_HOST:127.0.0.1}')
    const global = tree[0]
    expect(global?.tokens).toEqual([])
    expect(global?.block.map((d) => d.tokens.join(' '))).toContain('admin off')
    const snippet = tree.find((d) => d.tokens[0] === '(upstream)')
    // Caddy flushes event streams by itself; `flush_interval -1` would keep a stream's upstream
    // open after its client left (e2e/test/gateway.test.ts).
    expect(snippet?.block.map((d) => d.tokens[0])).not.toContain('flush_interval')
  })

  test('the parser refuses what it does not understand', () => {
    expect(() => parseCaddyfile('a {\n')).toThrow('unclosed')
    expect(() => parseCaddyfile('}\n')).toThrow('unmatched')
    expect(() => proxyRoutes(parseCaddyfile('http://:1 {\n@a header X y\n}\n'))).toThrow('only path')
  })
})

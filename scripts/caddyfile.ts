// Reads the routes out of the root Caddyfile, so that a test can hold them against
// shared/src/gateway.ts. Only the subset the Caddyfile uses: blocks, named `path` matchers,
// `handle @matcher`, `uri strip_prefix` and `reverse_proxy {$VAR:host:port}`.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './services.ts'

export interface Directive {
  tokens: string[]
  block: Directive[]
}

/** Splits a Caddyfile into tokens per line; a quoted or backticked token may span lines. */
function lines(text: string): string[][] {
  const out: string[][] = []
  let line: string[] = []
  let i = 0
  const endLine = () => {
    if (line.length) out.push(line)
    line = []
  }
  while (i < text.length) {
    const c = text[i] as string
    if (c === '\n') {
      endLine()
      i++
    } else if (c === ' ' || c === '\t' || c === '\r') i++
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1)
      if (end < 0) throw new Error(`unterminated ${c} in the Caddyfile`)
      line.push(text.slice(i + 1, end))
      i = end + 1
    } else {
      let j = i
      while (j < text.length && !/\s/.test(text[j] as string)) j++
      line.push(text.slice(i, j))
      i = j
    }
  }
  endLine()
  return out
}

/** The Caddyfile as a tree: a line ending in `{` opens a block, a line `}` closes it. */
export function parseCaddyfile(text: string): Directive[] {
  const top: Directive[] = []
  const stack: Directive[][] = [top]
  for (const tokens of lines(text)) {
    const current = stack.at(-1) as Directive[]
    if (tokens.length === 1 && tokens[0] === '}') {
      if (stack.length === 1) throw new Error('unmatched } in the Caddyfile')
      stack.pop()
    } else if (tokens.at(-1) === '{') {
      const d = { tokens: tokens.slice(0, -1), block: [] }
      current.push(d)
      stack.push(d.block)
    } else current.push({ tokens, block: [] })
  }
  if (stack.length !== 1) throw new Error('unclosed { in the Caddyfile')
  return top
}

export interface ProxyRoute {
  /** The `path` matcher's patterns (`/api/orders`, `/api/orders/*`). */
  paths: string[]
  /** The upstream's placeholder variable and its default, from `{$VAR:host:port}`. */
  variable: string
  upstream: string
  stripPrefix?: string
}

/** Every `handle @matcher` of the site blocks that ends in a reverse_proxy. */
export function proxyRoutes(tree: Directive[]): ProxyRoute[] {
  const routes: ProxyRoute[] = []
  for (const site of tree.filter((d) => d.tokens[0]?.startsWith('http'))) {
    const matchers = new Map<string, string[]>()
    for (const d of site.block) {
      const [name, kind, ...args] = d.tokens
      if (name?.startsWith('@')) {
        if (kind !== 'path') throw new Error(`matcher ${name}: only path matchers are understood here`)
        matchers.set(name, args)
      }
    }
    for (const d of site.block) {
      if (d.tokens[0] !== 'handle' || !d.tokens[1]?.startsWith('@')) continue
      const paths = matchers.get(d.tokens[1])
      if (!paths) throw new Error(`handle ${d.tokens[1]}: no such matcher`)
      const proxy = d.block.find((x) => x.tokens[0] === 'reverse_proxy')
      if (!proxy) continue
      const m = /^\{\$([A-Z_]+):([^}]+)\}$/.exec(proxy.tokens[1] ?? '')
      if (!m) throw new Error(`handle ${d.tokens[1]}: upstream ${proxy.tokens[1]} is not {$VAR:host:port}`)
      const strip = d.block.find((x) => x.tokens[0] === 'uri' && x.tokens[1] === 'strip_prefix')
      routes.push({
        paths,
        variable: m[1] as string,
        upstream: m[2] as string,
        ...(strip ? { stripPrefix: strip.tokens[2] } : {}),
      })
    }
  }
  return routes
}

/** Caddy's path matching for the patterns used here: exact, or a prefix ending in `*`. */
const matches = (pattern: string, path: string) =>
  pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern

/**
 * Where the Caddyfile sends a path: the upstream and the path the upstream is asked for. Caddy keeps
 * `handle @named` blocks in the order written and the first match wins (`caddy adapt` shows it), which
 * is how `/api/inventory/docs` reaches the docs before the `/api/inventory` prefix takes it.
 */
export function caddyRoute(routes: ProxyRoute[], path: string): { upstream: string; path: string } | null {
  const route = routes.find((r) => r.paths.some((p) => matches(p, path)))
  if (!route) return null
  const strip = route.stripPrefix
  return { upstream: route.upstream, path: strip && path.startsWith(strip) ? path.slice(strip.length) : path }
}

export const caddyfilePath = join(root, 'Caddyfile')
export const readCaddyfile = () => parseCaddyfile(readFileSync(caddyfilePath, 'utf8'))

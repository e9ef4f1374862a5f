// A service's API documentation: the OpenAPI document at /docs/json and a Swagger UI page at
// /docs that loads its script and stylesheet from the service itself (no CDN, works offline).
import { dirname, join } from 'node:path'
import { toOpenAPISchema } from '@elysiajs/openapi'
import { type AnyElysia, Elysia } from 'elysia'
import { securitySchemes } from './auth.ts'
import { notFound } from './errors.ts'
import { registerFormats } from './events/formats.ts'
import { completeDocument } from './openapi-doc.ts'

// Loading @elysiajs/openapi replaced TypeBox's uuid and email checks with ones that build a Zod
// schema per call: ours again, before any route validates with them.
registerFormats()

export interface DocsInfo {
  title: string
  description: string
  version: string
  /** Extra OpenAPI document fields (security schemes, tags). */
  documentation?: Record<string, unknown>
}

const OPENAPI_VERSION = '3.1.2'

const swaggerUiDir = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
/** The files of swagger-ui-dist the page loads, and nothing else from that folder. */
const assets: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
}

type Route = AnyElysia['routes'][number]
type ParseHook = { fn: unknown }
/**
 * What the generator reads of an app. Elysia gives a plugin these for the app it is used in
 * (protected in its types; @elysiajs/openapi reads them the same way).
 */
interface RouteSource {
  getGlobalRoutes(): Route[]
  getGlobalDefinitions(): unknown
}

/**
 * The routes as the generator should see them. Every route has the factory's own body parser (a
 * function); the generator takes any function parser to mean "no JSON body" and leaves the body
 * out. Only the parsers a route names (`parse: 'urlencoded'`) say what it takes.
 */
const asDeclared = (route: Route): Route => {
  const named = ((route.hooks.parse ?? []) as ParseHook[]).filter((p) => typeof p.fn === 'string')
  return { ...route, hooks: { ...route.hooks, parse: named.length ? named : undefined } } as Route
}

/** The OpenAPI document of the app's routes, built on first use and again once routes were added. */
function documentOf(app: RouteSource, info: DocsInfo) {
  let cached: { routes: number; document: unknown } | null = null
  return () => {
    const routes = app.getGlobalRoutes()
    if (cached?.routes === routes.length) return cached.document
    const source = {
      getGlobalRoutes: () => routes.map(asDeclared),
      getGlobalDefinitions: () => app.getGlobalDefinitions(),
    }
    const { paths, components } = toOpenAPISchema(
      source as unknown as AnyElysia,
      // Routes with a dot (jwks.json) are API too, not static files.
      { staticFile: false },
      undefined,
      undefined,
      OPENAPI_VERSION,
    )
    const extra = (info.documentation ?? {}) as { components?: { schemas?: object } }
    const document = completeDocument({
      ...extra,
      openapi: OPENAPI_VERSION,
      info: { title: info.title, version: info.version, description: info.description },
      paths,
      components: {
        securitySchemes,
        ...extra.components,
        schemas: { ...components.schemas, ...extra.components?.schemas },
      },
    })
    cached = { routes: routes.length, document }
    return document
  }
}

/**
 * The Swagger UI page. Every URL in it is relative, so it works at /docs and behind
 * /api/<service>/docs; what the service says about itself is escaped on the way in.
 */
const page = (info: DocsInfo) => `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${Bun.escapeHTML(info.title)}</title>
  <meta name="description" content="${Bun.escapeHTML(info.description)}" />
  <link rel="stylesheet" href="docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.onload = () => {
      window.ui = SwaggerUIBundle({ url: 'docs/json', dom_id: '#swagger-ui' })
    }
  </script>
</body>
</html>`

/** /docs, /docs/json and the page's two assets, for every route of the app it is used in. */
export function apiDocs(info: DocsInfo) {
  const html = page(info)
  const hide = { detail: { hide: true } }
  const plugin = new Elysia()
  const document = documentOf(plugin as unknown as RouteSource, info)
  return plugin
    .get(
      '/docs',
      ({ request }) => {
        // The router serves /docs/ here too, where the page's relative URLs would miss: one
        // level up is /docs wherever the service is mounted.
        if (new URL(request.url).pathname.endsWith('/')) {
          return new Response(null, { status: 308, headers: { location: '../docs' } })
        }
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
      },
      hide,
    )
    .get('/docs/json', () => document(), hide)
    .get(
      '/docs/assets/:file',
      ({ params }) => {
        const type = assets[params.file]
        if (!type) throw notFound()
        return new Response(Bun.file(join(swaggerUiDir, params.file)), {
          headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' },
        })
      },
      hide,
    )
}

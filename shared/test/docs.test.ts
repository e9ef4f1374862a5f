// The /docs page: where it is served, what it loads, and what it says about the service.
import { describe, expect, test } from 'bun:test'
import { createHttpApp, startEmbedded } from '../src/index.ts'
import { tempDir, testLogger } from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'

const app = (description: string) =>
  createHttpApp({
    service: 'demo',
    title: 'Mart <demo> & "friends"',
    description,
    log: testLogger(),
    bodyLimit: 1024,
    ready: () => true,
  })

const attribute = (page: string, name: string) =>
  new RegExp(`<meta\\s+name="${name}"\\s+content="([^"]*)"`).exec(page)?.[1]
const unescapeHtml = (text: string) =>
  text
    .replaceAll('&quot;', '"')
    .replaceAll('&#x27;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')

describe('/docs', () => {
  test('the description and title reach the page escaped, quotes and all', async () => {
    const description = 'Log in with "Authorize" <script>alert(1)</script> & don\'t stop'
    const page = await (await app(description).handle(new Request('http://mart.test/docs'))).text()
    expect(page).not.toContain('<script>alert(1)')
    const meta = attribute(page, 'description')
    expect(meta).toBeDefined()
    expect(unescapeHtml(meta as string)).toBe(description)
    expect(unescapeHtml(/<title>([^<]*)<\/title>/.exec(page)?.[1] ?? '')).toBe('Mart <demo> & "friends"')
  })

  test('/docs/ (trailing slash) redirects to ../docs, which is right at /docs/ and behind a prefix', async () => {
    const res = await app('').handle(new Request('http://mart.test/docs/'))
    expect(res.status).toBe(308)
    const location = res.headers.get('location') as string
    expect(new URL(location, 'http://mart.test/docs/').pathname).toBe('/docs')
    expect(new URL(location, 'http://mart.test/api/user/docs/').pathname).toBe('/api/user/docs')
  })

  test('behind the embedded listener, /api/<service>/docs/ ends on a page whose assets load', async () => {
    const tmp = tempDir()
    const mart = await startEmbedded([definition], { env: { DATA_DIR: tmp.dir }, port: 0, log: testLogger() })
    try {
      const page = await fetch(`${mart.url}/api/product/docs/`)
      expect(page.redirected).toBe(true)
      expect(new URL(page.url).pathname).toBe('/api/product/docs')
      const html = await page.text()
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(
        (m) => new URL(m[1] as string, page.url),
      )
      expect(assets.length).toBe(2)
      for (const asset of assets) expect((await fetch(asset)).status).toBe(200)
    } finally {
      await mart.stop()
      tmp.cleanup()
    }
  })
})

// docs/events/asyncapi.json is generated from the catalog and the services' definitions: a change
// to what a service publishes or consumes that is not regenerated fails here.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { DiagnosticSeverity, Parser } from '@asyncapi/parser'
import { eventsDocFile, eventsDocument } from '../events-doc.ts'
import { root } from '../services.ts'

interface Doc {
  operations: Record<string, { action: string; messages: { $ref: string }[]; summary?: string }>
}

test(`${eventsDocFile} is the document the services generate (run \`bun run docs:events\`)`, async () => {
  // Compared as JSON: the script formats the file with Biome, and `bun run lint` checks that layout.
  const committed = await Bun.file(join(root, eventsDocFile)).json()
  expect(committed).toEqual(await eventsDocument())
})

test('lists what the services really consume: inventory reads payment.events and order.events', async () => {
  const { operations } = (await eventsDocument()) as Doc
  const received = (id: string) => operations[id]?.messages.map((m) => m.$ref.split('/').at(-1))
  expect(received('inventory.receive.payment.events')).toEqual(['payment.succeeded'])
  expect(received('inventory.receive.order.events')).toEqual([
    'order.placed',
    'order.rejected',
    'order.cancelled',
    'order.paid',
    'order.expired',
    'order.shipped',
  ])
  expect(received('product.receive.inventory.events')).toEqual(['stock.adjusted'])
  expect(received('user.receive.user.events')).toEqual(['user.sessions_revoked'])
  expect(operations['user.receive.user.events']?.summary).toBe('user.sessions_revoked (auth layer)')
})

test('is a valid AsyncAPI 3.0 document (@asyncapi/parser)', async () => {
  const { diagnostics } = await new Parser().parse(JSON.stringify(await eventsDocument()))
  const serious = diagnostics.filter(
    (d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning,
  )
  expect(serious).toEqual([])
})

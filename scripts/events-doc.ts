// The AsyncAPI document of this checkout: the event catalog, and who publishes and consumes what
// according to the definitions of the services present (scripts/services.ts).
import { platformConsumers } from '@mart/shared'
import { asyncApiDocument } from '@mart/shared/events/asyncapi'
import { loadDefinitions, root } from './services.ts'

export const eventsDocFile = 'docs/events/asyncapi.json'

export const eventsDocument = async (): Promise<object> =>
  asyncApiDocument(await loadDefinitions(), platformConsumers)

/** The document as `bun run docs:events` writes it: Biome's layout, so `bun run lint` accepts the file. */
export async function renderEventsDocument(): Promise<string> {
  const biome = Bun.spawnSync(['bunx', 'biome', 'format', `--stdin-file-path=${eventsDocFile}`], {
    cwd: root,
    stdin: Buffer.from(`${JSON.stringify(await eventsDocument(), null, 2)}\n`),
  })
  if (biome.exitCode !== 0) throw new Error(`biome format failed: ${biome.stderr.toString()}`)
  return biome.stdout.toString()
}

// Writes docs/events/asyncapi.json from the event catalog and the services' definitions (what each
// publishes and consumes); `--check` fails when the committed file is stale.
//   bun run docs:events            regenerate
//   bun run docs:events --check    exit 1 if docs/events/asyncapi.json differs from what they generate
import { join } from 'node:path'
import { eventsDocFile, renderEventsDocument } from './events-doc.ts'
import { root } from './services.ts'

const generated = await renderEventsDocument()
const target = Bun.file(join(root, eventsDocFile))

if (process.argv.includes('--check')) {
  const committed = (await target.exists()) ? await target.text() : null
  if (committed !== generated) {
    console.error(
      `${eventsDocFile} is ${committed === null ? 'missing' : 'stale'}: it does not match the event catalog ` +
        "and the services' definitions.\nRun `bun run docs:events` and commit the result.",
    )
    process.exit(1)
  }
  console.log(`${eventsDocFile} is up to date`)
} else {
  await Bun.write(target, generated)
  console.log(`wrote ${eventsDocFile}`)
}

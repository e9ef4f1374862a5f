// Writes docs/events/asyncapi.json from the event catalog; `--check` fails when the committed file is stale.
//   bun run docs:events            regenerate
//   bun run docs:events --check    exit 1 if docs/events/asyncapi.json differs from the catalog
// The JSON goes through the repo's Biome formatter, so `bun run lint` accepts the file as written.
import { asyncApiDocument } from '@mart/shared/events/asyncapi'

const root = new URL('..', import.meta.url).pathname
const file = 'docs/events/asyncapi.json'

function render(): string {
  const biome = Bun.spawnSync(['bunx', 'biome', 'format', `--stdin-file-path=${file}`], {
    cwd: root,
    stdin: Buffer.from(`${JSON.stringify(asyncApiDocument(), null, 2)}\n`),
  })
  if (biome.exitCode !== 0) throw new Error(`biome format failed: ${biome.stderr.toString()}`)
  return biome.stdout.toString()
}

const generated = render()
const target = Bun.file(root + file)

if (process.argv.includes('--check')) {
  const committed = (await target.exists()) ? await target.text() : null
  if (committed !== generated) {
    console.error(
      `${file} is ${committed === null ? 'missing' : 'stale'}: it does not match the event catalog ` +
        '(shared/src/events/catalog.ts).\nRun `bun run docs:events` and commit the result.',
    )
    process.exit(1)
  }
  console.log(`${file} is up to date`)
} else {
  await Bun.write(target, generated)
  console.log(`wrote ${file}`)
}

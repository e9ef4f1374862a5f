import { expect, test } from 'bun:test'
import { dirname, join, relative } from 'node:path'
import { Glob } from 'bun'

const src = join(import.meta.dir, '..', 'src')

/** The files of `shared/src` that a file there imports, relative to `shared/src`. */
async function localImports(file: string): Promise<string[]> {
  const code = await Bun.file(join(src, file)).text()
  return new Bun.Transpiler({ loader: 'ts' })
    .scanImports(code)
    .map((i) => i.path)
    .filter((p) => p.startsWith('.'))
    .map((p) => relative(src, join(src, dirname(file), p)))
}

// The events layer (catalog, envelope, codec, AsyncAPI) is the contract every other layer builds
// on: the bus, the database and the services import it, so it imports none of them.
test('shared/src/events imports nothing outside itself', async () => {
  const outside: string[] = []
  for (const file of new Glob('events/**/*.ts').scanSync({ cwd: src })) {
    for (const target of await localImports(file)) {
      if (!target.startsWith('events/')) outside.push(`${file} -> ${target}`)
    }
  }
  expect(outside).toEqual([])
})

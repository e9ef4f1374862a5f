// Rules of the code's shape that a reader relies on, checked over every present service's sources.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { Glob } from 'bun'
import { presentServices, root } from '../services.ts'

const sources = () =>
  presentServices().flatMap((name) =>
    [...new Glob('src/**/*.ts').scanSync({ cwd: join(root, name) })].map((f) => join(name, f)),
  )

// In a service `t` is a transaction handle (`tx(store, (t) => ...)`, `(event, t) => ...`); schemas
// are TypeBox's `Type` and the named helpers of @mart/shared, so `t` never means a schema builder.
test("no service imports Elysia's `t`: there, `t` is only ever a transaction", async () => {
  const importsT = /import\s*(type\s+)?\{[^}]*\bt\b[^}]*\}\s*from\s*['"]elysia['"]/
  const offenders: string[] = []
  for (const file of sources()) {
    if (importsT.test(await Bun.file(join(root, file)).text())) offenders.push(file)
  }
  expect(offenders).toEqual([])
})

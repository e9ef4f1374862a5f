// `bun run db:generate`: drizzle-kit migrations for every package with a drizzle.config.ts
// (shared's platform tables and each service's own). Pass --name <name> to name the migration.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { serviceNames } from '@mart/shared'
import { root } from './services.ts'

let failed = false
for (const pkg of ['shared', ...serviceNames]) {
  const dir = join(root, pkg)
  if (!existsSync(join(dir, 'drizzle.config.ts'))) continue
  console.log(`== ${pkg}`)
  const r = Bun.spawnSync(['bun', 'x', 'drizzle-kit', 'generate', ...process.argv.slice(2)], {
    cwd: dir,
    stdout: 'inherit',
    stderr: 'inherit',
  })
  failed ||= r.exitCode !== 0
}
process.exit(failed ? 1 : 0)

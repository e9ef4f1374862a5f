// Finds the services that exist in this checkout: a service is there once <name>/src/index.ts
// exports its `definition`.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type ServiceDefinition, type ServiceName, serviceNames } from '@mart/shared'

export const root = join(import.meta.dir, '..')

export const entryOf = (name: ServiceName) => join(root, name, 'src', 'index.ts')

export const presentServices = (): ServiceName[] => serviceNames.filter((n) => existsSync(entryOf(n)))

export async function loadDefinitions(): Promise<ServiceDefinition[]> {
  const defs: ServiceDefinition[] = []
  for (const name of presentServices()) {
    const mod = (await import(entryOf(name))) as { definition?: ServiceDefinition }
    if (!mod.definition) throw new Error(`${name}/src/index.ts does not export a definition`)
    defs.push(mod.definition)
  }
  return defs
}

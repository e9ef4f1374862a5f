// The user service: accounts, login, tokens and roles. The only holder of the signing key.
import { join } from 'node:path'
import {
  ensureDevKeys,
  loadPublicKeys,
  loadSigningKey,
  runStandalone,
  type ServiceDefinition,
} from '@mart/shared'
import { buildApp } from './app.ts'
import { UserConfig } from './config.ts'
import * as schema from './db/schema.ts'
import { Users } from './users.ts'

// A development-only admin password, printed once when it is used.
const DEV_ADMIN_PASSWORD = 'mart-admin-dev'

export const definition: ServiceDefinition<typeof schema, typeof UserConfig> = {
  name: 'user',
  config: UserConfig,
  schema,
  migrationsFolder: join(import.meta.dir, 'db', 'migrations'),
  publishes: ['user.events'],
  async build({ config, log, store, verifier, revocations, ready }) {
    const production = config.NODE_ENV === 'production'
    let privateKey = config.JWT_PRIVATE_KEY
    let publicKeys = config.JWT_PUBLIC_KEYS
    if (!privateKey || !publicKeys) {
      if (production) throw new Error('JWT_PRIVATE_KEY and JWT_PUBLIC_KEYS are required in production')
      const dev = await ensureDevKeys(config.DATA_DIR)
      privateKey ??= dev.privateKey
      publicKeys ??= dev.publicKeys
    }
    const signing = await loadSigningKey(privateKey)
    const { jwks } = await loadPublicKeys(publicKeys)
    if (!jwks.keys.some((k) => k.kid === signing.kid)) {
      throw new Error(`JWT_PUBLIC_KEYS has no key for the signing key (kid ${signing.kid})`)
    }

    const users = new Users(
      store,
      { memoryCost: config.PASSWORD_MEMORY_KIB, timeCost: config.PASSWORD_TIME_COST },
      config.REFRESH_TOKEN_TTL_DAYS * 86_400_000,
      { revocations, accessTtlMs: config.ACCESS_TOKEN_TTL_SECONDS * 1000 },
    )
    if (!config.ADMIN_PASSWORD && production && !users.hasAdmin()) {
      throw new Error('ADMIN_PASSWORD is required in production to seed the first admin')
    }
    const seeded = users.seedAdmin({
      username: config.ADMIN_USERNAME,
      email: config.ADMIN_EMAIL,
      password: config.ADMIN_PASSWORD ?? DEV_ADMIN_PASSWORD,
    })
    if (seeded && !config.ADMIN_PASSWORD) {
      // Printed, not logged: logs never carry a password, even a public development one.
      console.warn(
        `user: seeded the admin "${seeded.username}" with the development password "${DEV_ADMIN_PASSWORD}"; set ADMIN_PASSWORD`,
      )
    }
    return { app: buildApp({ config, log, users, verifier, signing, publicJwks: jwks, ready }) }
  },
}

if (import.meta.main) await runStandalone(definition)
